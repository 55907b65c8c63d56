//! Loose capacity signals: capacity the cluster lacks, and a node autoscaler said not to
//! add nodes, told in words rather than quoted.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::says_pending;
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// Capacity told in words: "not enough resources in the cluster", "I don't have any GPUs
/// to allocate to the pod", "more resources than the cluster has", "the GPU is already
/// taken by another pod".
static DESCRIBED_CAPACITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:not enough|insufficient|ran out of|runs? out of|lack(?:s|ing)?(?: of)?)\s+(?:free |available |spare |allocatable )?(?:resources|hardware|capacity|gpus?|cpus?|memory)|no (?:free |available |spare |allocatable )(?:resources|capacity|gpus?|cpus?|memory)|no (?:resources|capacity|gpus?|cpus?) (?:available|left|free))\b[^.\n]{0,40}?\b(?:in|on|of) (?:the |my |our |this )?(?:cluster|nodes?|node pool|node group)\b|\b(?:don't|do not|doesn't|does not|didn't|did not) have (?:any|enough) (?:free |available |spare |allocatable )?(?:gpus?|cpus?|memory|resources|capacity)\b[^.\n]{0,30}?\b(?:to allocate|available|left|for (?:the|this|my) pod)|\bmore (?:resources|cpu|memory|gpus?)\b,? than (?:the |my |our )?cluster (?:has|have|had|offers)\b|\bexceed(?:s|ed|ing)? (?:the )?(?:upper limit|capacity|size|allocatable|resources?|limits?) of (?:the |a |any |my |our |each |every )?(?:machines?|nodes?|hosts?|instances?|servers?|vms?)\b|\bmore (?:resources|cpus?|memory|gpus?)\b,? than (?:the |any |a |my |our |each |one )?(?:machines?|nodes?|hosts?|instances?|servers?|vms?) (?:has|have|had|offers?|provides?)\b|\b(?:gpus?|fpgas?|tpus?|devices?|[a-z0-9-]+\.[a-z]{2,}/[a-z][a-z0-9._-]*)\b[^.\n]{0,60}?\b(?:already )?(?:used|taken|held|occupied|allocated|claimed|consumed|grabbed|in use) by (?:another|other|an other|the other|a different|an existing|existing|a running|a pending) (?:[a-z-]+ )?(?:pods?|workloads?|containers?|jobs?|replicas?)\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said to wait until their requests were lowered, or to schedule once they were
/// (lower-cased, flattened text): "pending until I reduce the executor memory", "stuck
/// until we lowered the cpu request", "after reducing the memory request to 4Gi the pods
/// got scheduled". The request was more than any node's allocatable left for it.
static WAITED_UNTIL_REQUEST_LOWERED: LazyLock<Regex> = LazyLock::new(|| {
    let lowered = r"(?:reduc|lower|decreas|shrink|cut|drop|halv)\w*\b[^.\n]{0,40}?\b(?:memory|mem|cpus?|requests?|resources?|gpus?|ram)\b";
    Regex::new(&format!(
        r"\b(?:pending|unschedulable|not (?:being )?scheduled|stuck|waiting)\b[^.\n]{{0,60}}?\buntil (?:i |we |they |you )?(?:had )?{lowered}|\b(?:after|once|when) (?:i |we |they |you )?(?:had )?{lowered}\b[^.\n]{{0,60}}?\b(?:(?:got|get|were|was|are|is) scheduled|scheduled fine|(?:started|start) running|left pending)\b"
    ))
    .expect("the loose patterns are valid regexes")
});

/// The same pod said to schedule once its requests are gone (lower-cased, flattened text):
/// "without the resource requests it gets scheduled", "removing the requests block makes
/// it run", "after deleting the resources section it started".
static RUNS_WITHOUT_REQUESTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:without|remov\w*|delet\w*|dropp?\w*|strip\w*|comment\w* out|(?:take|took|taking) out)\b (?:the |any |its |my |our |all |those )?(?:(?:resources? )?requests?(?: (?:section|block|stanza|field)s?)?|resources? (?:section|block|stanza|field)s?)\b[^.\n]{0,60}?\b(?:works?|worked|runs?|ran|gets? scheduled|got scheduled|schedules|scheduled fine|starts?|started)\b")
        .expect("the loose patterns are valid regexes")
});

