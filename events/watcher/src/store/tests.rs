//! The relist bookkeeping and snapshot bounds of the cluster store.

use chrono::Utc;
use k8s_openapi::api::core::v1::Pod;
use lastmile_events::{Incident, IncidentFamily};

use super::*;

#[test]
fn relist_forgets_what_it_did_not_see() {
    let mut r = Relistable::default();
    r.apply("a".into(), 1);
    r.apply("b".into(), 2);
    r.apply("other/c".into(), 4);
    r.relist_start(None);
    r.apply("b".into(), 3);
    assert_eq!(
        r.relist_done(None),
        vec!["a".to_string(), "other/c".to_string()]
    );
    assert_eq!((r.get("a"), r.get("b")), (None, Some(&3)));
}

#[test]
fn namespace_scoped_relist_leaves_other_namespaces_alone() {
    let mut r = Relistable::default();
    r.apply("ci/a".into(), 1);
    r.apply("cid/b".into(), 2);
    r.relist_start(Some("ci"));
    assert_eq!(r.relist_done(Some("ci")), vec!["ci/a".to_string()]);
    assert_eq!(r.get("cid/b"), Some(&2));
}

#[test]
fn pending_snapshot_stays_under_the_message_budget_with_many_bound_pods() {
    let mut s = ClusterStore::default();
    for i in 0..9000 {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": format!("pod-{i}"), "namespace": "team", "labels": {"app": format!("app-{}", i % 400), "pod-template-hash": "5d8f7c9b6"}},
            "spec": {"nodeName": format!("node-{}", i % 200), "containers": [{"name": "app", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]},
            "status": {"phase": "Running"}
        }))
        .unwrap();
        s.apply_pod(&pod);
    }
    let subject = lastmile_events::ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "p".into(),
        ..Default::default()
    };
    let inc = Incident::new(IncidentFamily::Pending, subject, None, Utc::now());
    let snap = s.snapshot_for(&inc, Utc::now());
    let size = serde_json::to_vec(&snap).unwrap().len();
    assert!(size <= SNAPSHOT_PODS_BUDGET + 8 * 1024, "{size}");
    assert!(snap.pods.len() > 1000, "{}", snap.pods.len());
}

#[test]
fn finished_pods_leave_the_bound_set() {
    let mut s = ClusterStore::default();
    let mut pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]},
        "status": {"phase": "Running"}
    }))
    .unwrap();
    s.apply_pod(&pod);
    assert_eq!(s.bound_pods.len(), 1);
    pod.status.as_mut().unwrap().phase = Some("Succeeded".into());
    s.apply_pod(&pod);
    assert!(s.bound_pods.is_empty());
}
