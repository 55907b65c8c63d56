//! Which recorded objects are stuck, and in which family: the shared Kubernetes facts
//! ([`lastmile_events::facts`]) applied to a document, so a recording and a live cluster
//! are classified alike.

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use lastmile_events::facts;
use lastmile_events::{IncidentFamily, ObjectRef};

/// The workload a recorded pod belongs to (a Deployment rather than its ReplicaSet).
pub(crate) fn owner(pod: &Pod) -> Option<ObjectRef> {
    facts::workload_of(pod)
}

/// The family a pod is stuck in, or `None` when it is not stuck. A recording is a moment
/// after the fact: conditions that need time to count (pending, a long init) count.
pub(crate) fn pod_family(pod: &Pod, owned_by_job: bool) -> Option<IncidentFamily> {
    facts::stuck_pod(pod, owned_by_job).map(|s| s.family)
}

/// True when a Job failed (`Failed` or the earlier `FailureTarget` condition, reference
/// §4.1) or is overdue as of `now` (the document's newest time) as the watcher judges it
/// with its default patience ([`facts::DEFAULT_STUCK_AFTER`]): active past
/// `activeDeadlineSeconds`, active without one for longer, or left suspended for longer.
/// A suspended Job also counts when the document holds nothing newer than its suspension
/// (the Job pasted alone): how long it has been held cannot be told, and a recording is read
/// after the fact, as a pending pod in it counts without waiting.
pub(crate) fn job_stuck(job: &Job, now: Option<DateTime<Utc>>) -> bool {
    let patience = chrono::Duration::from_std(facts::DEFAULT_STUCK_AFTER).ok();
    facts::job_terminal(job).is_some_and(|t| t.is_failed())
        || now.is_some_and(|now| {
            facts::job_overdue(job, now, patience).is_some()
                || (facts::job_terminal(job).is_none()
                    && facts::is_suspended(job)
                    && facts::suspended_since(job).is_some_and(|since| since >= now))
        })
}