/// A variant of the report's manifest said to work (lower-cased, flattened text): "the
/// following configuration works", "the same manifest works", "this spec runs fine".
static WORKING_VARIANT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:following|this|that|same|other|second|next|below) (?:pod )?(?:configuration|config|manifest|spec|yaml|definition|file)\b[^.\n]{0,20}?\b(?:works|worked|is working|runs fine|schedules)\b")
        .expect("the loose patterns are valid regexes")
});

/// Where the report says the pod runs without its requests: in words, or as a manifest with
/// a `requests:` block followed by a variant said to work that has none.
fn runs_without_requests(lower: &str) -> Option<usize> {
    if let Some(m) = RUNS_WITHOUT_REQUESTS.find(lower) {
        return Some(m.start());
    }
    let m = WORKING_VARIANT.find(lower)?;
    let (before, after) = lower.split_at(m.start());
    (before.contains("requests:") && !after.contains("requests:")).then_some(m.start())
}

/// Capacity described rather than quoted, when pods wait or a deploy does not progress and
/// no scheduler message says more: the weakest capacity reading.
pub(in crate::messages) fn described_capacity(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() {
        return;
    }
    // Pods that waited until their requests were lowered say they waited; a pod that runs
    // without its requests must be said to wait with them.
    let (at, waiting) = if let Some(m) = DESCRIBED_CAPACITY.find(t.lower) {
        let on_nodes = ["cluster", "node", "machine", "host", "instance"]
            .iter()
            .any(|w| m.as_str().contains(w));
        (m.start(), on_nodes || says_pending(t.lower))
    } else if let Some(m) = WAITED_UNTIL_REQUEST_LOWERED.find(t.lower) {
        (m.start(), true)
    } else if let Some(at) = runs_without_requests(t.lower) {
        (at, says_pending(t.lower))
    } else {
        return;
    };
    if !waiting {
        return;
    }
    out.push(Finding::new(
        Class::InsufficientResources,
        0.45,
        "the report says the cluster lacks the capacity the pods request (cpu, memory or an extended resource such as GPUs): compare the pods' requests with the nodes' allocatable, and check that the nodes advertise the resource at all",
        &quote_at(t.flat, at),
        false,
        Fact::None,
    ));
}

/// A gang scheduler holding a pod group for lack of room (lower-cased text): Volcano's
/// `1/1 tasks in gang unschedulable: pod group is not ready` and its PodGroup condition
/// `Reason: NotEnoughResources`, the coscheduling plugin's `… pods in pod group are
/// unschedulable` / `pod group is not ready`.
static GANG_UNSCHEDULABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bin gang unschedulable\b|\breason:\s+notenoughresources\b|\bpod ?group\b[^.\n]{0,60}?\b(?:unschedulable|not ready|not enough resources)\b")
        .expect("the loose patterns are valid regexes")
});

/// A gang scheduler (Volcano, the coscheduling plugin) holds the pods of a group until all
/// the group's minimum fit at once: none starts, and the pods carry no scheduler event of
/// their own. What blocks them is room for the group together.
pub(in crate::messages) fn gang_unschedulable(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() {
        return;
    }
    let Some(m) = GANG_UNSCHEDULABLE.find(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::InsufficientResources,
        0.65,
        "a gang scheduler (Volcano, the coscheduling plugin) holds the pod group: it starts none of the group's pods until all of its minimum (minAvailable / minMember) fit at once, and the nodes lack room for them together; compare the group's summed requests with the nodes' free allocatable (`kubectl describe podgroup`), or lower minAvailable or the requests",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// An autoscaler said (in words) not to add nodes: "the autoscaler doesn't scale up",
/// "Karpenter never launches a node", "no scale-up happens".
static DESCRIBED_NO_SCALE_UP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:cluster[- ]autoscaler|autoscaler|karpenter)\b[^.\n]{0,60}?\b(?:doesn't|does not|didn't|did not|won't|will not|isn't|is not|wasn't|never|refuses?|fail(?:s|ed)? to)\b|\b(?:no|not|never|doesn't|didn't|won't|without)\b[^.\n]{0,30}?\bscal(?:e|es|ed|ing)[ -]?(?:up|out)\b")
        .expect("the loose patterns are valid regexes")
});

