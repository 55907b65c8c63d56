//! The rollout decision on `kubectl get -o json` shaped objects, the messy ones included.

use super::*;
use serde_json::json;

fn dep(v: serde_json::Value) -> Deployment {
    serde_json::from_value(v).unwrap()
}

fn sts(v: serde_json::Value) -> StatefulSet {
    serde_json::from_value(v).unwrap()
}

fn ds(v: serde_json::Value) -> DaemonSet {
    serde_json::from_value(v).unwrap()
}

/// A Deployment of 3 replicas after a finished rollout, as the API server returns it.
fn web_done() -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "d-1", "generation": 4,
            "labels": {"app": "web"},
            "annotations": {
                "deployment.kubernetes.io/revision": "4",
                "kubectl.kubernetes.io/last-applied-configuration": "{\"big\":true}",
                "lastmile.dev/ci-run": "github/991"
            },
            "managedFields": [{"manager": "kubectl"}]},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:1.4.3",
                    "env": [{"name": "TOKEN", "value": "s3cr3t"}]}]}}},
        "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3,
            "readyReplicas": 3, "availableReplicas": 3,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": "ReplicaSet \"web-7d9f8b6c5d\" has successfully progressed."}
            ]}
    })
}

#[test]
fn finished_deployment_is_complete_with_kubectls_line() {
    let r = deployment(&dep(web_done()));
    assert_eq!(
        r,
        Rollout::Complete("deployment \"web\" successfully rolled out".into())
    );
}

#[test]
fn deployment_whose_new_generation_is_not_observed_waits() {
    let mut v = web_done();
    v["metadata"]["generation"] = json!(5);
    let r = deployment(&dep(v));
    assert_eq!(r.state(), "waiting");
    assert!(r.text().contains("spec update to be observed"), "{r:?}");
}

#[test]
fn deployment_without_status_waits() {
    let mut v = web_done();
    v.as_object_mut().unwrap().remove("status");
    assert_eq!(deployment(&dep(v)).state(), "waiting");
}

#[test]
fn deployment_with_empty_status_and_no_replicas_waits_for_the_default_one() {
    // Just created: the controller wrote observedGeneration and nothing else; spec.replicas
    // left out (the API server defaults it to 1).
    let mut v = web_done();
    v["spec"].as_object_mut().unwrap().remove("replicas");
    v["status"] = json!({"observedGeneration": 4});
    let r = deployment(&dep(v));
    assert_eq!(
        r.text(),
        "Waiting for deployment \"web\" rollout to finish: 0 out of 1 new replicas have been updated..."
    );
}

#[test]
fn deployment_with_old_pods_left_waits_for_their_termination() {
    let mut v = web_done();
    v["status"]["replicas"] = json!(4);
    let r = deployment(&dep(v));
    assert!(
        r.text().contains("1 old replicas are pending termination"),
        "{r:?}"
    );
}

#[test]
fn deployment_with_updated_but_unavailable_pods_waits() {
    let mut v = web_done();
    v["status"]["availableReplicas"] = json!(2);
    let r = deployment(&dep(v));
    assert!(
        r.text().contains("2 of 3 updated replicas are available"),
        "{r:?}"
    );
}

#[test]
fn deployment_past_its_progress_deadline_is_stalled_not_complete() {
    let mut v = web_done();
    v["status"] = json!({"observedGeneration": 4, "replicas": 4, "updatedReplicas": 1,
        "availableReplicas": 3, "unavailableReplicas": 1,
        "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
            "message": "ReplicaSet \"web-5c8d\" has timed out progressing."}]});
    let r = deployment(&dep(v));
    assert_eq!(
        r,
        Rollout::Stalled(
            "ProgressDeadlineExceeded: ReplicaSet \"web-5c8d\" has timed out progressing.".into()
        )
    );
}

#[test]
fn deployment_scaled_to_zero_is_complete() {
    let mut v = web_done();
    v["spec"]["replicas"] = json!(0);
    v["status"] = json!({"observedGeneration": 4});
    assert!(deployment(&dep(v)).is_complete());
}

fn db(strategy: serde_json::Value, status: serde_json::Value) -> StatefulSet {
    sts(json!({
        "metadata": {"name": "db", "namespace": "shop", "generation": 2},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}},
            "updateStrategy": strategy},
        "status": status
    }))
}

#[test]
fn statefulset_on_the_update_revision_and_ready_is_complete() {
    let s = db(
        json!({"type": "RollingUpdate"}),
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 3,
            "currentRevision": "db-6f7", "updateRevision": "db-6f7"}),
    );
    assert!(statefulset(&s).is_complete(), "{:?}", statefulset(&s));
}

#[test]
fn statefulset_mid_update_waits_for_the_revision() {
    let s = db(
        json!({"type": "RollingUpdate"}),
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 1,
            "currentRevision": "db-5a1", "updateRevision": "db-6f7"}),
    );
    assert_eq!(
        statefulset(&s).text(),
        "waiting for statefulset rolling update to complete 1 pods at revision db-6f7..."
    );
}

#[test]
fn statefulset_partition_completes_when_pods_above_it_are_updated() {
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
    let done = db(
        strategy.clone(),
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 1,
            "currentRevision": "db-5a1", "updateRevision": "db-6f7"}),
    );
    assert!(statefulset(&done).is_complete());
    let not = db(
        strategy,
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 0,
            "currentRevision": "db-5a1", "updateRevision": "db-6f7"}),
    );
    assert_eq!(statefulset(&not).state(), "waiting");
}

