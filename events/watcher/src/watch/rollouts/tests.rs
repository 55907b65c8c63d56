use super::*;
use serde_json::json;

fn web(generation: i64, observed: i64, available: i32) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "generation": generation,
            "resourceVersion": format!("{}", generation * 100 + i64::from(available)),
            "annotations": {"lastmile.dev/ci-run": "github/7"}},
        "spec": {"replicas": 2, "selector": {}, "template": {"spec": {"containers": [
            {"name": "web", "image": "web:1", "env": [{"name": "K", "value": "secret-value"}]}]}}},
        "status": {"observedGeneration": observed, "replicas": 2, "updatedReplicas": 2,
            "availableReplicas": available,
            "conditions": [{"type": "Progressing", "status": "True",
                "lastUpdateTime": format!("2026-01-01T00:00:0{available}Z")}]}
    }))
    .unwrap()
}

fn decoded(m: &Message) -> CloudEvent<K8sObservation> {
    CloudEvent::from_slice(&m.payload).unwrap()
}

#[test]
fn publishes_on_state_changes_only_not_on_resync() {
    let mut a = RolloutAnnouncer::new(std::time::Duration::from_secs(900));
    let now = Utc::now();
    let first = a
        .deployment(&web(3, 3, 1), false, "/w", now)
        .map(|(_, m)| m)
        .unwrap();
    assert_eq!(first.subject, "lastmile.k8s.deployment.shop");
    assert!(first.headers.contains_key(MSG_ID_HEADER));
    let ce = decoded(&first);
    assert_eq!(ce.subject.as_deref(), Some("deployment/shop/web"));
    assert_eq!(ce.data.rollout().unwrap().1.state(), "waiting");
    // The same object again (a resync / relist): nothing.
    assert!(
        a.deployment(&web(3, 3, 1), false, "/w", now)
            .map(|(_, m)| m)
            .is_none()
    );
    // Complete: published, and the compact form carries no pod template.
    let done = a
        .deployment(&web(3, 3, 2), false, "/w", now)
        .map(|(_, m)| m)
        .unwrap();
    assert!(decoded(&done).data.rollout().unwrap().1.is_complete());
    let text = String::from_utf8_lossy(&done.payload);
    assert!(!text.contains("secret-value"), "{text}");
    assert!(!text.contains("web:1"), "{text}");
    assert!(
        a.deployment(&web(3, 3, 2), false, "/w", now)
            .map(|(_, m)| m)
            .is_none()
    );
    // A new generation not yet observed: published as waiting.
    let next = a
        .deployment(&web(4, 3, 2), false, "/w", now)
        .map(|(_, m)| m)
        .unwrap();
    assert_eq!(decoded(&next).data.rollout().unwrap().1.state(), "waiting");
    assert_ne!(
        next.headers.get(MSG_ID_HEADER),
        done.headers.get(MSG_ID_HEADER)
    );
    assert_eq!(a.len(), 1);
    // Deleted and created again with the same state: announced afresh.
    a.forget("Deployment", "shop", "web");
    assert_eq!(a.len(), 0);
    assert!(
        a.deployment(&web(4, 3, 2), false, "/w", now)
            .map(|(_, m)| m)
            .is_some()
    );
}

#[test]
fn statefulset_and_daemonset_publish_on_their_kind_subjects() {
    let mut a = RolloutAnnouncer::new(std::time::Duration::from_secs(900));
    let now = Utc::now();
    let s: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db", "namespace": "shop", "generation": 1},
        "spec": {"replicas": 1, "selector": {}, "serviceName": "db", "template": {}},
        "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 1,
            "currentRevision": "db-1", "updateRevision": "db-1"}
    }))
    .unwrap();
    let m = a.statefulset(&s, false, "/w", now).map(|(_, m)| m).unwrap();
    assert_eq!(m.subject, "lastmile.k8s.statefulset.shop");
    assert!(decoded(&m).data.rollout().unwrap().1.is_complete());
    let d: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "kube-system", "generation": 1},
        "spec": {"selector": {}, "template": {}},
        "status": {"observedGeneration": 1, "desiredNumberScheduled": 2,
            "currentNumberScheduled": 2, "numberMisscheduled": 0, "numberReady": 1,
            "updatedNumberScheduled": 2, "numberAvailable": 1}
    }))
    .unwrap();
    let m = a.daemonset(&d, false, "/w", now).map(|(_, m)| m).unwrap();
    assert_eq!(m.subject, "lastmile.k8s.daemonset.kube-system");
    assert_eq!(decoded(&m).data.rollout().unwrap().1.state(), "waiting");
}

#[test]
fn initial_list_publishes_rollouts_in_flight_and_recent_ones_not_settled_ones() {
    let mut a = RolloutAnnouncer::new(std::time::Duration::from_secs(900));
    let now: DateTime<Utc> = "2026-01-01T00:30:00Z".parse().unwrap();
    // web(.., 2): complete, its condition last changed at 00:00:02, 30 min ago: settled.
    assert!(a.deployment(&web(3, 3, 2), true, "/w", now).is_none());
    assert_eq!(a.len(), 1, "remembered");
    // Known now: a change seen in a relist is published like any update.
    assert!(a.deployment(&web(4, 3, 2), true, "/w", now).is_some());
    // In flight at start: published, with its coalescing key.
    let mut b = RolloutAnnouncer::new(std::time::Duration::from_secs(900));
    let (key, m) = b.deployment(&web(3, 3, 1), true, "/w", now).unwrap();
    assert_eq!(key, "rollout-observation:deployment/shop/web");
    assert_eq!(m.subject, "lastmile.k8s.deployment.shop");
    // Complete within the window (it may just have finished): published.
    let soon: DateTime<Utc> = "2026-01-01T00:05:00Z".parse().unwrap();
    let mut c = RolloutAnnouncer::new(std::time::Duration::from_secs(900));
    assert!(c.deployment(&web(3, 3, 2), true, "/w", soon).is_some());
}
