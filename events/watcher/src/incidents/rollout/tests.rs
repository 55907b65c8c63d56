//! Stalled rollouts of Deployments, StatefulSets and DaemonSets.

use std::time::Duration;

use lastmile_events::IncidentStatus;

use super::*;
use crate::TrackerConfig;

fn deployment(progressing: &str, reason: &str) -> Deployment {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "uid": "d-1", "generation": 4},
        "spec": {"progressDeadlineSeconds": 600, "selector": {"matchLabels": {"app": "checkout"}},
                 "template": {"metadata": {"labels": {"app": "checkout"}}, "spec": {"containers": [{"name": "checkout", "image": "registry.example.com/shop/checkout:2.3.0"}]}}},
        "status": {
            "observedGeneration": 4, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "unavailableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": progressing, "reason": reason,
                 "message": "ReplicaSet \"checkout-6d9f7b8c5\" has timed out progressing."}
            ]
        }
    }))
    .unwrap()
}

fn at(min: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 3, 1, 10, min, 0).unwrap()
}

#[test]
fn progress_deadline_exceeded_is_one_runtime_incident_per_deployment_until_it_progresses() {
    let mut t = Tracker::new(TrackerConfig {
        first_publish_wait: Duration::ZERO,
        ..Default::default()
    });
    assert!(
        t.observe_deployment(&deployment("True", "ReplicaSetUpdated"), at(1))
            .is_empty()
    );
    let out = t.observe_deployment(&deployment("False", "ProgressDeadlineExceeded"), at(11));
    assert_eq!(out.len(), 1, "{out:#?}");
    let inc = &out[0];
    assert_eq!(inc.family, IncidentFamily::Runtime);
    let owner = inc.owner.as_ref().unwrap();
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Deployment", "checkout")
    );
    // The same key its pods' Runtime incident would have.
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "checkout-6d9f7b8c5-7xk2q".into(),
        ..Default::default()
    };
    assert_eq!(
        inc.key,
        Incident::key_for(IncidentFamily::Runtime, &pod, Some(owner))
    );
    let out = t.observe_deployment(&deployment("True", "NewReplicaSetAvailable"), at(15));
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].status, IncidentStatus::Resolved);
}

#[test]
fn a_condition_about_an_older_generation_is_not_a_stuck_rollout() {
    let mut d = deployment("False", "ProgressDeadlineExceeded");
    d.metadata.generation = Some(5);
    assert_eq!(rollout_stuck(&d), None);
    d.metadata.generation = Some(4);
    assert!(
        rollout_stuck(&d)
            .unwrap()
            .starts_with("ProgressDeadlineExceeded: ReplicaSet \"checkout-6d9f7b8c5\"")
    );
}

fn statefulset(updated: i32, ready: i32, current: &str, update: &str) -> StatefulSet {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "ledger", "namespace": "shop", "uid": "s-1", "generation": 2},
        "spec": {"replicas": 3, "serviceName": "ledger", "selector": {"matchLabels": {"app": "ledger"}},
                 "template": {"metadata": {"labels": {"app": "ledger"}}, "spec": {"containers": [{"name": "ledger", "image": "registry.example.com/shop/ledger:1.4.0"}]}}},
        "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": ready, "currentReplicas": 3 - updated,
                   "updatedReplicas": updated, "currentRevision": current, "updateRevision": update}
    }))
    .unwrap()
}

fn daemonset(updated: i32, ready: i32, unavailable: i32) -> DaemonSet {
    let mut status = serde_json::json!({
        "observedGeneration": 7, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
        "numberMisscheduled": 0, "numberReady": ready, "updatedNumberScheduled": updated,
        "numberAvailable": 4 - unavailable
    });
    if unavailable > 0 {
        status["numberUnavailable"] = unavailable.into();
    }
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "node-agent", "namespace": "ops", "uid": "ds-1", "generation": 7},
        "spec": {"selector": {"matchLabels": {"app": "node-agent"}},
                 "template": {"metadata": {"labels": {"app": "node-agent"}}, "spec": {"containers": [{"name": "agent", "image": "registry.example.com/ops/agent:3.1"}]}}},
        "status": status
    }))
    .unwrap()
}

