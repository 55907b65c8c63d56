use super::*;

#[test]
fn core_event_series_count_wins_over_deprecated_count() {
    let ev: k8s_openapi::api::core::v1::Event = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "x.1", "namespace": "ci"},
        "involvedObject": {"kind": "Pod", "namespace": "ci", "name": "x", "uid": "u1"},
        "reason": "FailedScheduling", "type": "Warning",
        "message": "(combined from similar events): 0/3 nodes are available: 3 Insufficient cpu.",
        "count": 2, "series": {"count": 17, "lastObservedTime": "2026-01-01T00:10:00.000000Z"},
        "source": {"component": "default-scheduler"}
    }))
    .unwrap();
    let n = KubeEvent::from_core(&ev);
    assert_eq!(n.count, 17);
    assert_eq!(n.reporting_controller, "default-scheduler");
    assert_eq!(
        n.clean_message(),
        "0/3 nodes are available: 3 Insufficient cpu."
    );
    assert_eq!(n.regarding.name, "x");
}

#[test]
fn events_v1_note_becomes_message() {
    let ev: k8s_openapi::api::events::v1::Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x.2", "namespace": "ci"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "regarding": {"kind": "Job", "namespace": "ci", "name": "migrate"},
            "reason": "FailedCreate", "type": "Warning", "reportingController": "job-controller",
            "reportingInstance": "kcm-1", "action": "Create",
            "note": "Error creating: pods \"migrate-abc\" is forbidden: exceeded quota: q, requested: cpu=1, used: cpu=2, limited: cpu=2"
        }))
        .unwrap();
    let n = KubeEvent::from_events_v1(&ev);
    assert_eq!(n.regarding.kind, "Job");
    assert_eq!(n.count, 1);
    assert!(n.message.starts_with("Error creating"));
    assert_eq!(n.reporting_controller, "job-controller");
}

#[test]
fn secret_keeps_key_names_and_never_values() {
    let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "db", "namespace": "shop", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "data": {"password": "aHVudGVyMg==", "DB_USER": "YWRtaW4="}
        }))
        .unwrap();
    let c = ConfigObject::from_secret(&secret);
    assert_eq!(c.keys, ["DB_USER", "password"]);
    assert_eq!((c.kind.as_str(), c.namespace.as_str()), ("Secret", "shop"));
    let json = serde_json::to_string(&c).unwrap();
    assert!(!json.contains("aHVudGVyMg"), "{json}");
}

#[test]
fn aggregation_prefix_is_case_insensitive_and_optional() {
    assert_eq!(
        strip_aggregation_prefix("(Combined from similar events):  abc"),
        "abc"
    );
    assert_eq!(strip_aggregation_prefix("abc"), "abc");
    assert_eq!(strip_aggregation_prefix("(comb"), "(comb");
}
