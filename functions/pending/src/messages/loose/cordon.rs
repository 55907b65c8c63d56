//! Cordoned nodes beside pods that do not start: a `kubectl get nodes` table listing only
//! `SchedulingDisabled` nodes, or cordons, drains and nodes marked unschedulable told in
//! words or by the commands that do it.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::{NOT_SCHEDULABLE, PODS_NOT_RUNNING};
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_around, quote_at};

/// A `kubectl get nodes` row of a cordoned node (with or without the ROLES column).
static CORDONED_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^\s*(\S+)\s+(?:Ready|NotReady|Unknown),SchedulingDisabled\s+(?:\S+\s+){1,2}v\d",
    )
    .expect("the loose patterns are valid regexes")
});

/// `kubectl get nodes` lists only cordoned nodes (`Ready,SchedulingDisabled`) while pods do
/// not start: no node accepts new pods until one is uncordoned or a schedulable one joins.
pub(in crate::messages) fn cordoned_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !PODS_NOT_RUNNING.is_match(t.lower) || !t.anchors.is_empty() {
        return;
    }
    let cordoned: Vec<&str> = CORDONED_ROW
        .captures_iter(t.text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .take(50)
        .collect();
    let schedulable_rows = t
        .text
        .lines()
        .filter(|l| matches!(l.split_whitespace().nth(1), Some("Ready" | "NotReady")))
        .count();
    let Some(first) = cordoned.first() else {
        return;
    };
    if schedulable_rows > 0 {
        return;
    }
    out.push(Finding::new(
        Class::UnschedulableNodes,
        0.55,
        format!(
            "every listed node is cordoned (SchedulingDisabled: {}), so no new pod can be scheduled; uncordon a node (`kubectl uncordon NODE`) or add schedulable workers",
            cordoned.join(", ")
        ),
        &quote_around(t.text, first),
        false,
        Fact::None,
    ));
}

/// Nodes said to be cordoned, in words or by the kubelet's event: "all nodes get marked
/// Ready,SchedulingDisabled", "the workers were cordoned", `NodeNotSchedulable`,
/// `unschedulable: true` (lower-cased text).
static DESCRIBED_CORDON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:nodes?|workers?|masters?|control[- ]planes?)\b[^.\n]{0,80}?(?:\bcordon(?:ed|s)?\b|\bschedulingdisabled\b|\bdrain(?:ed|s)?\b)|\b(?:cordon(?:ed|s|ing)?|drain(?:ed|s|ing)?)\b (?:(?:all|every|each|one|the|a|my|our|that|this|of) )*(?:nodes?|workers?)\b|\bnodenotschedulable\b|\bunschedulable: true\b")
        .expect("the loose patterns are valid regexes")
});

/// The commands that cordon a node, named (lower-cased text): `kubectl cordon NODE`,
/// `kubectl drain <node-name>`. An uncordon alone is not one: it is the cure, and what held
/// the pods before it may be anything.
static CORDON_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bkubectl (?:drain|cordon)\b").expect("the loose patterns are valid regexes")
});

/// A node said to be set unschedulable by hand (lower-cased, flattened text): "set the
/// node where the pod runs to `Unschedulable`", "marked the worker unschedulable",
/// "patched the node with spec.unschedulable", "the node was made unschedulable".
static MARKED_UNSCHEDULABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:set|sets|setting|mark|marks|marked|marking|made|make|makes|making|patch|patched|patches|patching|flag|flagged|flagging)\b (?:the |a |my |our |that |this |each |every |all |one )?(?:nodes?|workers?|hosts?|machines?)\b.{0,60}?\bunschedulable\b|\b(?:nodes?|workers?|hosts?)\b (?:is|was|were|are|got|gets|being) (?:marked|set|made|flagged) (?:as |to )?[`'\x22]?unschedulable\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said to wait in `lower` outside the span `m` (the span may itself say
/// "unschedulable" of the node).
fn waiting_beside(lower: &str, m: &regex::Match<'_>) -> bool {
    [&lower[..m.start()], &lower[m.end()..]]
        .iter()
        .any(|r| PODS_NOT_RUNNING.is_match(r) || NOT_SCHEDULABLE.is_match(r))
}

/// Every node said to be cordoned ("cordoned all of my nodes", "all the nodes got
/// cordoned"): nothing can schedule, whether or not the report mentions pending pods.
static ALL_CORDONED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bcordon(?:ed|s|ing)? (?:all|every)\b[^.\n]{0,20}?\b(?:nodes?|workers?)\b|\b(?:all|every)\b[^.\n]{0,20}?\b(?:nodes?|workers?)\b[^.\n]{0,30}?\b(?:cordoned|schedulingdisabled)\b")
        .expect("the loose patterns are valid regexes")
});

/// Nodes said to be left cordoned after whatever cordoned them (an upgrade, a drain, a
/// reboot or maintenance run) was over (lower-cased, flattened text): "the masters stay
/// SchedulingDisabled after the upgrade", "nodes remain cordoned", "never come back as
/// workers unless I `kubectl uncordon` them", "we have to uncordon them by hand", "the
/// playbook doesn't uncordon the node".
static LEFT_CORDONED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:stay|stays|stayed|remain|remains|remained|left|leaves|kept|keeps|stuck)\b[^.\n]{0,30}?\b(?:cordoned|schedulingdisabled)\b|\b(?:unless|until|have to|has to|had to|need to|needs to|needed to|must) (?:i |we |you |they |someone )?(?:manually |by hand )?(?:run |do |execute )?[`'\x22]?(?:kubectl )?uncordon|(?:\bnever|\bnot|n't)\b[^.\n]{0,20}?\buncordon(?:ed|s|ing)?\b")
        .expect("the loose patterns are valid regexes")
});

/// A cordon (or `SchedulingDisabled`) named anywhere in the text (lower-cased).
fn cordon_named(lower: &str) -> bool {
    lower.contains("cordon") || lower.contains("schedulingdisabled")
}

/// Cordoned nodes told rather than listed (no `kubectl get nodes` table), beside pods that
/// do not start, with no scheduler message: no node accepts new pods. Nodes said to be
/// left cordoned after an upgrade or drain count even beside a table and without pods
/// said to wait: the report is that the nodes no longer take work.
pub(in crate::messages) fn described_cordon(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() {
        return;
    }
    let left = LEFT_CORDONED
        .find(t.lower)
        .filter(|_| cordon_named(t.lower));
    if left.is_none() && CORDONED_ROW.is_match(t.text) {
        return;
    }
    let waiting = PODS_NOT_RUNNING.is_match(t.lower) || NOT_SCHEDULABLE.is_match(t.lower);
    let Some(m) = left
        .or_else(|| ALL_CORDONED.find(t.lower))
        .or_else(|| DESCRIBED_CORDON.find(t.lower).filter(|_| waiting))
        .or_else(|| CORDON_COMMAND.find(t.lower).filter(|_| waiting))
        .or_else(|| {
            MARKED_UNSCHEDULABLE
                .find(t.lower)
                .filter(|m| waiting_beside(t.lower, m))
        })
    else {
        return;
    };
    out.push(Finding::new(
        Class::UnschedulableNodes,
        0.5,
        "the nodes are said to be cordoned or drained (SchedulingDisabled, spec.unschedulable), so no new pod can be scheduled on them; find what cordons them (a drain, an upgrade or maintenance controller, a node-problem remedy), then `kubectl uncordon NODE`",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &CORDONED_ROW,
        &DESCRIBED_CORDON,
        &CORDON_COMMAND,
        &ALL_CORDONED,
        &LEFT_CORDONED,
    ] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
