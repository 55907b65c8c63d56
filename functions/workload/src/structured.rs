//! Structured remediations for Jobs: the steps `lastmile remediate` can apply when a
//! namespace allowlists them — raising `activeDeadlineSeconds`, `suspend`, and
//! `ttlSecondsAfterFinished` — each next to its `kubectl patch` text.
//!
//! Preconditions are the field values this function saw (not the resourceVersion: an
//! active Job's status changes all the time, so the version would be stale by the time the
//! patch is applied, while the spec fields the patch replaces are what must not have
//! changed). The executor checks them on the live object before a dry run.

use k8s_openapi::api::batch::v1::Job;
use lastmile_events::diagnosis::{
    ExpectedField, PatchSpec, PatchTarget, PatchType, Preconditions, StructuredRemediation,
};
use lastmile_events::{Diagnosis, Remediation};
use serde_json::{Value, json};

/// How long a finished Job is kept before garbage collection, when it set no TTL.
pub(crate) const FINISHED_TTL_SECS: i64 = 24 * 3600;

fn target(job: &Job) -> Option<PatchTarget> {
    Some(PatchTarget {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        namespace: Some(job.metadata.namespace.clone()?),
        name: job.metadata.name.clone()?,
    })
}

/// Adds `description` as a remediation step with its `kubectl patch` text and the same
/// change as a structured merge patch of `spec.<field>` to `value`, on condition that the
/// field still has the value this function saw.
fn attach(d: &mut Diagnosis, job: &Job, description: String, field: &str, value: Value) {
    let Some(target) = target(job) else { return };
    let seen = serde_json::to_value(job.spec.as_ref())
        .ok()
        .and_then(|spec| spec.get(field).cloned())
        .unwrap_or(Value::Null);
    let body = json!({"spec": {field: value}});
    let command = format!(
        "kubectl patch job -n {} {} --type=merge -p '{body}'",
        target.namespace.as_deref().unwrap_or_default(),
        target.name
    );
    d.remediation.push(Remediation {
        description,
        command: Some(command),
    });
    d.patches.push(StructuredRemediation {
        step: d.remediation.len() - 1,
        patch: PatchSpec {
            target,
            patch_type: PatchType::Merge,
            body,
            preconditions: Preconditions {
                resource_version: None,
                fields: vec![ExpectedField {
                    path: format!("/spec/{field}"),
                    value: seen,
                }],
            },
        },
    });
}

/// A Job still running past its deadline: double the deadline (at least ten minutes past
/// the time already spent), so the run can finish.
pub(crate) fn raise_deadline(d: &mut Diagnosis, job: &Job, deadline: i64, elapsed: i64) {
    let raised = deadline.saturating_mul(2).max(elapsed.saturating_add(600));
    attach(
        d,
        job,
        format!(
            "Raise `spec.activeDeadlineSeconds` from {deadline} to {raised} while the Job still runs, so it can finish (an executor allowlisted for job.active-deadline-seconds applies this)."
        ),
        "activeDeadlineSeconds",
        json!(raised),
    );
}

/// A Job active for hours with no deadline and no success: suspend it (its pods stop; the
/// Job can be resumed with `suspend: false`).
pub(crate) fn suspend(d: &mut Diagnosis, job: &Job) {
    attach(
        d,
        job,
        "Suspend the Job: its pods are stopped and it can be resumed once the cause is fixed."
            .into(),
        "suspend",
        json!(true),
    );
}

/// A finished Job without `ttlSecondsAfterFinished`: let it be garbage-collected after a
/// day instead of staying forever.
pub(crate) fn ttl_after_finished(d: &mut Diagnosis, job: &Job) {
    if job
        .spec
        .as_ref()
        .is_none_or(|s| s.ttl_seconds_after_finished.is_some())
    {
        return;
    }
    attach(
        d,
        job,
        format!(
            "Set `spec.ttlSecondsAfterFinished` to {FINISHED_TTL_SECS} so the finished Job and its pods are cleaned up after a day."
        ),
        "ttlSecondsAfterFinished",
        json!(FINISHED_TTL_SECS),
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
