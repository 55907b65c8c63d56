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
        .map(|(k, v, e)| {
            if v.is_empty() {
                format!("{k}:{e}")
            } else {
                format!("{k}={v}:{e}")
            }
        })
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
