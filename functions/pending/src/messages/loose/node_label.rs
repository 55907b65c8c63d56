//! Nodes said to lack the label a pod requires: its nodeSelector or required node affinity
//! names a label no node carries (never labelled, forgotten, a typo), told in words.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::says_pending;
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_around, quote_at};

/// Nodes said to lack the label a pod's selector or affinity requires, beside pending pods.
static NODES_UNLABELED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:nodes?|workers?|masters?|controllers?|control[- ]planes?)\b[^.\n]{0,40}?\b(?:not|aren't|isn't|weren't|wasn't|without|lack(?:s|ing)?|missing)\b[^.\n]{0,20}?\blabel(?:ed|led|s)?\b|\bno nodes? (?:has|have|with|carr(?:y|ies)|match(?:es)?) (?:the |that |this |a )?(?:label|nodeselector|node selector)|\b(?:forg[eo]t(?:ten)?|neglected|missed) to label (?:the |my |our |any |all |some )?(?:nodes?|workers?)\b|\b(?:didn't|did not|never|haven't|have not|hadn't|had not|not yet) label(?:l?ed)? (?:the |my |our |any |all )?(?:nodes?|workers?)\b|\btypos? in (?:the |its |their )?(?:node )?labels?\b|\blabels? (?:has|had|with) a typo\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said to stay pending because of their node selector (lower-cased text): "stuck
/// pending due to the nodeSelector", "pending because of its node affinity", or a selector
/// pinned to a node that is gone ("stuck with a node-selector of a terminated node", "the
/// nodeSelector points to a removed node"): no node matches it.
static SELECTOR_BLOCKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:pending|stuck|unschedulable)\b[^.\n]{0,30}?\b(?:due to|because of|caused by)\s+(?:the\s+|its\s+|their\s+|a\s+)?(?:node[- ]?selectors?|node ?affinity)\b|\b(?:node[- ]?selectors?|node ?affinity|nodename)\b[^.\n]{0,30}?\b(?:of|for|to|pointing (?:to|at)|on|naming)\s+(?:a|an|the)\s+(?:removed|deleted|terminated|replaced|decommissioned|non-?existent|missing|gone|dead)\s+(?:node|host|instance|machine)s?\b")
        .expect("the loose patterns are valid regexes")
});

/// The pod's spec names a node label requirement (lower-cased text).
static NODE_REQUIREMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bnode[- ]?selectors?\b|\bnode ?affinity\b")
        .expect("the loose patterns are valid regexes")
});

/// Nodes described as missing the label the pods select on (never labelled, forgotten, a
/// typo), while pods are pending or beside the nodeSelector / node affinity that needs it.
pub(in crate::messages) fn described_node_label(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !(says_pending(t.lower) || NODE_REQUIREMENT.is_match(t.lower)) || !t.anchors.is_empty() {
        return;
    }
    if let Some(m) = SELECTOR_BLOCKS.find(t.lower) {
        out.push(Finding::new(
            Class::NodeAffinity,
            0.55,
            "the pods stay Pending because of their node selector: it requires a label (or pins a node, by hostname) that no schedulable node carries, e.g. a node that was removed; label a node, or fix the selector (its owner may re-pin it to a live node)",
            &quote_at(t.flat, m.start()),
            false,
            Fact::None,
        ));
        return;
    }
    let Some(m) = NODES_UNLABELED.find(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::NodeAffinity,
        0.5,
        "the pods require a node label (nodeSelector / required node affinity) that the nodes do not carry, so they stay Pending; label the intended nodes or relax the selector",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// A node role the pod selects: `Node-Selectors:  node-role.kubernetes.io/master=` in
/// describe output, `node-role.kubernetes.io/worker: ""` under a `nodeSelector:`.
static SELECTED_ROLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*(?:Node-Selectors:\s*(?:\S+\s*,\s*)*|nodeSelector:\s*\{?\s*|)[`'"]?node-role\.kubernetes\.io/([a-z0-9][a-z0-9._-]*)[`'"]?\s*(?:=|:\s*(?:[`'"]|true\b|$))"#)
        .expect("the loose patterns are valid regexes")
});

/// A `kubectl get nodes` row: name, status, roles, age, version.
static NODE_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*\S+\s+(?:Ready|NotReady)(?:,SchedulingDisabled)?\s+(\S+)\s+\S+\s+v\d")
        .expect("the loose patterns are valid regexes")
});

/// The pod selects a node role (`node-role.kubernetes.io/<role>`) that no node of a pasted
/// `kubectl get nodes` table has in its ROLES column: no node matches the selector, whatever
/// the report's words say. The common case: a chart selecting `master`, which kubeadm stopped
/// putting on control-plane nodes in Kubernetes 1.24 (they are `control-plane` only).
pub(in crate::messages) fn selected_role_absent(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() || !in_selector(t.text) {
        return;
    }
    let roles: Vec<&str> = NODE_ROW
        .captures_iter(t.text)
        .filter_map(|c| c.get(1))
        .flat_map(|m| m.as_str().split(','))
        .collect();
    if roles.is_empty() {
        return;
    }
    let Some((role, line)) = SELECTED_ROLE
        .captures_iter(t.text)
        .filter_map(|c| Some((c.get(1)?.as_str(), c.get(0)?.as_str().trim())))
        .find(|(role, _)| !roles.contains(role))
    else {
        return;
    };
    let mut shown: Vec<&str> = roles.clone();
    shown.sort_unstable();
    shown.dedup();
    let hint = if role == "master" && shown.contains(&"control-plane") {
        " (kubeadm labels control-plane nodes `node-role.kubernetes.io/control-plane` only since Kubernetes 1.24; select that, or label the nodes)"
    } else {
        "; label the intended nodes or change the selector"
    };
    out.push(Finding::new(
        Class::NodeAffinity,
        0.75,
        format!(
            "the pod selects nodes with the role `{role}` (node-role.kubernetes.io/{role}), which no node listed has (roles shown: {}), so no node matches its nodeSelector{hint}",
            shown.join(", ")
        ),
        &quote_around(t.text, line),
        false,
        Fact::None,
    ));
}

/// True when a role label appears where a pod selects nodes (describe's `Node-Selectors:`
/// or a `nodeSelector:` key), not only as a taint or a node's own label.
fn in_selector(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        (l.starts_with("Node-Selectors:") || l.starts_with("nodeSelector:"))
            && !l.ends_with("<none>")
    }) && text.contains("node-role.kubernetes.io/")
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &NODES_UNLABELED,
        &SELECTOR_BLOCKS,
        &NODE_REQUIREMENT,
        &SELECTED_ROLE,
        &NODE_ROW,
    ] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