#[test]
fn statefulset_with_unready_pods_or_unobserved_generation_waits() {
    let unready = db(
        json!({"type": "RollingUpdate"}),
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 1,
            "currentRevision": "db-6f7", "updateRevision": "db-6f7"}),
    );
    assert_eq!(
        statefulset(&unready).text(),
        "Waiting for 2 pods to be ready..."
    );
    let old = db(
        json!({"type": "RollingUpdate"}),
        json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 3,
            "currentRevision": "db-6f7", "updateRevision": "db-6f7"}),
    );
    assert!(
        statefulset(&old)
            .text()
            .contains("spec update to be observed")
    );
    // Status with replicas only (the controller has not reported a generation yet).
    let bare = db(json!({"type": "RollingUpdate"}), json!({"replicas": 0}));
    assert_eq!(statefulset(&bare).state(), "waiting");
}

#[test]
fn on_delete_statefulset_is_complete_when_ready_whatever_the_revision() {
    let s = db(
        json!({"type": "OnDelete"}),
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 0,
            "currentRevision": "db-5a1", "updateRevision": "db-6f7"}),
    );
    assert!(statefulset(&s).is_complete());
}

fn agent(strategy: &str, status: serde_json::Value) -> DaemonSet {
    ds(json!({
        "metadata": {"name": "agent", "namespace": "kube-system", "generation": 7},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
            "template": {"spec": {"containers": [{"name": "a", "image": "agent:2"}]}},
            "updateStrategy": {"type": strategy}},
        "status": status
    }))
}

#[test]
fn daemonset_rollout_decisions() {
    let done = agent(
        "RollingUpdate",
        json!({"observedGeneration": 7, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
            "numberMisscheduled": 0, "numberReady": 4, "updatedNumberScheduled": 4, "numberAvailable": 4}),
    );
    assert_eq!(
        daemonset(&done),
        Rollout::Complete("daemon set \"agent\" successfully rolled out".into())
    );
    let updating = agent(
        "RollingUpdate",
        json!({"observedGeneration": 7, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
            "numberMisscheduled": 0, "numberReady": 4, "updatedNumberScheduled": 2, "numberAvailable": 4}),
    );
    assert!(daemonset(&updating).text().contains("2 out of 4 new pods"));
    // numberAvailable left out (0 available): waits.
    let unavailable = agent(
        "RollingUpdate",
        json!({"observedGeneration": 7, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
            "numberMisscheduled": 0, "numberReady": 0, "updatedNumberScheduled": 4}),
    );
    assert!(
        daemonset(&unavailable)
            .text()
            .contains("0 of 4 updated pods")
    );
    let old = agent(
        "RollingUpdate",
        json!({"observedGeneration": 6, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
            "numberMisscheduled": 0, "numberReady": 4, "updatedNumberScheduled": 4, "numberAvailable": 4}),
    );
    assert_eq!(daemonset(&old).state(), "waiting");
    let on_delete = agent(
        "OnDelete",
        json!({"observedGeneration": 7, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
            "numberMisscheduled": 0, "numberReady": 4, "updatedNumberScheduled": 0, "numberAvailable": 4}),
    );
    assert!(daemonset(&on_delete).is_complete());
}

#[test]
fn compact_deployment_keeps_the_decision_and_drops_template_and_bookkeeping() {
    let full = dep(web_done());
    let c = compact_deployment(&full);
    assert_eq!(deployment(&c), deployment(&full));
    let json = serde_json::to_string(&c).unwrap();
    assert!(!json.contains("s3cr3t"), "{json}");
    assert!(!json.contains("last-applied"), "{json}");
    assert!(!json.contains("managedFields"), "{json}");
    assert!(!json.contains("ghcr.io"), "{json}");
    assert_eq!(c.metadata.uid.as_deref(), Some("d-1"));
    assert_eq!(
        crate::facts::ci_run_of(&c.metadata).map(|r| r.run_id),
        Some("991".to_owned())
    );
    // The observation round-trips through its JSON contract.
    let obs = K8sObservation::Deployment(c);
    let back: K8sObservation = serde_json::from_str(&serde_json::to_string(&obs).unwrap()).unwrap();
    assert_eq!(back.kind(), "Deployment");
    let (meta, r) = back.rollout().unwrap();
    assert_eq!(meta.name.as_deref(), Some("web"));
    assert!(r.is_complete());
}

#[test]
fn compact_statefulset_and_daemonset_keep_the_decision() {
    let s = db(
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}),
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3, "updatedReplicas": 1,
            "currentRevision": "db-5a1", "updateRevision": "db-6f7"}),
    );
    assert_eq!(statefulset(&compact_statefulset(&s)), statefulset(&s));
    let d = agent(
        "OnDelete",
        json!({"observedGeneration": 7, "desiredNumberScheduled": 4, "currentNumberScheduled": 4,
            "numberMisscheduled": 0, "numberReady": 4, "numberAvailable": 3}),
    );
    assert_eq!(daemonset(&compact_daemonset(&d)), daemonset(&d));
    assert!(K8sObservation::Job(Default::default()).rollout().is_none());
}
