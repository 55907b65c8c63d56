//! A cluster with no nodes at all, told rather than quoted by the scheduler: `kubectl get
//! nodes` answering `No resources found` (or nothing), "the cluster has no worker nodes",
//! "no node ever joined", beside pods that do not start. The scheduler's own words (`no
//! nodes available to schedule pods`, `0/0 nodes are available`) are other rules'.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::{NOT_SCHEDULABLE, PODS_NOT_RUNNING};
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// `kubectl get nodes` (any alias of kubectl) answering with no node (lower-cased,
/// flattened text): `No resources found`, "returns nothing", "shows an empty list". The
/// command's arguments are captured, so a label-selector query can be told apart.
static EMPTY_NODE_LIST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bget nodes?\b([^.]{0,60}?)(?:\bno resources found\b|\b(?:returns?|returned|returning|shows?|showed|showing|says?|said|gives?|gave|prints?|printed|lists?|listed|outputs?)\b[^.]{0,15}?\b(?:nothing|no nodes?|empty|an empty list|zero nodes|0 nodes)\b|\b(?:is|was|comes back) empty\b)")
        .expect("the loose patterns are valid regexes")
});

/// A cluster told in words to have no nodes (lower-cased, flattened text): "the cluster has
/// no worker nodes", "there are 0 nodes", "no node has ever joined", "without any nodes",
/// "the node list is empty".
static NO_NODES_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:cluster|there)\b[^.]{0,20}?\b(?:has|have|had|is|are|were|was) (?:still )?(?:no|zero|0) (?:worker |agent |compute |ready |schedulable )?nodes?\b|\bno (?:worker |agent |compute )?nodes? (?:(?:have|has|had) )?(?:ever )?(?:(?:were|was|are|is|been|got) )?(?:registered|joined|exist(?:ed|s)?|created|provisioned|added|listed)\b|\bwithout any (?:worker |agent |compute )?nodes\b|\b(?:node list|list of nodes) (?:is|was|stays|remains) empty\b")
        .expect("the loose patterns are valid regexes")
});

/// Words after "no nodes" that narrow it to some nodes ("no nodes with a GPU"): then the
/// cluster has nodes, just none that fit.
const NARROWING: &[&str] = &[
    "with",
    "that",
    "which",
    "matching",
    "match",
    "for",
    "where",
    "having",
    "carrying",
    "labelled",
    "labeled",
    "in zone",
    "available for",
];

/// A `kubectl get nodes` row (any status): the cluster has a node.
fn lists_a_node(text: &str) -> bool {
    text.lines().any(|l| {
        let mut w = l.split_whitespace();
        let status = w.nth(1).unwrap_or("");
        (status.starts_with("Ready") || status.starts_with("NotReady"))
            && w.any(|f| f.starts_with('v') && f[1..].starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// No node in the cluster, told by an empty `kubectl get nodes` or in words, while pods do
/// not start and no scheduler message or node row says otherwise.
pub(in crate::messages) fn described_no_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    let waiting = PODS_NOT_RUNNING.is_match(t.lower) || NOT_SCHEDULABLE.is_match(t.lower);
    if !waiting || !t.anchors.is_empty() || lists_a_node(t.text) {
        return;
    }
    let listed = EMPTY_NODE_LIST.captures_iter(t.lower).find(|c| {
        let args = c.get(1).map_or("", |m| m.as_str());
        !(args.contains(" -l") || args.contains("selector"))
    });
    let (at, confidence) = match listed.and_then(|c| c.get(0)) {
        Some(m) => (m.start(), 0.6),
        None => {
            let Some(m) = NO_NODES_TOLD.find_iter(t.lower).find(|m| {
                let after = t.lower[m.end()..].trim_start();
                !NARROWING.iter().any(|w| after.starts_with(w))
            }) else {
                return;
            };
            (m.start(), 0.5)
        }
    };
    out.push(Finding::new(
        Class::NoNodes,
        confidence,
        "the cluster has no nodes at all (`kubectl get nodes` lists none), so every pod stays Pending: find why no node registers (the node group or machine deployment has no machines, or the kubelets cannot reach or authenticate to the API server)",
        &quote_at(t.flat, at),
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [&EMPTY_NODE_LIST, &NO_NODES_TOLD] {
        LazyLock::force(pattern);
    }
}
