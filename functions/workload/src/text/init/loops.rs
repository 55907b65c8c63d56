//! Reading a pasted init container's output: the describe block of the init containers,
//! and a wait loop told by its own repeated log lines.

use std::sync::LazyLock;

use regex::Regex;

use super::WAIT_LINE;
use crate::text::re;

/// A log line's leading timestamp (`2018/05/09 17:45:23`, `2024-01-02T03:04:05.678Z`,
/// `[12:00:01]`, klog's `I0509 17:45:23.123456    1 file.go:12]`), which makes every
/// repetition of one line differ.
pub(super) static LOG_TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\[?(?:\d{4}[-/]\d\d[-/]\d\d[T ])?\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\]?\s+|^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^\]]*\]\s*",
    )
});
/// The init containers' part of a `kubectl describe pod` (between `Init Containers:` and
/// `Containers:`), or the whole text when it has no such structure.
pub(super) fn init_section(text: &str) -> &str {
    let Some(start) = text.find("Init Containers:") else {
        return text;
    };
    let rest = &text[start..];
    let end = rest.find("\nContainers:").unwrap_or(rest.len());
    &rest[..end]
}

/// A deployer's or scheduler's own line, not a container's: Helm's `[debug]` log (`Watching
/// for changes to Job x with timeout of 5m0s`), client-go's `timed out waiting for the
/// condition`, the command line (`helm install … --timeout 5m0s`, `kubectl wait …`), a gang
/// scheduler's pod-group condition (`tasks in gang unschedulable: pod group is not ready`).
pub(super) static DEPLOYER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\[debug\]|^\s*(?:[$>#]\s*)?(?:helm|helmfile|kubectl|argocd|oc)\s|timed out waiting for the condition|\bwith timeout of\b|\bin gang unschedulable\b|\bpod ?group is not ready\b",
    )
});

/// A wait loop told by its own log: the same "no answer yet" line at least twice, or three
/// such lines, and nothing that says the process exited. Returns the line.
pub(super) fn wait_loop(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    const EXITED: [&str; 7] = [
        "crashloopbackoff",
        "back-off restarting",
        "shutting down",
        "panic",
        "fatal",
        "exited",
        "terminated",
    ];
    if EXITED.iter().any(|w| lower.contains(w)) {
        return None;
    }
    let waits: Vec<&str> = text
        .lines()
        .map(|l| {
            let l = l.trim();
            LOG_TIMESTAMP.find(l).map_or(l, |m| &l[m.end()..])
        })
        .filter(|l| l.len() < 300 && WAIT_LINE.is_match(l) && !DEPLOYER_LINE.is_match(l))
        .collect();
    let repeated = waits
        .iter()
        .find(|l| waits.iter().filter(|m| m == l).count() >= 2);
    match repeated {
        Some(l) => Some((*l).to_owned()),
        None if waits.len() >= 3 => waits.first().map(|l| (*l).to_owned()),
        None => None,
    }
}
