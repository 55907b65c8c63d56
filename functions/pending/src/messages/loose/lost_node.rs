//! A replacement replica left Pending while the pod it replaces is stuck `Unknown` /
//! `Terminating` on a lost node (powered off, crashed, NotReady) and other nodes are Ready.
//! The healthy nodes are there, so what keeps the replacement off them is that each already
//! runs a replica: a required one-per-node pod anti-affinity (the usual chart default).

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// A `kubectl get pods` row (an optional namespace column first): the owner prefix, the
/// pod's own suffix and its status.
pub(super) static POD_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:[a-z0-9][-a-z0-9]*\s+)?([a-z0-9][-a-z0-9.]*)-([a-z0-9]{5}|\d+)\s+\d+/\d+\s+(\w+)")
        .expect("the loose patterns are valid regexes")
});

/// The old pod stuck and its replacement pending, told in words ("the running pod goes into
/// Unknown and the replacement stays Pending", "the new replica is pending while the old
/// one is still terminating").
static STUCK_AND_PENDING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:unknown|terminating|nodelost)\b[^.\n]{0,80}?\b(?:replacements?|(?:new|second|another) (?:pods?|replicas?|ones?|instances?|copy)|other (?:pods?|replicas?)|rescheduled (?:pods?|replicas?))\b[^.\n]{0,60}?\b(?:pending|not (?:being )?scheduled)\b|\b(?:replacements?|new (?:pods?|replicas?))\b[^.\n]{0,60}?\bpending\b[^.\n]{0,80}?\b(?:unknown|terminating)\b")
        .expect("the loose patterns are valid regexes")
});

/// A node said lost: powered off, shut down, crashed, gone, NotReady.
static NODE_LOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)\b(?:power(?:ed)? off|powering off|shut ?down|shutting down|turn(?:ed)? off|kill(?:ed)?|los[te]|crash(?:ed)?|stop(?:ped)?|terminat(?:e|ed))\b[^.\n]{0,20}?\b(?:a |the |one |that )?(?:worker |agent )?nodes?\b|\bnodes?\b[^.\n]{0,40}?\b(?:(?:goes|went|is|was|becomes|became|gets|got) (?:down|away|offline|notready|not ready|unreachable|lost)|fails|dies|died|crash(?:es|ed)|disappear(?:s|ed))\b|\bnode (?:failure|outage|loss)\b|^\s*\S+\s+NotReady\b")
        .expect("the loose patterns are valid regexes")
});

/// Replicas of one owner, one stuck on a lost node and one Pending, in a pod table.
fn table_pair(text: &str) -> Option<usize> {
    let rows: Vec<(&str, &str, usize)> = POD_ROW
        .captures_iter(text)
        .take(200)
        .filter_map(|c| Some((c.get(1)?.as_str(), c.get(3)?.as_str(), c.get(0)?.start())))
        .collect();
    rows.iter()
        .filter(|(_, status, _)| matches!(*status, "Unknown" | "Terminating" | "NodeLost"))
        .find_map(|(owner, _, _)| {
            rows.iter()
                .find(|(o, s, _)| o == owner && *s == "Pending")
                .map(|(_, _, at)| *at)
        })
}

/// The replacement of a pod on a lost node stays Pending beside Ready nodes: each healthy
/// node already runs a replica and a required anti-affinity allows one per node. Below any
/// quoted scheduler reason, and not when every listed node is down.
pub(in crate::messages) fn replacement_beside_lost_node(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() || !NODE_LOST.is_match(t.text) {
        return;
    }
    let ready_rows = t
        .text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("Ready"))
        .count();
    let nodes_table = t.text.lines().any(|l| {
        l.split_whitespace().nth(1) == Some("NotReady")
            || l.split_whitespace().nth(1) == Some("Ready")
    });
    if nodes_table && ready_rows == 0 {
        return;
    }
    let quote = match table_pair(t.text) {
        Some(at) => t.text[at..].lines().next().unwrap_or("").trim().to_owned(),
        None => match STUCK_AND_PENDING.find(t.lower) {
            Some(m) => quote_at(t.flat, m.start()),
            None => return,
        },
    };
    out.push(Finding::new(
        Class::PodAffinity,
        0.45,
        "a replacement replica stays Pending while the pod it replaces is stuck Unknown/Terminating on a lost node, though other nodes are Ready: each healthy node already runs a replica, so a required one-per-node pod anti-affinity (or a hostPort) leaves no node for it; make the anti-affinity preferred, or add a node",
        &quote,
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [&POD_ROW, &STUCK_AND_PENDING, &NODE_LOST] {
        LazyLock::force(pattern);
    }
}
