//! Helm waiting on a hook Job, shown by Helm's own output: its watch of the Job ending on
//! the Job still active, or a hook phase failing because the wait ran out.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::{quote, re};

/// Helm's own watch of a hook Job (`--debug`, and tools built on Helm's client): `name:
/// Jobs active: 1, jobs failed: 0, jobs succeeded: 0`, printed on every change of the Job.
static HELM_JOB_WATCH: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bJobs active: (\d+), jobs failed: (\d+), jobs succeeded: (\d+)"));
/// Helm giving up on a hook phase because its wait ran out (`failed post-install: timed
/// out waiting for the condition`, `pre-upgrade hooks failed: 1 error occurred: * context
/// deadline exceeded`). Helm waits only on hook Jobs (and bare Pods) to complete, so the
/// hook Job was still active when the release's timeout elapsed.
static HOOK_TIMED_OUT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:failed (?:pre|post)-(?:install|upgrade|rollback|delete)|(?:pre|post)-(?:install|upgrade|rollback|delete) hooks? failed):(?s:.{0,60}?)\b(?:timed out waiting for the condition|context deadline exceeded)",
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&HELM_JOB_WATCH, &HOOK_TIMED_OUT]
}

/// Failed pods after which Helm's watch shows a failing Job rather than one that hangs: the
/// Job controller replaced a failed pod at least twice (the default `backoffLimit` is 6).
const FAILING_AFTER: u64 = 2;

/// The last Job status Helm's watch printed, when it shows the hook Job's pods failing
/// again and again without a success (`Jobs active: 1, jobs failed: 3, jobs succeeded: 0`):
/// the Job is using up its retries, whatever the wait does next.
pub(super) fn watch_failing(text: &str) -> Option<String> {
    let (line, [_, failed, succeeded]) = last_watch(text)?;
    (failed >= FAILING_AFTER && succeeded == 0).then_some(line)
}

/// Helm's watch ending on the hook Job still active, or its hook phase timed out, quoted.
pub(super) fn hook_wait_ran_out(text: &str) -> Option<String> {
    helm_watch_still_active(text).or_else(|| quote(text, &HOOK_TIMED_OUT))
}

/// The last Job status Helm's watch printed, when it still shows the Job active and not
/// succeeded, nor failing again and again: the output ends while Helm waits on a hook Job
/// that does not complete.
fn helm_watch_still_active(text: &str) -> Option<String> {
    let (line, [active, failed, succeeded]) = last_watch(text)?;
    (active > 0 && succeeded == 0 && failed < FAILING_AFTER).then_some(line)
}

/// The last line of Helm's watch, quoted, with its counts: active, failed, succeeded.
fn last_watch(text: &str) -> Option<(String, [u64; 3])> {
    let last = HELM_JOB_WATCH.captures_iter(text).last()?;
    let count = |i: usize| last.get(i)?.as_str().parse::<u64>().ok();
    let counts = [count(1)?, count(2)?, count(3)?];
    let m = last.get(0)?;
    let start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let end = text[m.end()..]
        .find('\n')
        .map_or(text.len(), |i| m.end() + i);
    Some((format!("\"{}\"", text[start..end].trim()), counts))
}