/// A node autoscaler said to be too slow to act (lower-cased, flattened text): "Karpenter
/// is computing pod scheduling and it's taking a lot of time", "the cluster autoscaler
/// takes forever to scale", "Karpenter hangs", "the node autoscaler is very slow". A bare
/// "autoscaler" or "provisioner" may be a pod autoscaler or a storage provisioner.
/// While its simulation runs (thousands of pods, a huge cluster), it launches no node.
static SLOW_AUTOSCALER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:cluster[- ]autoscaler|node autoscaler|karpenter)\b[^.\n]{0,60}?\b(?:taking|takes|took|take) (?:a (?:lot of|long) time|(?:too |very |so |really )?long|forever|ages|(?:several |many |\d+ )?(?:minutes|hours))\b|\b(?:cluster[- ]autoscaler|node autoscaler|karpenter)\b[^.\n]{0,20}?\b(?:(?:is|are|was|were|gets|got|seems|being) (?:very |too |extremely |really |so )?(?:slow|stuck|hung|hanging)|hangs|hung|runs (?:very |too |extremely |really |so )?slow(?:ly)?)\b")
        .expect("the loose patterns are valid regexes")
});

/// A no-scale-up told plainly enough to stand without "pending": a scale-up said not to be
/// triggered, nodes said not to be added, a named node autoscaler said not to scale up or
/// out (a node pool, for a pod that needs a GPU), a node group (ASG, node pool) said to be
/// at or above its maximum size (lower-cased text).
static NO_SCALE_UP_STRONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:cluster[- ]autoscaler|node autoscaler|karpenter)\b[^.\n]{0,40}?\b(?:doesn't|does not|didn't|did not|won't|will not|never|fails? to|failed to)\s+scales?[ -]?(?:up|out)\b|\bscale[- ]?ups? (?:was|were|would|is|will|did)(?:n't| not| never) (?:be |get )?triggered\b|\bno (?:new |more |additional )?(?:nodes?|instances?|machines?) (?:(?:were|was|are|is|get|got|being) )?(?:added|launched|provisioned|created)\b|\b(?:not|never|didn't|doesn't|won't) trigger(?:ed|ing)? (?:a |any )?scale[- ]?ups?\b|\b(?:nodes?|instances?|machines?) (?:were|was|are|is|get|got|are being)(?:n't| not| never) (?:added|launched|provisioned|created|spun up)\b|\b(?:doesn't|does not|didn't|did not|won't|will not|never) (?:add|launch|provision|spin up)s? (?:a |any |new |more |the )?(?:nodes?|instances?|machines?)\b|\b(?:exceeds?|exceeding|above|over) (?:the |its )?(?:asg'?s? |node ?group'?s? |node ?pool'?s? |group'?s? )?max(?:imum)?(?: ?size| capacity| node count)?\b|\b(?:reached|hit|hits|at) (?:the |its )?(?:max(?:imum)?|maxsize) (?:size|capacity|node count|nodes)\b")
        .expect("the loose patterns are valid regexes")
});

/// The cluster-autoscaler's status (its `cluster-autoscaler-status` ConfigMap, `kubectl
/// describe` of it) saying no scale-up is under way: `ScaleUp: NoActivity (ready=2 …)`, for
/// the cluster or a node group (lower-cased text).
static STATUS_NO_ACTIVITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bscaleup:\s+noactivity\b").expect("the loose patterns are valid regexes")
});

/// A node group said to sit at zero, or to scale from zero (lower-cased text): "min and
/// desired capacity set to 0", "minSize: 0", "scale up from zero", "scaled to zero", "a
/// zero-sized ASG". Its nodes do not exist, so the autoscaler judges the pod against a
/// template built from the group's tags or node template.
static FROM_ZERO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bscal(?:e|es|ed|ing)(?:[ -]up|[ -]out)?[ -]from[ -](?:0|zero)\b|\b(?:0|zero)[- ]nodes? (?:node ?)?(?:pools?|groups?|asgs?)\b|\bscaled? (?:down |in )?to (?:0|zero)\b|\b(?:0|zero)[- ]sized?\b|\bmin_?(?:imum)?\.?[ _-]?(?:size|capacity|count|nodes?)?\s*(?:(?:is|are|was|were)\s+)?(?:set\s+)?(?:to|at|=|:)\s*(?:0|zero)\b|\b(?:desired|min)(?:\.? (?:and|&|/) (?:desired|min)\.?)? (?:size|capacity|count)s?\s+(?:(?:is|are|was|were)\s+)?(?:set\s+)?(?:to|at|=|:)\s*(?:0|zero)\b|\b(?:0|zero) (?:nodes?|instances?) in (?:the |that |this )?(?:node ?group|node ?pool|asg|group)\b")
        .expect("the loose patterns are valid regexes")
});

