//! A run-to-completion pod shown by `kubectl describe`: its work containers' current state
//! is `Terminated` / `Completed` (with restartPolicy Always they would have been restarted,
//! so the pod is a Job's or a one-shot pod's), while a sidecar container (a mesh or database
//! proxy, a log shipper, an agent) is still `Running` and keeps the pod, and its Job, from
//! finishing.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use super::waits::SIDECAR_NAME;
use crate::text::re;
use crate::{diagnosis, remedy};

/// A container block's header in describe's `Containers:` section: `  linkerd-proxy:`.
static HEADER: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^  ([a-z0-9][-a-z0-9_.]*):\s*$"));
/// The block's current state finished cleanly: `State: Terminated` then `Reason: Completed`.
static COMPLETED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s+State:\s+Terminated\s*\n\s+Reason:\s+Completed\b"));
/// The block's current state is running.
static RUNNING: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^\s+State:\s+Running\b"));
/// A container name that is a sidecar's.
static SIDECAR: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)^(?:.*[-_])?{SIDECAR_NAME}(?:[-_].*)?$")));

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&HEADER, &COMPLETED, &RUNNING, &SIDECAR]
}

/// The `Containers:` section of describe output (up to the next top-level heading).
fn containers_section(text: &str) -> Option<&str> {
    let start = text
        .find("\nContainers:\n")
        .map(|i| i + 1)
        .or_else(|| text.starts_with("Containers:\n").then_some(0))?;
    let body = &text[start + "Containers:\n".len()..];
    let end = body
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| {
            body[i..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
        })
        .unwrap_or(body.len());
    Some(&body[..end])
}

/// The pod's work done and a sidecar still running, as describe shows it. A current state of
/// Completed already means a run-to-completion pod, Job named or not.
pub(super) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let q = sidecar_outlives_completed(text)?;
    Some(diagnosis(
        Class::JobStuckActive,
        0.75,
        "The pod's work containers completed but a sidecar (a mesh or database proxy, a log shipper, an agent) is still running, so the pod never finishes and its Job (or whatever waits on the pod) never records a completion.".into(),
        subject.clone(),
        vec![q],
        vec![remedy::inspect_job(subject), remedy::end_sidecar()],
        false,
    ))
}

/// A sidecar container shown `Running` beside a container whose current state is
/// `Terminated` / `Completed`: returns evidence naming both.
fn sidecar_outlives_completed(text: &str) -> Option<String> {
    let section = containers_section(text)?;
    let heads: Vec<(usize, &str)> = HEADER
        .captures_iter(section)
        .filter_map(|c| Some((c.get(0)?.start(), c.get(1)?.as_str())))
        .collect();
    let blocks = heads.iter().enumerate().map(|(i, &(start, name))| {
        let end = heads.get(i + 1).map_or(section.len(), |&(s, _)| s);
        (name, &section[start..end])
    });
    let (mut sidecar, mut done) = (None, None);
    for (name, block) in blocks {
        if SIDECAR.is_match(name) && RUNNING.is_match(block) {
            sidecar = sidecar.or(Some(name));
        } else if COMPLETED.is_match(block) {
            done = done.or(Some(name));
        }
    }
    Some(format!(
        "container `{}` is still Running while `{}` is Terminated (Completed)",
        sidecar?, done?
    ))
}

#[cfg(test)]
mod tests {
    use lastmile_events::Class;

    use crate::text::tests::classes;

    /// A one-shot pod whose worker finished while its log shipper keeps running: the Job
    /// stays active. A sidecar running beside a container still working is no finding.
    #[test]
    fn a_sidecar_running_beside_completed_containers_keeps_the_pod_active() {
        let done = "Name: export-28391-abcde\nContainers:\n  exporter:\n    Image: acme/export:3\n    State:          Terminated\n      Reason:       Completed\n      Exit Code:    0\n    Ready:          False\n  fluent-bit:\n    Image: fluent/fluent-bit:2.2\n    State:          Running\n      Started:      Tue, 02 Jan 2024 03:00:01 +0000\n    Ready:          True\nConditions:\n  Type   Status\n";
        assert_eq!(classes(done).first(), Some(&Class::JobStuckActive));
        let working = done.replace(
            "State:          Terminated\n      Reason:       Completed\n      Exit Code:    0",
            "State:          Running",
        );
        assert!(!classes(&working).contains(&Class::JobStuckActive));
    }
}
