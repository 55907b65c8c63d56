//! Causes told in prose or shown as objects rather than quoted from the scheduler, in any
//! tool's words: a taint the pending pod does not tolerate (said, or printed as the nodes'
//! `spec.taints`); a local volume pinned to a node that is gone; a pod its gang scheduler
//! holds without marking it `Unschedulable` (so no autoscaler sees it); a node autoscaler
//! expected to add a node beside a fit error a new node would fix; and the judgement of
//! whether a "no scale-up" sentence is about a node autoscaler. Each is weaker than the
//! scheduler's or autoscaler's own words, except the expected scale-up, whose fit error is
//! the precondition of the scale-up the report is about.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::reasons::Reason;
use super::rules::Input;
use super::{Fact, Finding, quote_at};

/// A taint said to keep the pod off a node (lower-cased, flattened text): "does not
/// tolerate the taint", "no toleration for", "nodes are tainted with", "untolerated taint",
/// "after removing the taint it works".
static TAINT_BLOCKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b(?:not|no|without|missing|lacks?|lacking)\b|n't)[^.\n]{0,30}?\btolera(?:te|tes|ted|tion|tions)\b|\buntolerated taints?\b|\b(?:because of|due to|blocked by|caused by)\b[^.\n]{0,30}?\btaints?\b|\btainted (?:with|by|as)\b|\b(?:remov(?:e|ed|ing)|delet(?:e|ed|ing)|untaint(?:ed|ing)?)\b[^.\n]{0,30}?\btaints?\b[^\n]{0,60}?\b(?:works?|worked|fixed|solved|resolved|scheduled|running|started)\b")
        .expect("the described patterns are valid regexes")
});

