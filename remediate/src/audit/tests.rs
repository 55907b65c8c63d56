use super::*;

fn entry() -> AuditEntry {
    AuditEntry {
        id: "abc/../x".into(),
        time: DateTime::parse_from_rfc3339("2026-12-06T04:00:00Z")
            .unwrap()
            .to_utc(),
        who: "system:serviceaccount:lastmile:lastmile-remediate".into(),
        target: PatchTarget {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            namespace: Some("ci".into()),
            name: "..".into(),
        },
        patch_type: PatchType::Merge,
        body: json!({"spec": {"suspend": true}, "password": "hunter2-hunter2"}),
        description: "suspend it; token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB".into(),
        before: Map::new(),
        after: Map::new(),
        decision: Decision::Refused,
        reason: "field password is outside the allowlist".into(),
        dry_run: None,
        diagnosis_id: "d".into(),
        incident: "i".into(),
        trace_id: None,
    }
}

#[test]
fn keys_cannot_escape_the_audit_prefix() {
    assert_eq!(
        entry().key(),
        "audit/remediate/ci/_/20261206T040000.000Z-abc_.._x.json"
    );
}

#[test]
fn the_stored_entry_and_the_event_are_redacted() {
    let stored = entry().to_redacted_json().to_string();
    assert!(!stored.contains("hunter2"), "{stored}");
    assert!(!stored.contains("ghp_0123"), "{stored}");
    let event = entry().event(Some("uid-1"), None);
    assert_eq!(event["involvedObject"]["uid"], "uid-1");
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["reason"], "RemediationRefused");
}
