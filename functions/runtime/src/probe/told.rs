//! Probe failures told in words rather than shown by the kubelet's own lines: a probe
//! beside an HTTP error status, or probes said to aim at the wrong target.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis};
use regex::Regex;

use super::PROBE_SAID;
use crate::facts::Facts;
use crate::remedy;
use crate::{Found, quote, re};

/// An HTTP error status told in words: `503 http status`, `HTTP 500`, `status 503`,
/// `returns a 404`.
pub(super) static STATUS_SAID: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b([45]\d{2})\s+(?:http\s+)?(?:status|error|response)\b|\bhttp(?:\s+status)?(?:\s+code)?[\s:]+([45]\d{2})\b|\bstatus(?:\s+code)?[\s:=]+([45]\d{2})\b|\b(?:returns?|returning|answers?|responds? with|getting|gets?)\s+(?:an?\s+)?(?:http\s+)?([45]\d{2})\b",
    )
});
/// Probes said to aim at the wrong target: "the wrong ports are used for the probes", "the
/// liveness probe points at the service port instead of the container port", "probes use an
/// incorrect path", "health checks hit the wrong endpoint".
static WRONG_TARGET: LazyLock<Regex> = LazyLock::new(|| {
    // One group: a bare alternation here would split the patterns below at its `|`, and a
    // text naming a health check at all would read as a wrong target.
    const PROBE: &str = r"(?:(?:(?:readiness|readyness|liveness|startup)\s*-?\s*)?prob(?:e|es)\b|\bhealth[- ]?checks?\b)";
    const WRONG: &str = r"(?:wrong|incorrect|mismatched|invalid|bad)\s+(?:container\s+|service\s+|target\s+|http\s+)?(?:ports?|paths?|endpoints?|urls?|schemes?)\b";
    re(&format!(
        r"(?i)\b{WRONG}[^.\n]{{0,40}}?\b{PROBE}|\b{PROBE}[^.\n]{{0,50}}?\b(?:{WRONG}|(?:point\w*|target\w*|us(?:e|es|ed|ing)|hit\w*|aim\w*|check\w*|configured (?:for|with|on))\b[^.\n]{{0,20}}?\bservice(?:'s)? ports?\b)"
    ))
});
/// The pod said not to become ready, or to fail or restart.
static NOT_READY_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:never|not|n't|fail\w*\s+to)\s+(?:become|becoming|get|getting|turn|turning|go|going)?\s*ready\b|\bnot\s+ready\b|\bunready\b|\b0/\d+\s+ready\b|\brestart\w*|\bkill\w*|\bfail\w*",
    )
});

/// A probe described beside an HTTP error status: the probe reaches the app and the app
/// answers that it is not healthy. A readiness probe only takes the pod out of its
/// Service (nothing restarts it); a liveness probe restarts it.
pub(super) fn status_told(f: &Facts, c: Option<&str>) -> Option<Found> {
    let text = f.lines.join("\n");
    let probe = PROBE_SAID.find(&text)?;
    let caps = STATUS_SAID.captures(&text)?;
    let status = caps.iter().skip(1).flatten().next()?.as_str().to_owned();
    let lower = text.to_lowercase();
    let readiness_only =
        (lower.contains("readiness") || lower.contains("readyness")) && !lower.contains("liveness");
    let summary = if readiness_only {
        format!(
            "The readiness probe's endpoint answers HTTP {status}, so the kubelet marks the pod not ready and its Service sends it no traffic; a readiness probe never restarts a pod (only a liveness probe does). Find what the health endpoint checks that fails."
        )
    } else {
        format!(
            "The probe's endpoint answers HTTP {status}: the probe reaches the app and the app reports itself unhealthy (a dependency its health check needs, or a probe aimed at the wrong endpoint); a readiness failure takes the pod out of its Service, a liveness failure restarts it."
        )
    };
    let mut d = Diagnosis::new(
        Class::RUNTIME_PROBE_FAILING,
        0.6,
        summary,
        Default::default(),
    );
    d.remediation = vec![remedy::advice(
        "Call the probe's endpoint from inside the pod to see the status and body it returns, and read what the health check depends on; add a liveness probe only if a restart would fix it.",
    )];
    let line_of = |at: usize| {
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        quote(&text[start..end])
    };
    let mut evidence = vec![line_of(probe.start())];
    let status_at = caps.get(0).map_or(0, |m| m.start());
    let status_line = line_of(status_at);
    if !evidence.contains(&status_line) {
        evidence.push(status_line);
    }
    Some(Found::new(d, c, evidence))
}

/// Probes said to aim at the wrong port, path or endpoint (a Service's port rather than the
/// container's), beside a pod said not to become ready or to fail: the kubelet probes the
/// pod's own IP, so such a probe never gets an answer.
pub(super) fn wrong_target_told(f: &Facts, c: Option<&str>) -> Option<Found> {
    let text = f.lines.join("\n");
    let m = WRONG_TARGET.find(&text)?;
    NOT_READY_TOLD.find(&text)?;
    let start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let end = text[m.end()..]
        .find('\n')
        .map_or(text.len(), |i| m.end() + i);
    let mut d = Diagnosis::new(
        Class::RUNTIME_PROBE_FAILING,
        0.65,
        "The probes are said to aim at the wrong target (a Service's port instead of the container's, a port or path the app does not serve): the kubelet probes the pod's own IP at the port the probe names, so it never gets an answer, the pod never turns Ready (and a liveness probe restarts it). Point each probe at a containerPort (by name) and a path the app serves.".to_owned(),
        Default::default(),
    );
    d.remediation = vec![remedy::advice(
        "Compare each probe's port and path with the container's ports (`kubectl get pod <pod> -o jsonpath='{.spec.containers[*].ports}'`) and what the app listens on; use the containerPort, not the Service's port.",
    )];
    Some(Found::new(d, c, vec![quote(&text[start..end])]))
}

#[cfg(test)]
pub(super) fn compile_all() {
    for p in [&STATUS_SAID, &WRONG_TARGET, &NOT_READY_TOLD] {
        LazyLock::force(p);
    }
}
