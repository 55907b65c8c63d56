//! A Job left active because its pod never starts: the pod waits (an image pull backing
//! off, a container config that cannot be built) and a waiting pod is Pending, not Failed,
//! so `backoffLimit` never counts it and the Job neither fails nor finishes.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use super::JOB_STUCK;
use crate::text::{quote, re};
use crate::{diagnosis, remedy};

/// A pod held in a waiting reason that never turns into a failure: a pull backing off or
/// refused (`ImagePullBackOff`, `ErrImagePull`, `InvalidImageName`, `ErrImageNeverPull`), a
/// container that cannot be created (`CreateContainerConfigError`, `CreateContainerError`).
static POD_NEVER_STARTS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:ImagePullBackOff|ErrImagePull|InvalidImageName|ErrImageNeverPull|CreateContainerConfigError|CreateContainerError)\b",
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&POD_NEVER_STARTS]
}

/// A Job said to stay active (still running, never finishing) beside its pod held in a
/// waiting reason that never fails.
pub(super) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let stays = quote(text, &JOB_STUCK)?;
    let waiting = quote(text, &POD_NEVER_STARTS)?;
    let mut evidence = vec![stays];
    if !evidence.contains(&waiting) {
        evidence.push(waiting);
    }
    Some(diagnosis(
        Class::JobStuckActive,
        0.6,
        "The Job stays active because its pod never starts: the pod waits (its image cannot be pulled, or its container cannot be created) and a waiting pod is Pending, not Failed, so backoffLimit never counts it and the Job neither fails nor finishes. Fix the pod's image or config (the pod's events say which), and bound the Job with `spec.activeDeadlineSeconds`.".into(),
        subject.clone(),
        evidence,
        vec![remedy::inspect_job(subject), remedy::job_logs(subject)],
        false,
    ))
}
