use super::*;

#[test]
fn picks_the_newest_time_key_and_ignores_other_strings() {
    let doc = serde_json::json!({
        "items": [
            {"metadata": {"creationTimestamp": "2026-03-01T10:00:00Z", "name": "2030-01-01T00:00:00Z"}},
            {"status": {"containerStatuses": [{"state": {"terminated": {"finishedAt": "2026-03-01T10:05:00Z"}}}]}},
            {"eventTime": "not a time"}
        ]
    });
    assert_eq!(
        newest_timestamp(&doc).map(|t| t.to_rfc3339()),
        Some("2026-03-01T10:05:00+00:00".into())
    );
    assert_eq!(newest_timestamp(&serde_json::json!({"a": 1})), None);
}