/// The node autoscaler's own pods or workload (lower-cased): "Karpenter pods is stuck in
/// Pending", "the cluster-autoscaler pod is pending", "karpenter's deployment never becomes
/// ready": what happens to them is not the autoscaler declining a scale-up.
static AUTOSCALER_OWN_PODS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:cluster[- ]autoscaler|autoscaler|karpenter)(?:'s)?[ -](?:controller[ -])?(?:pods?|replicas?|deployment)\b")
        .expect("the loose patterns are valid regexes")
});

/// A node autoscaler described as not adding nodes while pods are pending, with no
/// autoscaler message quoted: the weakest no-scale-up reading (the pod's requests or
/// constraints may fit no node group's template). Beside a quoted fit error it counts only
/// when the autoscaler is named and a new node would fix the error's reasons (no room, a
/// volume's zone); a group said to scale from zero stands in for "pending"
/// (its template, not a node, is what the pod is judged against).
pub(in crate::messages) fn described_no_scale_up(t: &Input<'_>, out: &mut Vec<Finding>) {
    // The words the finding quotes come first: without them there is nothing to say, and
    // the costlier checks below (the autoscaler parse of every line) are skipped.
    let strong = NO_SCALE_UP_STRONG.find(t.lower);
    let weak = match strong {
        Some(_) => None,
        None => DESCRIBED_NO_SCALE_UP
            .find(t.lower)
            .or_else(|| STATUS_NO_ACTIVITY.find(t.lower))
            .or_else(|| SLOW_AUTOSCALER.find(t.lower))
            .or_else(|| crate::messages::described::below_threshold(t.lower)),
    };
    if strong.is_none() && weak.is_none() {
        return;
    }
    // The autoscaler's own words (NotTriggerScaleUp, a max-size verdict) are the
    // autoscaler rule's, with more confidence.
    if t.text
        .lines()
        .any(|l| crate::messages::autoscaler::parse_autoscaler(l).is_some())
        || crate::messages::autoscaler::parse_autoscaler(t.flat).is_some()
    {
        return;
    }
    let anchors = t.anchors;
    let with_fit = !anchors.is_empty();
    // Beside a fit error, only when a new node would fix what it names.
    if with_fit && !crate::messages::described::a_new_node_fixes(t.text, anchors) {
        return;
    }
    let from_zero = FROM_ZERO.find(t.lower);
    let pending = says_pending(t.lower) || with_fit || from_zero.is_some();
    let Some(m) = strong.or_else(|| weak.filter(|_| pending)) else {
        return;
    };
    if AUTOSCALER_OWN_PODS.is_match(m.as_str()) {
        return;
    }
    if !crate::messages::described::about_node_autoscaler(t.lower, m.as_str(), pending)
        || with_fit && !crate::messages::described::names_node_autoscaler(t.lower)
    {
        return;
    }
    let finding = match from_zero {
        Some(z) => Finding::new(
            Class::NoScaleUp,
            0.55,
            "a node group that scales from zero is said not to scale up: with no node to look at, the autoscaler judges the pod against a template built from the group's tags (ASG `k8s.io/cluster-autoscaler/node-template/label|taint|resources/…`, a node pool's template), so labels, taints or resources (GPUs, ephemeral storage) the template does not advertise make the pod fit no group; add the tags or set the group's minimum to 1",
            &quote_at(t.flat, z.start().min(m.start())),
            false,
            Fact::None,
        ),
        None => Finding::new(
            Class::NoScaleUp,
            0.45,
            "pods are pending and the node autoscaler is said not to add a node: check its NotTriggerScaleUp event or log; a pod whose requests exceed a node group's allocatable (not its instance size) or whose constraints fit no group's template never triggers a scale-up",
            &quote_at(t.flat, m.start()),
            false,
            Fact::None,
        ),
    };
    out.push(finding);
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &DESCRIBED_CAPACITY,
        &WAITED_UNTIL_REQUEST_LOWERED,
        &RUNS_WITHOUT_REQUESTS,
        &WORKING_VARIANT,
        &DESCRIBED_NO_SCALE_UP,
        &NO_SCALE_UP_STRONG,
        &AUTOSCALER_OWN_PODS,
        &STATUS_NO_ACTIVITY,
        &FROM_ZERO,
        &SLOW_AUTOSCALER,
        &GANG_UNSCHEDULABLE,
    ] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
