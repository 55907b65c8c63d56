//! The node-level rules of the table: a `Taints:` block of `kubectl describe node` beside
//! Pending pods, and a node whose network plugin is not ready.

use std::sync::LazyLock;

use regex::Regex;

use lastmile_events::Class;

use super::Input;
use crate::messages::{Fact, Finding, quote_at};

pub(super) static TAINTS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|\s)(?:Taints:)?\s*([A-Za-z0-9][A-Za-z0-9._/-]*)(?:=([A-Za-z0-9._/-]*))?:(NoSchedule|NoExecute)\b")
    .expect("the scanner's patterns are valid regexes")
});

/// `kubectl describe node`: `Taints: key[=value]:Effect` (one per line), as
/// `(key, value, effect)`.
fn node_taints(text: &str) -> Vec<(String, String, String)> {
    let mut taints = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let l = line.trim_start();
        if l.starts_with("Taints:") {
            in_block = true;
        } else if in_block
            && (l.is_empty() || l.contains(": ") || !line.starts_with(char::is_whitespace))
        {
            in_block = false;
        }
        if !in_block {
            continue;
        }
        for c in TAINTS_LINE.captures_iter(l) {
            taints.push((
                c[1].to_owned(),
                c.get(2).map_or("", |m| m.as_str()).to_owned(),
                c[3].to_owned(),
            ));
        }
    }
    taints
}

/// A node's `Taints:` block the pod does not tolerate.
pub(super) fn node_taints_line(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let taints = node_taints(text);
    if taints.is_empty() {
        return;
    }
    let shown: Vec<String> = taints
        .iter()
        .map(|(k, v, e)| crate::selectors::taint_shown(k, v, e))
        .collect();
    let not_ready = taints
        .iter()
        .any(|(k, _, _)| k.starts_with("node.kubernetes.io/"));
    let summary = if not_ready {
        format!(
            "the node carries {} — a condition taint the pod does not tolerate (the node is not healthy)",
            shown.join(", ")
        )
    } else {
        format!(
            "the node carries taint(s) {} that block pods without a matching toleration",
            shown.join(", ")
        )
    };
    let conf = if not_ready { 0.7 } else { 0.6 };
    out.push(Finding::new(
        Class::UntoleratedTaint,
        conf,
        summary,
        &format!("Taints: {}", shown.join(", ")),
        true,
        Fact::NodeTaints(taints),
    ));
}

/// The node's network plugin is not ready (and no `Taints:` block says more).
pub(super) fn cni_not_ready(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    let lower = t.lower;
    if !node_taints(t.text).is_empty() {
        return;
    }
    if lower.contains("networkpluginnotready") || lower.contains("cni config uninitialized") {
        out.push(Finding::new(
            Class::UntoleratedTaint,
            0.55,
            "the node's network plugin (CNI) is not ready, so the node keeps the node.kubernetes.io/not-ready taint",
            &quote_at(flat, lower.find("network").unwrap_or(0)),
            false,
            Fact::None,
        ));
    }
}

/// The kubelet's device manager could not give the bound pod a device or extended resource
/// at admission: "UnexpectedAdmissionError: Allocate failed due to requested number of
/// devices unavailable for nvidia.com/gpu", "failed to allocate device plugin resource",
/// "Node didn't have enough resource: amd.com/gpu, requested: 1, used: 1", "cannot allocate
/// unregistered device". Another pod (or a scheduler that ignored the resource) took it.
pub(super) static DEVICE_ALLOCATE: LazyLock<Regex> = LazyLock::new(|| {
    // A device plugin's resource, not any "device" (a disk's "no space left on device").
    let device = r"(?:(?:no |unhealthy |healthy |unregistered )devices?\b|devices? (?:unavailable|available|plugin)|gpus?\b|[a-z0-9-]+\.[a-z]{2,}/[a-z][a-z0-9._-]*)";
    Regex::new(&format!(
        r"(?i)(?:allocate failed|failed to allocate|unable to allocate|cannot allocate|could not allocate|couldn't allocate)[^\n]{{0,80}}?{device}|requested number of devices unavailable|node didn't have enough resource:\s*{device}|unexpectedadmissionerror[^\n]{{0,200}}?{device}|{device}[^\n]{{0,60}}?requested: \d+, available: 0\b"
    ))
    .expect("the scanner's patterns are valid regexes")
});

/// One of these is in every text [`DEVICE_ALLOCATE`] matches (ASCII-lowercased).
const DEVICE_ALLOCATE_WORDS: [&str; 4] = [
    "allocate",
    "reque",
    "node didn't have enough re",
    "unexpectedadmi",
];

/// A device or extended resource (GPU, FPGA, RDMA, a device plugin's resource) the kubelet
/// could not allocate to a bound pod: the node had none free when the pod arrived.
pub(super) fn device_allocate(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    // The pattern has no literal prefix for the regex engine to look for first, so it is
    // a full scan; every alternative holds one of these words. (None has an `s` or a `k`,
    // whose Unicode case folds, `ſ` and the Kelvin sign, `(?i)` also matches.)
    if !DEVICE_ALLOCATE_WORDS.iter().any(|w| t.lower.contains(w)) {
        return;
    }
    if let Some(m) = DEVICE_ALLOCATE.find(flat) {
        out.push(Finding::new(
            Class::InsufficientResources,
            0.75,
            "the kubelet rejected the bound pod at admission: its device plugin had no free device of the requested extended resource (another pod took it, or the plugin reports fewer healthy devices than the node advertised); free or add devices, or keep other pods off them",
            &quote_at(flat, m.start()),
            false,
            Fact::None,
        ));
    }
}

#[cfg(test)]
mod tests;