/// A taint key as Kubernetes writes them (`node-role.kubernetes.io/control-plane`,
/// `CriticalAddonsOnly`, `dedicated=gpu`), after the word taint.
static TAINT_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:taints?|tainted (?:with|by)|tolerations? for)[\s`'\x22:]+(?:\{\s*)?([a-z0-9][a-z0-9._-]*(?:/[a-z0-9._-]+)?(?:=[a-z0-9._-]+)?)")
        .expect("the described patterns are valid regexes")
});

/// Pods said not to be scheduled: pending, unschedulable, "can't be scheduled".
static NOT_PLACED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bpending\b|\bunschedulable\b|\bnot schedulable\b|(?:n't|\bnot|\bcannot|\bunable to|\bnever) (?:be |get |gets )?schedul(?:ed|able)\b")
        .expect("the described patterns are valid regexes")
});

/// Pods said to stay unscheduled: stuck, still or left pending, unschedulable, "can't be
/// scheduled", or the scheduler said in the active voice not to place them ("the scheduler
/// was unable to schedule it", "couldn't schedule the pods") (a bare "pending" may only
/// describe when something happens).
static STUCK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:stuck|stays?|staying|remains?|remained|still|sits?|hangs?|left)\b[^.\n]{0,20}?\bpending\b|\bunschedulable\b|(?:n't|\bnot|\bcannot|\bunable to|\bnever) (?:be |get |gets )?schedul(?:ed|able)\b|(?:n't|\bnot|\bcannot|\bunable to|\bnever|\bfail(?:s|ed)? to) schedul(?:e|ing) (?:it|them|the pods?|pods?|my pods?|our pods?|this pod|these pods)\b")
        .expect("the described patterns are valid regexes")
});

/// Words of a taint that tells nothing: the scheduler message words, not a key.
const NOT_KEYS: [&str; 8] = ["from", "on", "the", "that", "of", "in", "and", "with"];

/// A taint told in prose as what keeps pending pods off the nodes (no `key:Effect` triple,
/// no `Taints:` block, no scheduler message): "it does not tolerate the taint
/// node-role.kubernetes.io/control-plane", "the workers are tainted with dedicated=ml".
pub(super) fn described_taint(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !NOT_PLACED.is_match(t.lower) || t.text.contains("Taints:") || !t.anchors.is_empty() {
        return;
    }
    if taint_objects(t, out) {
        return;
    }
    if !(t.lower.contains("taint") || t.lower.contains("kubernetes.io/"))
        || t.lower.contains("taints:")
        // A `key:Effect` triple is the bare-taint rule's, with more to say.
        || t.lower.contains(":noschedule")
        || t.lower.contains(":noexecute")
        || !NOT_PLACED.is_match(t.lower)
        || !t.anchors.is_empty()
    {
        return;
    }
    let Some(m) = TAINT_BLOCKS.find(t.lower) else {
        return;
    };
    let key = TAINT_KEY
        .captures_iter(t.flat)
        .filter_map(|c| c.get(1).map(|k| k.as_str()))
        .find(|k| {
            !NOT_KEYS.contains(&k.to_ascii_lowercase().as_str())
                && (k.contains(['/', '.', '=']) || k.len() > 12)
        });
    let summary = match key {
        Some(k) => format!(
            "the report says the pending pods do not tolerate the taint {k} on the nodes: add a matching toleration, or remove the taint if the nodes are meant for them"
        ),
        None => "the report says the pending pods do not tolerate a taint on the nodes: find it (`kubectl describe nodes | grep Taints`) and add a matching toleration, or remove the taint".to_owned(),
    };
    out.push(Finding::new(
        Class::UntoleratedTaint,
        0.5,
        summary,
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
}

/// One field of a taint object: `key: x` (YAML), `"key": "x"` (JSON), `key:x` (Go's
/// `map[…]` print of `-o custom-columns=…:.spec.taints`).
static TAINT_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(key|value|effect)\x22?:\s*\x22?([A-Za-z0-9][A-Za-z0-9._/-]*)?"#)
        .expect("the described patterns are valid regexes")
});

/// Node taints printed as objects (`spec.taints` of `kubectl get node -o yaml|json`, a
/// `TAINTS` custom column of `map[effect:NoSchedule key:…]`) beside pending pods: each item
/// with a key and a NoSchedule / NoExecute effect. The list ends at the first `tolerations`
/// (the pod's, which say what is tolerated) or after 1 KiB. Returns whether it found one.
fn taint_objects(t: &Input<'_>, out: &mut Vec<Finding>) -> bool {
    let mut taints: Vec<(String, String, String)> = Vec::new();
    let mut from = 0;
    while let Some(at) = t.lower[from..].find("taints").map(|p| p + from) {
        from = at + "taints".len();
        let end = t
            .lower
            .floor_char_boundary((from + 1024).min(t.lower.len()));
        let end = t.lower[from..end]
            .find("toleration")
            .map_or(end, |p| p + from);
        // Items split at YAML's `- `, JSON's braces and Go's `map[`.
        let window = t.flat[from..end]
            .replace("map[", " - ")
            .replace(['{', '}', '[', ']'], " - ");
        for item in window.split(" - ") {
            let (mut key, mut value, mut effect) = (String::new(), String::new(), String::new());
            for c in TAINT_FIELD.captures_iter(item) {
                let v = c.get(2).map_or("", |m| m.as_str()).to_owned();
                match c[1].to_ascii_lowercase().as_str() {
                    "key" => key = v,
                    "value" => value = v,
                    _ => effect = v,
                }
            }
            let blocks = effect.eq_ignore_ascii_case("noschedule")
                || effect.eq_ignore_ascii_case("noexecute");
            let taint = (key, value, effect);
            if blocks && !taint.0.is_empty() && !taints.contains(&taint) {
                taints.push(taint);
            }
        }
    }
    // The cordon taint is the cordon rules' (a cordoned node, not a toleration to add).
    taints.retain(|(k, _, _)| k != "node.kubernetes.io/unschedulable");
    let Some((k, v, e)) = taints.first() else {
        return false;
    };
    let shown = crate::selectors::taint_shown(k, v, e);
    out.push(Finding::new(
        Class::UntoleratedTaint,
        // Above the bare-taint rule, which reads `effect:NoSchedule` of a `map[…]` as a
        // taint named `effect`.
        0.58,
        format!("the nodes listed carry the taint {shown} (spec.taints) and the pending pods do not tolerate it: add a matching toleration, or remove the taint if the nodes are meant for them"),
        &super::quote_around(t.text, k),
        true,
        Fact::NodeTaints(taints.clone()),
    ));
    true
}

/// A scale-up told not to happen because the pod's share stays under an autoscaler's
/// threshold (utilisation-based autoscalers): "not enough to trigger a scale-up", "below
/// the scale-up threshold", "never crosses the scaling threshold".
static BELOW_THRESHOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:not enough|too (?:small|little)|insufficient)\b[^.\n]{0,20}?\bto trigger (?:a |any )?scale[- ]?(?:ups?|outs?)\b|\b(?:below|under|beneath|short of|(?:doesn't|does not|don't|do not|never|not) (?:reach|exceed|cross|pass|push)\w*)\b[^.\n]{0,50}?\b(?:scale[- ]?(?:up|out)|scaling|autoscal\w*) thresholds?\b")
        .expect("the described patterns are valid regexes")
});

/// Pod autoscalers: their "no scale-up" is about replicas, not nodes.
static POD_AUTOSCALER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bhpa\b|horizontal ?pod ?autoscal|\bkeda\b|\bscaledobject\b|\breplicas? (?:do|does|did|are|is)(?:n't| not) scal")
        .expect("the described patterns are valid regexes")
});

/// Words that name a node autoscaler or what it grows, whatever the product.
const NODE_AUTOSCALER_WORDS: [&str; 9] = [
    "autoscaler",
    "karpenter",
    "node group",
    "nodegroup",
    "node pool",
    "nodepool",
    "asg",
    "auto scaling group",
    "autoscaling group",
];

/// Whether the no-scale-up sentence `said` (lower-cased) is about a node autoscaler: one
/// is named, or the sentence speaks of a scale-up (an autoscaler's own vocabulary: a
/// "scale-up" that is not triggered, a threshold not reached) beside pods that cannot be
/// scheduled and no pod autoscaler (HPA, KEDA) is in the text.
pub(super) fn about_node_autoscaler(lower: &str, said: &str, pending: bool) -> bool {
    if names_node_autoscaler(lower) {
        return true;
    }
    let speaks_of_scale_up = ["scale-up", "scale up", "scaleup", "scale out", "threshold"]
        .iter()
        .any(|w| said.contains(w))
        || BELOW_THRESHOLD.is_match(lower);
    speaks_of_scale_up && pending && !POD_AUTOSCALER.is_match(lower)
}

/// Whether a node autoscaler (or its node groups) is named in `lower`.
pub(super) fn names_node_autoscaler(lower: &str) -> bool {
    NODE_AUTOSCALER_WORDS.iter().any(|w| lower.contains(w))
}

/// [`BELOW_THRESHOLD`]'s first match in `lower`, for the no-scale-up rule.
pub(super) fn below_threshold(lower: &str) -> Option<regex::Match<'_>> {
    BELOW_THRESHOLD.find(lower)
}

/// A condition's `reason` and `status` fields as JSON, YAML or `kubectl describe` print them
/// (lower-cased, flattened text).
static CONDITION_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\b(reason|status)\x22?:\s*\x22?([a-z]+)"#)
        .expect("the described patterns are valid regexes")
});

/// The reason of a `PodScheduled=False` condition that is not the scheduler's
/// `Unschedulable` (nor `SchedulingGated`), with the condition's text: a batch or gang
/// scheduler (Volcano's `Schedulable`, "can possibly be assigned to …") holding the pod.
fn held_reason(lower: &str) -> Option<(std::ops::Range<usize>, usize)> {
    let mut from = 0;
    while let Some(at) = lower[from..].find("podscheduled").map(|p| p + from) {
        from = at + 1;
        // The condition object around the type: from its `{` (or YAML list item `- `) to
        // its `}` (or the next item), at most 400 bytes either side.
        let before = &lower[..at];
        let start = [before.rfind(['{', '}']), before.rfind(" - ")]
            .into_iter()
            .flatten()
            .max()
            .map_or(0, |p| p + 1)
            .max(at.saturating_sub(400));
        let start = lower.floor_char_boundary(start);
        let after = &lower[at..];
        let end = [after.find(['{', '}']), after.find(" - ")]
            .into_iter()
            .flatten()
            .min()
            .map_or(lower.len(), |p| p + at)
            .min(lower.ceil_char_boundary(at + 400));
        let (mut reason, mut status) = (None, None);
        for c in CONDITION_FIELD.captures_iter(&lower[start..end]) {
            let value = c
                .get(2)
                .map_or(0..0, |v| start + v.start()..start + v.end());
            match &c[1] {
                "reason" => reason = Some(value),
                _ => status = Some(value),
            }
        }
        if let (Some(r), Some(s)) = (reason, status)
            && &lower[s] == "false"
            && !["unschedulable", "schedulinggated"].contains(&&lower[r.clone()])
        {
            return Some((r, start));
        }
    }
    None
}

/// A pending pod whose `PodScheduled=False` condition carries a reason other than
/// `Unschedulable`: its scheduler (a gang or batch scheduler waiting for the whole group to
/// fit) holds it without calling it unschedulable, and node autoscalers only add nodes for
/// pods marked `Unschedulable`, so no scale-up comes for it.
pub(super) fn held_from_autoscaler(t: &Input<'_>, out: &mut Vec<Finding>) {
    // `lower` is `flat` lower-cased: the same offsets give the reason as written.
    let Some((reason, at)) = held_reason(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::NoScaleUp,
        0.72,
        format!(
            "the pod's PodScheduled condition is False with reason `{}`, not `Unschedulable`: its scheduler (a gang or batch scheduler such as Volcano) holds it, and the cluster-autoscaler (or Karpenter) only adds nodes for pods marked Unschedulable, so no node is added for the group; make the scheduler mark held pods Unschedulable, or size the node group for the whole gang",
            &t.flat[reason],
        ),
        &quote_at(t.flat, at),
        false,
        Fact::None,
    ));
}

/// A volume said to be pinned to a node that is gone (lower-cased, flattened text): a
/// local PV (local-path, LVM, LocalPV) whose node affinity names a node deleted, replaced
/// or reinstalled, told either way round.
static VOLUME_ON_GONE_NODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:pvs?|persistent ?volumes?|volumes?|disks?|lvs?|logical volumes?)\b[^.\n]{0,80}?\b(?:node ?affinity|pinned|bound|tied|created|provisioned|lives?|located|points?)\b[^.\n]{0,80}?\b(?:nodes?|hosts?|workers?|machines?)[\w-]*\b[^.\n]{0,60}?(?:\bno longer exists?\b|\b(?:was|were|got|has been|have been) (?:deleted|removed|replaced|recreated|terminated|reinstalled|wiped)\b|\b(?:doesn't|does not|don't|do not) exist\b|\b(?:is|are) gone\b)|\b(?:nodes?|hosts?|workers?|machines?)[\w-]*\b[^.\n]{0,30}?\b(?:was|were|got|has been|have been|had been) (?:deleted|removed|replaced|recreated|terminated|reinstalled|wiped)\b[^.\n]{0,100}?\b(?:pvs?|persistent ?volumes?|volumes?|lvs?)\b|\b(?:replaced|deleted|removed|recreated|reinstalled|terminated)\b (?:the |a |our |one )?(?:old )?(?:nodes?|hosts?|workers?|machines?)[\w-]*\b[^.\n]{0,100}?\b(?:pvs?|persistent ?volumes?|volumes?|lvs?)\b")
        .expect("the described patterns are valid regexes")
});

/// A local volume told to be pinned to a node that no longer exists, beside a pod that
/// cannot be scheduled: the PV's node affinity names only that node, so the pod fits
/// nowhere (the scheduler's `volume node affinity conflict`). Returns whether it found one.
pub(super) fn volume_on_gone_node(t: &Input<'_>, out: &mut Vec<Finding>) -> bool {
    let Some(m) = VOLUME_ON_GONE_NODE.find(t.lower) else {
        return false;
    };
    if !NOT_PLACED.is_match(t.lower) {
        return false;
    }
    out.push(Finding::new(
        Class::VolumeBinding,
        0.5,
        "the pod's volume is said to be pinned to a node that is gone (a local PV's node affinity names only that node), so no node can take the pod: delete the claim and its PV so the provisioner creates a new volume on a live node (the data on the old node is lost), or restore the node",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
    true
}

/// A node autoscaler said to be expected to add a node (a bug report's "Expected
/// behavior", lower-cased text): "Karpenter should spin up a new node", "I expected the
/// cluster autoscaler to add a node", "CA should have scaled up the ASG", "NAP is supposed
/// to provision capacity".
static EXPECTED_SCALE_UP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b(?:cluster[- ]autoscaler|autoscaler|karpenter|ca|nap|node auto-?provisioning)\b[^.\n]{0,40}?\b(?:should(?: have)?|(?:is |was )?expected to|(?:is |was )?supposed to|ought to)|\bexpect(?:ed|ing)?\b[^.\n]{0,10}?\b(?:cluster[- ]autoscaler|autoscaler|karpenter|ca)\b[^.\n]{0,10}?\bto)\b[^.\n]{0,30}?\b(?:(?:spin(?:ning)?|bring(?:ing)?) up|launch|provision|add|create|scal(?:e|ed|ing)[ -]?(?:up|out))\w*\b")
        .expect("the described patterns are valid regexes")
});

/// A node autoscaler the report expected to add a node for a pod that stays pending, where
/// the scheduler's message (when quoted) shows what a new node would fix — no room, or a
/// volume whose zone has no usable node: the report is about the scale-up that did not
/// come, and the scheduler's reasons are its precondition.
pub(super) fn expected_scale_up(t: &Input<'_>, out: &mut Vec<Finding>) {
    let Some(m) = EXPECTED_SCALE_UP.find(t.lower) else {
        return;
    };
    // The autoscaler's own verdict, when quoted, is the autoscaler rule's.
    if super::autoscaler::parse_autoscaler(t.flat).is_some() {
        return;
    }
    let anchors = t.anchors;
    let confidence = if anchors.is_empty() {
        if !STUCK.is_match(t.lower) {
            return;
        }
        0.5
    } else {
        if !a_new_node_fixes(t.text, anchors) {
            return;
        }
        0.85
    };
    out.push(Finding::new(
        Class::NoScaleUp,
        confidence,
        "the node autoscaler was expected to add a node for the pending pod and did not: the scheduler's reasons (no room, or no usable node in its volume's zone) are what a new node would fix; read the autoscaler's verdict (NotTriggerScaleUp event, Karpenter's log or Nominated event) for why it chose not to — a node group or NodePool that cannot launch in the needed zone, a limit, or a simulation that placed the pod on an existing node",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// Whether a fit error at one of `anchors` in `text` names a reason a new node would fix:
/// no room, or a volume whose zone has no usable node.
pub(super) fn a_new_node_fixes(text: &str, anchors: &[usize]) -> bool {
    anchors.iter().take(20).any(|a| {
        super::scheduler::parse_fit(&super::message_at(text, *a)).is_some_and(|fit| {
            fit.reasons()
                .iter()
                .any(|(_, _, r)| matches!(r, Reason::Insufficient { .. } | Reason::Volume))
        })
    })
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &TAINT_BLOCKS,
        &TAINT_KEY,
        &NOT_PLACED,
        &BELOW_THRESHOLD,
        &POD_AUTOSCALER,
        &CONDITION_FIELD,
        &EXPECTED_SCALE_UP,
        &STUCK,
        &VOLUME_ON_GONE_NODE,
        &TAINT_FIELD,
    ] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
