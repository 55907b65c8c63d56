//! Pending pods left with an old node affinity: the owner's nodeSelector / node affinity
//! (a zone, a node pool) was changed, but the pods created before the change keep the old
//! value and are never re-created (a StatefulSet does not roll a pod that never became
//! Ready; an operator that only reconciles running pods), so they stay Pending on nodes
//! that no longer match, or match nothing.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::says_pending;
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// A node requirement told to be the old one (lower-cased, flattened text): "still with
/// the old affinity", "their affinity is still us-west-2a", "the stale nodeSelector", "the
/// node selector remained pool=a".
static STALE_AFFINITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:old|stale|previous|outdated|original|former)\b (?:node |zone )?(?:affinity|node ?selector|zone affinity)\b|\b(?:node )?(?:affinity|node ?selector)(?:'s)? (?:is|are|was|were) still\b|\b(?:affinity|node ?selector) (?:remains?|remained|stays?|stayed|kept|keeps)\b")
        .expect("the loose patterns are valid regexes")
});

/// Words just before "affinity" that make it a pod (anti-)affinity, another class.
const POD_AFFINITY: &[&str] = &["pod ", "pod-", "anti-", "anti ", "anti", "inter-pod "];

/// Pods told to keep an old node affinity or selector while pending, with no scheduler
/// message quoted.
pub(in crate::messages) fn described_stale_affinity(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !says_pending(t.lower) || !t.anchors.is_empty() {
        return;
    }
    let Some(m) = STALE_AFFINITY.find_iter(t.lower).find(|m| {
        let before = &t.lower[..m.start()];
        let at = m
            .as_str()
            .find("affinity")
            .map_or(m.start(), |a| m.start() + a);
        let word_before = &t.lower[t.lower.floor_char_boundary(at.saturating_sub(12))..at];
        !POD_AFFINITY
            .iter()
            .any(|p| word_before.ends_with(p) || before.ends_with(p))
    }) else {
        return;
    };
    out.push(Finding::new(
        Class::NodeAffinity,
        0.45,
        "the pending pods still carry the old node affinity / nodeSelector after the owner's was changed, and nothing re-creates them: delete the pending pods so the controller re-creates them from the new template (a StatefulSet does not replace a pod that never became Ready), or restore a node that matches the old value",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    LazyLock::force(&STALE_AFFINITY);
}

#[cfg(test)]
mod tests;