#[test]
fn statefulset_lags_until_every_replica_is_on_the_update_revision_and_ready() {
    assert_eq!(
        statefulset_lagging(&statefulset(1, 2, "ledger-5c8d", "ledger-7f9b")),
        Some("1 of 3 pods on revision ledger-7f9b, 2 Ready".to_owned())
    );
    // All updated but one not Ready: still lagging.
    assert!(statefulset_lagging(&statefulset(3, 2, "ledger-7f9b", "ledger-7f9b")).is_some());
    // The controller flips currentRevision last.
    assert!(statefulset_lagging(&statefulset(3, 3, "ledger-5c8d", "ledger-7f9b")).is_some());
    assert_eq!(
        statefulset_lagging(&statefulset(3, 3, "ledger-7f9b", "ledger-7f9b")),
        None
    );
    // Not yet observed: the status is about the previous spec.
    let mut s = statefulset(1, 2, "ledger-5c8d", "ledger-7f9b");
    s.metadata.generation = Some(3);
    assert_eq!(statefulset_lagging(&s), None);
}

#[test]
fn on_delete_statefulset_only_counts_readiness() {
    let mut s = statefulset(0, 3, "ledger-5c8d", "ledger-7f9b");
    s.spec.update_strategy = Some(k8s_openapi::api::apps::v1::StatefulSetUpdateStrategy {
        type_: Some("OnDelete".into()),
        ..Default::default()
    });
    assert_eq!(statefulset_lagging(&s), None);
    s.status.as_mut().unwrap().ready_replicas = Some(1);
    assert_eq!(
        statefulset_lagging(&s).as_deref(),
        Some("1 of 3 pods Ready")
    );
}

#[test]
fn daemonset_lags_while_pods_are_not_updated_or_unavailable() {
    assert_eq!(
        daemonset_lagging(&daemonset(2, 3, 1)).as_deref(),
        Some("2 of 4 pods updated, 3 Ready, 1 unavailable")
    );
    assert!(daemonset_lagging(&daemonset(4, 3, 1)).is_some());
    // A status without numberUnavailable (the API omits zero) and everything updated.
    assert_eq!(daemonset_lagging(&daemonset(4, 4, 0)), None);
}

#[test]
fn lagging_statefulset_opens_one_runtime_incident_after_rollout_after_and_resolves_when_converged()
{
    let mut t = Tracker::new(TrackerConfig {
        first_publish_wait: Duration::ZERO,
        rollout_after: Duration::from_secs(300),
        ..Default::default()
    });
    let lagging = statefulset(1, 2, "ledger-5c8d", "ledger-7f9b");
    assert!(t.observe_statefulset(&lagging, at(0)).is_empty());
    assert!(t.tick(at(4)).is_empty(), "not yet past rollout_after");
    // Progress on the counts does not restart the clock.
    assert!(
        t.observe_statefulset(&statefulset(2, 2, "ledger-5c8d", "ledger-7f9b"), at(4))
            .is_empty()
    );
    let out = t.tick(at(5));
    assert_eq!(out.len(), 1, "{out:#?}");
    let inc = &out[0];
    assert_eq!(inc.family, IncidentFamily::Runtime);
    let owner = inc.owner.as_ref().unwrap();
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("StatefulSet", "ledger")
    );
    // Keyed as its pods' incident is (a StatefulSet owns its pods directly).
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "ledger-2".into(),
        ..Default::default()
    };
    assert_eq!(
        inc.key,
        Incident::key_for(IncidentFamily::Runtime, &pod, Some(owner))
    );
    assert!(t.tick(at(6)).is_empty(), "no re-publish without a change");
    let out = t.observe_statefulset(&statefulset(3, 3, "ledger-7f9b", "ledger-7f9b"), at(8));
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(out[0].status, IncidentStatus::Resolved);
}

#[test]
fn a_daemonset_that_converges_before_rollout_after_is_never_an_incident() {
    let mut t = Tracker::new(TrackerConfig {
        first_publish_wait: Duration::ZERO,
        rollout_after: Duration::from_secs(300),
        ..Default::default()
    });
    assert!(t.observe_daemonset(&daemonset(1, 3, 1), at(0)).is_empty());
    assert!(t.observe_daemonset(&daemonset(4, 4, 0), at(3)).is_empty());
    assert!(t.tick(at(20)).is_empty());
    // Lagging again later starts a new clock.
    assert!(t.observe_daemonset(&daemonset(3, 3, 1), at(21)).is_empty());
    assert!(t.tick(at(25)).is_empty());
    let out = t.tick(at(26));
    assert_eq!(out.len(), 1, "{out:#?}");
    let out = t.forget_rollout("DaemonSet", "ops", "node-agent", at(27));
    assert_eq!(out[0].status, IncidentStatus::Resolved, "{out:#?}");
}
