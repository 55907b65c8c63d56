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

/// A suspended Job has no pods and no start time: past the caller's patience since it was
/// suspended (its condition, else its creation) it is overdue as `Suspended`; without a
/// patience, or finished, it is not.
#[test]
fn a_job_suspended_past_patience_is_overdue_as_suspended() {
    let job: Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "j", "creationTimestamp": "2026-03-01T09:00:00Z"},
            "spec": {"suspend": true, "template": {}},
            "status": {"conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended",
                                       "lastTransitionTime": "2026-03-01T10:00:00Z"}]}}))
    .unwrap();
    let patience = Some(Duration::minutes(30));
    assert_eq!(
        job_overdue(&job, at("2026-03-01T10:45:00Z"), patience),
        Some(JobOverdue::Suspended)
    );
    // Measured from the condition, not the creation.
    assert_eq!(
        job_overdue(&job, at("2026-03-01T10:15:00Z"), patience),
        None
    );
    assert_eq!(job_overdue(&job, at("2026-03-01T12:00:00Z"), None), None);
    let mut created_suspended = job.clone();
    created_suspended.status = None;
    assert_eq!(
        suspended_since(&created_suspended),
        Some(at("2026-03-01T09:00:00Z"))
    );
    let mut resumed = job;
    resumed.spec.as_mut().unwrap().suspend = Some(false);
    assert_eq!(
        job_overdue(&resumed, at("2026-03-01T12:00:00Z"), patience),
        None
    );
}
