//! Nodes said to lack the label a pod requires: its nodeSelector or required node affinity
//! names a label no node carries (never labelled, forgotten, a typo), told in words.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::says_pending;
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// Nodes said to lack the label a pod's selector or affinity requires, beside pending pods.
static NODES_UNLABELED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:nodes?|workers?|masters?|controllers?|control[- ]planes?)\b[^.\n]{0,40}?\b(?:not|aren't|isn't|weren't|wasn't|without|lack(?:s|ing)?|missing)\b[^.\n]{0,20}?\blabel(?:ed|led|s)?\b|\bno nodes? (?:has|have|with|carr(?:y|ies)|match(?:es)?) (?:the |that |this |a )?(?:label|nodeselector|node selector)|\b(?:forg[eo]t(?:ten)?|neglected|missed) to label (?:the |my |our |any |all |some )?(?:nodes?|workers?)\b|\b(?:didn't|did not|never|haven't|have not|hadn't|had not|not yet) label(?:l?ed)? (?:the |my |our |any |all )?(?:nodes?|workers?)\b|\btypos? in (?:the |its |their )?(?:node )?labels?\b|\blabels? (?:has|had|with) a typo\b")
        .expect("the loose patterns are valid regexes")
});

/// The pod's spec names a node label requirement (lower-cased text).
static NODE_REQUIREMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bnode ?selector\b|\bnode ?affinity\b")
        .expect("the loose patterns are valid regexes")
});

/// Nodes described as missing the label the pods select on (never labelled, forgotten, a
/// typo), while pods are pending or beside the nodeSelector / node affinity that needs it.
pub(in crate::messages) fn described_node_label(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !(says_pending(t.lower) || NODE_REQUIREMENT.is_match(t.lower)) || !t.anchors.is_empty() {
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

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [&NODES_UNLABELED, &NODE_REQUIREMENT] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
