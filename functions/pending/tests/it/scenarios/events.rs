//! Stale, newer and agreeing scheduler events.

use super::*;

#[test]
fn stale_event_when_capacity_was_freed_since() {
    let items = vec![node(gke_node("n0", "p")), node(gke_node("n1", "p"))];
    let ev = event(
        "FailedScheduling",
        "Pod",
        "migrate-x7k2p",
        "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        t(1),
        "default-scheduler",
    );
    let o = run(&incident(
        Some(pending_pod("ci", "migrate-x7k2p", json!({}), None)),
        vec![ev],
        snapshot(items, Some(t(10))),
    ));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(d.confidence < 0.5, "{}", d.confidence);
    assert!(
        d.summary.contains("the pod fits 2 of 2 nodes now"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.starts_with("using the snapshot")),
        "{:?}",
        d.evidence
    );
    assert_eq!(d.details["disagreement"]["source_used"], "snapshot");
    assert_eq!(d.details["disagreement"]["nodes_fitting_in_snapshot"], 2);
}

#[test]
fn event_newer_than_the_snapshot_is_used() {
    let items = vec![node(gke_node("n0", "p"))];
    let ev = event(
        "FailedScheduling",
        "Pod",
        "migrate-x7k2p",
        "0/1 nodes are available: 1 Insufficient memory.",
        t(20),
        "default-scheduler",
    );
    let o = run(&incident(
        Some(pending_pod("ci", "migrate-x7k2p", json!({}), None)),
        vec![ev],
        snapshot(items, Some(t(2))),
    ));
    let d = &o.diagnoses[0];
    assert_eq!(d.class.as_str(), Class::INSUFFICIENT_RESOURCES);
    assert!(d.confidence >= 0.75);
    assert!(
        d.evidence.iter().any(|e| e.contains("using the message")),
        "{:?}",
        d.evidence
    );
}

#[test]
fn agreeing_event_raises_confidence() {
    let mut items = Vec::new();
    busy_default_pool(&mut items);
    let pod = pending_pod(
        "ci",
        "p",
        json!({"containers": [{"name": "c", "image": "i", "resources": {"requests": {"memory": "6Gi"}}}]}),
        Some("0/12 nodes are available: 12 Insufficient memory."),
    );
    let without = run(&incident(
        Some(pod.clone()),
        vec![],
        snapshot(items.clone(), None),
    ));
    let ev = event(
        "FailedScheduling",
        "Pod",
        "p",
        "0/12 nodes are available: 12 Insufficient memory.",
        t(1),
        "default-scheduler",
    );
    let with = run(&incident(Some(pod), vec![ev], snapshot(items, None)));
    assert!(with.diagnoses[0].confidence > without.diagnoses[0].confidence - 1e-9);
    assert!(
        with.diagnoses[0]
            .evidence
            .iter()
            .any(|e| e.starts_with("the message agrees"))
    );
}
