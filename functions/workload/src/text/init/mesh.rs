//! Injected init containers: the ones a service mesh or an agent injector adds to every pod
//! (a proxy-init that programs iptables to redirect traffic, a connect-inject or agent init
//! that registers the pod or fetches its token). They fail in their own ways: the traffic
//! rules step errors (a chain left over from an earlier run, missing NET_ADMIN, an nft/legacy
//! mismatch), or the init keeps retrying a registration or login the control plane refuses.

use std::sync::LazyLock;

use regex::Regex;

use super::loops::LOG_TIMESTAMP;
use crate::text::{quote, re};

/// A packet-filter step that failed: `iptables: Too many links.`, `iptables-restore: line 3
/// failed`, `ip6tables v1.8.4 (legacy): can't initialize ip6tables table`, `Chain already
/// exists`, `nft: Operation not permitted`, `iptables ... exit status 1`.
static RULES_STEP_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:ip6?tables(?:-(?:restore|save|legacy|nft))?|nft|ebtables)\b(?:\s+v[\d.]+(?:\s+\([\w-]+\))?)?[^\n]{0,80}?(?:too many links|chain already exists|no chain/target/match|can't initialize|cannot initialize|couldn't load|could not fetch rule set|permission denied|operation not permitted|resource temporarily unavailable|line \d+ failed|exit status [1-9]|\bfailed\b|\berror\b)",
    )
});
/// A mesh's traffic-redirection init named: its container or its chains
/// (`PROXY_INIT_REDIRECT`, `ISTIO_INBOUND`, `CONSUL_PROXY_INBOUND`, `KUMA_MESH_INBOUND`).
static MESH_INIT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:proxy|linkerd|istio|kuma|consul|osm|envoy|mesh|cni|iptables)[-_](?:init|validation|redirect)\b|\bPROXY_INIT_\w+|\b(?:ISTIO|CONSUL_PROXY|KUMA_MESH|LINKERD|OSM_PROXY)_\w+\b|\bistio-iptables\b",
    )
});
/// The injector named: "automatic injection", "sidecar injection", "connect-inject", "the
/// injected init container", "agent injector".
static INJECTED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:auto(?:matic)?|sidecar|connect|mesh|agent|proxy)[- ]?inject\w*|\binject(?:ed|ion|or)\b",
    )
});
/// One log line of a refused or not-yet-answered control-plane call that the init retries:
/// a 401/403, an ACL or token refused, the pod's service not (yet) registered or found.
static REFUSED_OR_NOT_YET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:40[13]|unauthori[sz]ed|forbidden|permission denied|ACL not found|token not found|invalid token)\b|\b(?:unable to|could not|couldn't|failed to) (?:find|get|fetch|locate)\b[^\n]{0,40}?\b(?:registered|services?|token|identity|certificate)\b[^\n]{0,20}?\bretry\w*",
    )
});
/// The process said to have ended rather than to keep retrying.
static ENDED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bpanic\b|\bfatal\b|\bexited\b|CrashLoopBackOff"));

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![
        &RULES_STEP_FAILED,
        &MESH_INIT,
        &INJECTED,
        &REFUSED_OR_NOT_YET,
        &ENDED,
    ]
}

/// A traffic-redirection init's packet-filter step failing, where the text is about an init
/// container (`marker`) or names a mesh's init or chains: a node agent's own iptables errors
/// (kube-proxy, a CNI DaemonSet) are not. Returns the failing line.
pub(super) fn rules_step_failed(text: &str, marker: bool) -> Option<String> {
    if !marker && !MESH_INIT.is_match(text) {
        return None;
    }
    quote(text, &RULES_STEP_FAILED)
}

/// An injected init that keeps retrying a control-plane call refused or not answered yet:
/// the injector named and at least two such log lines, nothing saying it ended. Returns the
/// first line.
pub(super) fn injected_retrying(text: &str) -> Option<String> {
    if !INJECTED.is_match(text) || ENDED.is_match(text) {
        return None;
    }
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let l = l.trim().trim_start_matches(['>', ' ']);
            LOG_TIMESTAMP.find(l).map_or(l, |m| &l[m.end()..])
        })
        .filter(|l| l.len() < 300 && REFUSED_OR_NOT_YET.is_match(l))
        .collect();
    (lines.len() >= 2).then(|| format!("\"{}\"", lines[0].trim()))
}

#[cfg(test)]
mod tests;
