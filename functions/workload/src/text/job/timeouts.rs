//! A run on Kubernetes stopped by its own time limit, as workflow engines and people tell
//! it: a pipeline's or task's run timeout (the engine's analogue of a Job's
//! `activeDeadlineSeconds`), a pod active past its deadline, or a configured timeout said
//! to be exceeded while the run's pods waited or worked.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{quote, re};

/// An engine's own verdict that a run ran out of time: a `…RunTimeout` / `…RunTimedOut`
/// reason, "failed to finish within", "exceeded its deadline", the kubelet's "was active on
/// the node longer than specified deadline".
static RUN_TIMED_OUT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b\w*Run(?-i:Timeout|TimedOut)\b|\bfailed to (?:finish|complete) within\b|\b(?:exceeded|ran past|went past|is past|was past) (?:its|the(?: specified)?|their|the configured) (?:deadline|timeout)\b|\bactive on the node longer than\b",
    )
});
/// A time limit given a duration: "a timeout set to 30m", "timeout of 2h", "deadline: 600s".
static LIMIT_SET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)\b(?:timeout|deadline)s?\b[^.\n]{0,30}?\b(?:set to|of|is|=|:)\s*["'`]?\d+\s*(?:s|m|h|secs?|seconds?|mins?|minutes?|hours?)\b"#,
    )
});
/// The limit said to be exceeded or to fire: "exceeds those 30m", "exceeded the timeout",
/// "the timeout is triggered", "the deadline fires".
static LIMIT_HIT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bexceed(?:s|ed|ing)?\s+(?:(?:those|the|its|their|that|this)\s+)?(?:\d+\s*[a-z]+|timeout|deadline|limit)\b|\b(?:timeout|deadline)s?\b[^.\n]{0,30}?\b(?:triggered|fired|fires|fire|hit|reached|kicks? in|kicked in|expired?|expires|elapsed|ran out)\b",
    )
});
/// What ran: pods, Jobs, or an engine's runs (`TaskRun`, `PipelineRun`, a workflow).
static RUN_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bpods?\b|\bjobs?\b|\b\w+Runs?\b|\bworkflows?\b"));

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&RUN_TIMED_OUT, &LIMIT_SET, &LIMIT_HIT, &RUN_SUBJECT]
}

/// A run stopped by its own time limit: the engine's verdict quoted (firmer), or a set
/// limit said to be exceeded by a run's pods (told). The quote and a confidence.
pub(super) fn run_timed_out(text: &str) -> Option<(String, f64)> {
    if let Some(q) = quote(text, &RUN_TIMED_OUT) {
        return Some((q, 0.75));
    }
    if LIMIT_SET.is_match(text) && RUN_SUBJECT.is_match(text) {
        return quote(text, &LIMIT_HIT).map(|q| (q, 0.55));
    }
    None
}
