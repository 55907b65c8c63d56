//! Jobs: finished (reference §4.1) or overdue.

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::batch::v1::Job;

use crate::k8s::time;

/// A Job's terminal condition, as the Job controller sets it (reference §4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobTerminal {
    /// `Complete` (or the earlier `SuccessCriteriaMet`) is `True`.
    Complete {
        /// The condition's reason, possibly empty.
        reason: String,
    },
    /// `Failed` (or the earlier `FailureTarget`) is `True`: `BackoffLimitExceeded`,
    /// `DeadlineExceeded`, `PodFailurePolicy`, `MaxFailedIndexesExceeded`, …
    Failed {
        /// The condition's reason (`Failed` when the condition has none).
        reason: String,
    },
}

impl JobTerminal {
    /// `Complete` or `Failed`.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Complete { .. } => "Complete",
            Self::Failed { .. } => "Failed",
        }
    }

    /// The condition's reason.
    pub fn reason(&self) -> &str {
        match self {
            Self::Complete { reason } | Self::Failed { reason } => reason,
        }
    }

    /// True for [`JobTerminal::Failed`].
    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }
}

/// The Job's terminal condition, if any: the first `True` one of `Complete`,
/// `SuccessCriteriaMet`, `Failed`, `FailureTarget` in the order the status lists them.
pub fn job_terminal(job: &Job) -> Option<JobTerminal> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    conds
        .iter()
        .filter(|c| c.status == "True")
        .find_map(|c| match c.type_.as_str() {
            "Complete" | "SuccessCriteriaMet" => Some(JobTerminal::Complete {
                reason: c.reason.clone().unwrap_or_default(),
            }),
            "Failed" | "FailureTarget" => Some(JobTerminal::Failed {
                reason: c.reason.clone().unwrap_or_else(|| "Failed".into()),
            }),
            _ => None,
        })
}

/// Why an active Job is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOverdue {
    /// Active past `activeDeadlineSeconds` (the controller will fail it, or has not yet).
    DeadlineExceeded,
    /// Active, without a deadline, longer than the caller's patience.
    StuckActive,
    /// Suspended (`spec.suspend: true`) longer than the caller's patience: the Job
    /// controller creates no pods for it, so it neither runs nor fails (a queueing
    /// controller such as Kueue that never admits it leaves it so).
    Suspended,
}

impl JobOverdue {
    /// The reason as incidents carry it: `DeadlineExceeded`, `StuckActive` or `Suspended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeadlineExceeded => "DeadlineExceeded",
            Self::StuckActive => "StuckActive",
            Self::Suspended => "Suspended",
        }
    }
}

/// How long an active Job without a deadline, or a suspended one, may stay so before it is
/// overdue when nobody says otherwise: the watcher's `--job-stuck-after` default, and the
/// patience a recording is judged with (so a replayed recording and a live cluster agree).
pub const DEFAULT_STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Whether a Job that is not terminal is overdue at `now`: with active pods, past its
/// `activeDeadlineSeconds`, or (without one) running longer than `stuck_after` when given;
/// suspended longer than `stuck_after` when given (since its `Suspended` condition, or its
/// creation when it was created suspended and has none yet).
pub fn job_overdue(
    job: &Job,
    now: DateTime<Utc>,
    stuck_after: Option<Duration>,
) -> Option<JobOverdue> {
    if job_terminal(job).is_some() {
        return None;
    }
    if is_suspended(job) {
        let since = suspended_since(job)?;
        return stuck_after
            .is_some_and(|d| now - since > d)
            .then_some(JobOverdue::Suspended);
    }
    let status = job.status.as_ref()?;
    if status.active.unwrap_or(0) <= 0 {
        return None;
    }
    let start = status.start_time.as_ref().map(time)?;
    match job.spec.as_ref().and_then(|s| s.active_deadline_seconds) {
        Some(secs) => Duration::try_seconds(secs)
            .and_then(|d| start.checked_add_signed(d))
            .is_some_and(|end| now > end)
            .then_some(JobOverdue::DeadlineExceeded),
        None => stuck_after
            .is_some_and(|d| now - start > d)
            .then_some(JobOverdue::StuckActive),
    }
}

/// True when the Job is suspended (`spec.suspend: true`): the Job controller creates no
/// pods for it until something resumes it.
pub fn is_suspended(job: &Job) -> bool {
    job.spec.as_ref().and_then(|s| s.suspend) == Some(true)
}

/// Since when a suspended Job has been suspended: its `Suspended` condition's transition
/// time, else its creation.
pub fn suspended_since(job: &Job) -> Option<DateTime<Utc>> {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "Suspended" && c.status == "True")
        .and_then(|c| c.last_transition_time.as_ref())
        .or(job.metadata.creation_timestamp.as_ref())
        .map(time)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
