use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn failure_target_counts_as_failed_and_complete_as_complete() {
    let job: Job = serde_json::from_value(serde_json::json!({"metadata": {"name": "j"},
            "status": {"conditions": [{"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"},
                                      {"type": "Failed", "status": "False"}]}}))
        .unwrap();
    let t = job_terminal(&job).unwrap();
    assert!(t.is_failed());
    assert_eq!((t.state(), t.reason()), ("Failed", "BackoffLimitExceeded"));
    let done: Job = serde_json::from_value(serde_json::json!({"metadata": {"name": "j"},
            "status": {"conditions": [{"type": "Complete", "status": "True"}]}}))
    .unwrap();
    assert_eq!(
        job_terminal(&done),
        Some(JobTerminal::Complete {
            reason: String::new()
        })
    );
}

#[test]
fn active_job_past_its_deadline_or_patience_is_overdue() {
    let job: Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "j"}, "spec": {"activeDeadlineSeconds": 60, "template": {}},
            "status": {"active": 1, "startTime": "2026-03-01T10:00:00Z"}}))
    .unwrap();
    assert_eq!(
        job_overdue(&job, at("2026-03-01T10:05:00Z"), None),
        Some(JobOverdue::DeadlineExceeded)
    );
    assert_eq!(job_overdue(&job, at("2026-03-01T10:00:30Z"), None), None);
    let mut open = job.clone();
    open.spec.as_mut().unwrap().active_deadline_seconds = None;
    assert_eq!(job_overdue(&open, at("2026-03-01T12:00:00Z"), None), None);
    assert_eq!(
        job_overdue(&open, at("2026-03-01T12:00:00Z"), Some(Duration::hours(1))),
        Some(JobOverdue::StuckActive)
    );
}
