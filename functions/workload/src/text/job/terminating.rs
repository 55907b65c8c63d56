//! A Job left active by its pod stuck `Terminating`: the pod was asked to stop long ago and
//! never went away (a node that no longer answers, a finalizer, a container the runtime
//! cannot kill), so the Job keeps counting it as active and neither finishes nor replaces it.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::text::{quote_range, re};
use crate::{diagnosis, remedy};

/// The pod shown owned by a Job (`Controlled By: Job/x`, the `job-name=` label, `kubectl get`'s
/// `job.batch/x`), or a Job said to remain ("is still there", "still exists").
static JOB_OWNED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^Controlled By:\s+Job/|\b(?:batch\.kubernetes\.io/)?job-name=|\bjobs?\b[^.\n]{0,80}?\b(?:is|are)\s+still\s+(?:there|around|present|listed|active)\b|\bjobs?\b[^.\n]{0,80}?\bstill exists?\b",
    )
});
/// describe's `Status: Terminating (lasts 156m)`. Groups 1 and 2 the first number and unit.
static TERMINATING_FOR: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^Status:\s+Terminating\s+\(lasts\s+(\d+)([smhd])"));
/// The pod said stuck Terminating: "stuck `Terminating`", "hangs in Terminating state",
/// "stays in Terminating for hours".
static TERMINATING_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b(?:stuck|hangs?|hung|hanging|stays?|stayed|remains?|remained)\s+(?:in\s+|at\s+)?(?:the\s+)?[`'"]?Terminating\b"#,
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&JOB_OWNED, &TERMINATING_FOR, &TERMINATING_TOLD]
}

/// The Job's pod Terminating for half an hour or more (shown), or said stuck Terminating.
pub(super) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    JOB_OWNED.find(text)?;
    let long = TERMINATING_FOR.captures_iter(text).find(|c| {
        let n: u64 = c.get(1).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
        match c.get(2).map_or("", |m| m.as_str()) {
            "d" | "h" => true,
            "m" => n >= 30,
            _ => false,
        }
    });
    let m = match long {
        Some(c) => c.get(0)?,
        None => TERMINATING_TOLD.find(text)?,
    };
    Some(diagnosis(
        Class::JobStuckActive,
        0.6,
        "The Job's pod has been Terminating far past its grace period and never goes away, so the Job still counts it and stays active: the node may be gone or not answering (its kubelet never confirms the deletion), a finalizer holds the pod, or the runtime cannot kill a container. Check the pod's node and finalizers; force-deleting the pod lets the Job go on.".into(),
        subject.clone(),
        vec![quote_range(text, m.start(), m.end())],
        vec![
            remedy::inspect_job(subject),
            lastmile_events::Remediation {
                description: "Look at the pod's node (Ready? reachable?) and finalizers; only when the node is really gone, force-delete the pod (`kubectl delete pod <pod> --grace-period=0 --force`).".into(),
                command: None,
            },
        ],
        false,
    ))
}

#[cfg(test)]
mod tests {
    use lastmile_events::Class;

    use crate::text::tests::{assert_absent, assert_first};

    /// A Job's pod Terminating for hours (shown by describe, or told), keeps the Job active;
    /// a Deployment's pod Terminating, or a Job's pod within its grace period, is not it.
    #[test]
    fn a_job_pod_stuck_terminating_keeps_the_job_active() {
        assert_first(
            Class::JobStuckActive,
            &[
                "Name:         reindex-28391-q7x2k\nNamespace:    search\nStatus:       Terminating (lasts 3h)\nTermination Grace Period:  60s\nControlled By:  Job/reindex-28391",
                "The nightly backup job still exists this morning; its pod (labels: job-name=backup-28391) hangs in Terminating since the node was drained.",
            ],
        );
        assert_absent(
            Class::JobStuckActive,
            &[
                "Name:         web-7d9-x2\nStatus:       Terminating (lasts 3h)\nControlled By:  ReplicaSet/web-7d9",
                "Name:         reindex-28391-q7x2k\nStatus:       Terminating (lasts 12s)\nControlled By:  Job/reindex-28391",
            ],
        );
    }
}
