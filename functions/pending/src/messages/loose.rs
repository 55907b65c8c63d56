//! Loose signals: what people paste instead of the scheduler's message. A bare taint
//! triple (`dedicated=gpu:NoSchedule`) next to "pods stay pending", or a `kubectl get
//! nodes` table whose nodes are `NotReady` (they carry the `node.kubernetes.io/not-ready`
//! taint) beside Pending pods. Both only count when no fit error or `Taints:` block says
//! more, and below the confidence of the scheduler's own words.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::rules::Input;
use super::{Fact, Finding, quote_around, quote_at};

/// `key[=value]:Effect` anywhere in a line.
static TAINT_TRIPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s\x22'`\[,(])([A-Za-z0-9][A-Za-z0-9._/-]*)(?:=([A-Za-z0-9._/-]*))?:(NoSchedule|NoExecute)\b")
        .expect("the loose patterns are valid regexes")
});

/// A `kubectl get nodes` row: name, then a status with `NotReady`.
static NOT_READY_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(\S+)\s+NotReady(?:,SchedulingDisabled)?\s+\S+\s+\S+\s+v\d")
        .expect("the loose patterns are valid regexes")
});

/// A `kubectl get pvc` row whose claim is still `Pending` (name, then the status).
static PENDING_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*([a-z0-9][-a-z0-9.]*)\s+Pending\b")
        .expect("the loose patterns are valid regexes")
});

/// True when the text says pods are not being scheduled.
fn says_pending(lower: &str) -> bool {
    lower.contains("pending") || lower.contains("not scheduled") || lower.contains("unschedulable")
}

/// Lines of a pod's `Tolerations:` block (and toleration-like `for 300s` lines): the
/// triples there are what the pod tolerates, not what blocks it.
fn toleration_lines(text: &str) -> Vec<bool> {
    let mut in_block = false;
    text.lines()
        .map(|line| {
            let l = line.trim_start();
            if l.starts_with("Tolerations:") || l.starts_with("tolerations:") {
                in_block = true;
                return true;
            }
            if in_block && (!line.starts_with(char::is_whitespace) || l.is_empty()) {
                in_block = false;
            }
            in_block || l.contains(" for ") && l.ends_with('s') || l.contains("op=Exists")
        })
        .collect()
}

/// The taint the node controller puts on a cordoned node.
const CORDON_TAINT: &str = "node.kubernetes.io/unschedulable";

/// A taint triple outside any `Taints:` or `Tolerations:` block, when pods are pending.
pub(super) fn bare_taint(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !says_pending(t.lower)
        || t.lower.contains("taints:")
        || !super::scheduler::anchors(t.text).is_empty()
    {
        return;
    }
    let tolerations = toleration_lines(t.text);
    let mut taints: Vec<(String, String, String)> = Vec::new();
    for (line, tolerated) in t.text.lines().zip(tolerations) {
        if tolerated || line.to_ascii_lowercase().contains("toleration") {
            continue;
        }
        for c in TAINT_TRIPLE.captures_iter(line).take(20) {
            let taint = (
                c[1].to_owned(),
                c.get(2).map_or("", |m| m.as_str()).to_owned(),
                c[3].to_owned(),
            );
            if !taints.contains(&taint) {
                taints.push(taint);
            }
        }
    }
    let Some((k, v, e)) = taints.first() else {
        return;
    };
    // The node controller's cordon taint: the node is cordoned (spec.unschedulable), which
    // a scheduler may honour whatever the pod tolerates.
    if k == CORDON_TAINT {
        out.push(Finding::new(
            Class::UnschedulableNodes,
            0.55,
            format!("the node carries {CORDON_TAINT}:{e}, the taint of a cordoned node (spec.unschedulable: true), so no new pod is scheduled on it; uncordon it (`kubectl uncordon NODE`) or find what cordoned it (a drain, an upgrade, a node-problem remedy)"),
            &quote_around(t.text, CORDON_TAINT),
            true,
            Fact::None,
        ));
        return;
    }
    let shown = if v.is_empty() {
        format!("{k}:{e}")
    } else {
        format!("{k}={v}:{e}")
    };
    out.push(Finding::new(
        Class::UntoleratedTaint,
        0.55,
        format!("a node carries the taint {shown} and the pending pods do not tolerate it"),
        &quote_around(t.text, &shown),
        true,
        Fact::NodeTaints(taints),
    ));
}

/// `kubectl get nodes` shows every listed node `NotReady` while pods are pending: the
/// nodes carry the not-ready taint, so nothing without a toleration for it schedules.
pub(super) fn not_ready_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !says_pending(t.lower) {
        return;
    }
    let not_ready: Vec<&str> = NOT_READY_ROW
        .captures_iter(t.text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .take(50)
        .collect();
    let ready_rows = t
        .text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("Ready"))
        .count();
    if not_ready.is_empty() || ready_rows > 0 {
        return;
    }
    out.push(Finding::new(
        Class::UntoleratedTaint,
        0.5,
        format!(
            "every listed node is NotReady ({}), so each carries the node.kubernetes.io/not-ready taint and pending pods cannot land; find out why the kubelet or network plugin is not ready",
            not_ready.join(", ")
        ),
        &quote_around(t.text, "NotReady"),
        false,
        Fact::None,
    ));
}

/// `kubectl get pvc` lists claims still `Pending`: no volume is bound to them, so pods that
/// use them cannot be scheduled (no PV matches and no StorageClass provisions one).
pub(super) fn pending_claims(t: &Input<'_>, out: &mut Vec<Finding>) {
    let Some(header) = t.text.lines().find(|l| {
        let l = l.trim_start();
        l.starts_with("NAME")
            && l.contains("STATUS")
            && l.contains("VOLUME")
            && l.contains("CAPACITY")
    }) else {
        return;
    };
    // Rows after the header only: a pod table's `Pending` rows are not claims.
    let after = t
        .text
        .find(header)
        .map_or("", |at| &t.text[at + header.len()..]);
    let claims: Vec<&str> = PENDING_CLAIM
        .captures_iter(after)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .take(20)
        .collect();
    let Some(first) = claims.first() else {
        return;
    };
    out.push(Finding::new(
        Class::VolumeBinding,
        0.6,
        format!(
            "PersistentVolumeClaim(s) {} stay Pending: no PersistentVolume matches them and no StorageClass (or no default one) provisions one, so pods using them cannot be scheduled",
            claims.join(", ")
        ),
        &quote_around(t.text, first),
        false,
        Fact::None,
    ));
}

/// A report that describes a required pod anti-affinity or topology spread rule beside
/// Pending pods, with no scheduler message: more replicas than the rule allows nodes (or
/// zones) for. Weaker than any quoted reason.
pub(super) fn described_spread(t: &Input<'_>, out: &mut Vec<Finding>) {
    // People write it with a hyphen, a space or neither ("Anti Affinity Rules").
    const RULES: [&str; 7] = [
        "podantiaffinity",
        "pod anti-affinity",
        "anti-affinity",
        "anti affinity",
        "antiaffinity",
        "topologyspreadconstraints",
        "topology spread",
    ];
    let Some(rule) = RULES.iter().find(|r| t.lower.contains(*r)) else {
        return;
    };
    if !says_pending(t.lower) || !super::scheduler::anchors(t.text).is_empty() {
        return;
    }
    out.push(Finding::new(
        Class::PodAffinity,
        0.5,
        "the pods carry a required anti-affinity / topology spread rule and some stay Pending: there are fewer eligible nodes (or zones) than replicas the rule allows one each",
        &quote_around(t.text, rule),
        false,
        Fact::None,
    ));
}

/// Capacity told in words: "not enough resources in the cluster", "I don't have any GPUs
/// to allocate to the pod", "more resources than the cluster has".
static DESCRIBED_CAPACITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:not enough|insufficient|ran out of|runs? out of|lack(?:s|ing)?(?: of)?)\s+(?:free |available |spare |allocatable )?(?:resources|hardware|capacity|gpus?|cpus?|memory)|no (?:free |available |spare |allocatable )(?:resources|capacity|gpus?|cpus?|memory)|no (?:resources|capacity|gpus?|cpus?) (?:available|left|free))\b[^.\n]{0,40}?\b(?:in|on|of) (?:the |my |our |this )?(?:cluster|nodes?|node pool|node group)\b|\b(?:don't|do not|doesn't|does not|didn't|did not) have (?:any|enough) (?:free |available |spare |allocatable )?(?:gpus?|cpus?|memory|resources|capacity)\b[^.\n]{0,30}?\b(?:to allocate|available|left|for (?:the|this|my) pod)|\bmore (?:resources|cpu|memory|gpus?)\b,? than (?:the |my |our )?cluster (?:has|have|had|offers)\b|\bexceed(?:s|ed|ing)? (?:the )?(?:upper limit|capacity|size|allocatable|resources?|limits?) of (?:the |a |any |my |our |each |every )?(?:machines?|nodes?|hosts?|instances?|servers?|vms?)\b|\bmore (?:resources|cpus?|memory|gpus?)\b,? than (?:the |any |a |my |our |each |one )?(?:machines?|nodes?|hosts?|instances?|servers?|vms?) (?:has|have|had|offers?|provides?)\b")
        .expect("the loose patterns are valid regexes")
});

/// Capacity described rather than quoted, when pods wait or a deploy does not progress and
/// no scheduler message says more: the weakest capacity reading.
pub(super) fn described_capacity(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !super::scheduler::anchors(t.text).is_empty() {
        return;
    }
    let Some(m) = DESCRIBED_CAPACITY.find(t.lower) else {
        return;
    };
    let waiting = says_pending(t.lower)
        || ["cluster", "node", "machine", "host", "instance"]
            .iter()
            .any(|w| m.as_str().contains(w));
    if !waiting {
        return;
    }
    out.push(Finding::new(
        Class::InsufficientResources,
        0.45,
        "the report says the cluster lacks the capacity the pods request (cpu, memory or an extended resource such as GPUs): compare the pods' requests with the nodes' allocatable, and check that the nodes advertise the resource at all",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// An autoscaler said (in words) not to add nodes: "the autoscaler doesn't scale up",
/// "Karpenter never launches a node", "no scale-up happens".
static DESCRIBED_NO_SCALE_UP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:cluster[- ]autoscaler|autoscaler|karpenter)\b[^.\n]{0,60}?\b(?:doesn't|does not|didn't|did not|won't|will not|isn't|is not|wasn't|never|refuses?|fails? to)\b|\b(?:no|not|never|doesn't|didn't|won't|without)\b[^.\n]{0,30}?\bscal(?:e|es|ed|ing)[ -]?(?:up|out)\b")
        .expect("the loose patterns are valid regexes")
});

/// A no-scale-up told plainly enough to stand without "pending": a scale-up said not to be
/// triggered, nodes said not to be added, a node group (ASG, node pool) said to be at or
/// above its maximum size (lower-cased text).
static NO_SCALE_UP_STRONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bscale[- ]?ups? (?:was|were|would|is|will|did)(?:n't| not| never) (?:be |get )?triggered\b|\bno (?:new |more |additional )?(?:nodes?|instances?|machines?) (?:(?:were|was|are|is|get|got|being) )?(?:added|launched|provisioned|created)\b|\b(?:not|never|didn't|doesn't|won't) trigger(?:ed|ing)? (?:a |any )?scale[- ]?ups?\b|\b(?:nodes?|instances?|machines?) (?:were|was|are|is|get|got|are being)(?:n't| not| never) (?:added|launched|provisioned|created|spun up)\b|\b(?:doesn't|does not|didn't|did not|won't|will not|never) (?:add|launch|provision|spin up)s? (?:a |any |new |more |the )?(?:nodes?|instances?|machines?)\b|\b(?:exceeds?|exceeding|above|over) (?:the |its )?(?:asg'?s? |node ?group'?s? |node ?pool'?s? |group'?s? )?max(?:imum)?(?: ?size| capacity| node count)?\b|\b(?:reached|hit|hits|at) (?:the |its )?(?:max(?:imum)?|maxsize) (?:size|capacity|node count|nodes)\b")
        .expect("the loose patterns are valid regexes")
});

/// The cluster-autoscaler's status (its `cluster-autoscaler-status` ConfigMap, `kubectl
/// describe` of it) saying no scale-up is under way: `ScaleUp: NoActivity (ready=2 …)`, for
/// the cluster or a node group (lower-cased text).
static STATUS_NO_ACTIVITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bscaleup:\s+noactivity\b").expect("the loose patterns are valid regexes")
});

/// A node autoscaler described as not adding nodes while pods are pending, with no
/// autoscaler or scheduler message quoted: the weakest no-scale-up reading (the pod's
/// requests or constraints may fit no node group's template).
pub(super) fn described_no_scale_up(t: &Input<'_>, out: &mut Vec<Finding>) {
    // The autoscaler's own words (NotTriggerScaleUp, a max-size verdict) are the
    // autoscaler rule's, with more confidence.
    if !super::scheduler::anchors(t.text).is_empty()
        || t.text
            .lines()
            .any(|l| super::autoscaler::parse_autoscaler(l).is_some())
        || super::autoscaler::parse_autoscaler(t.flat).is_some()
    {
        return;
    }
    let pending = says_pending(t.lower);
    let Some(m) = NO_SCALE_UP_STRONG.find(t.lower).or_else(|| {
        DESCRIBED_NO_SCALE_UP
            .find(t.lower)
            .or_else(|| STATUS_NO_ACTIVITY.find(t.lower))
            .or_else(|| super::described::below_threshold(t.lower))
            .filter(|_| pending)
    }) else {
        return;
    };
    if !super::described::about_node_autoscaler(t.lower, m.as_str(), pending) {
        return;
    }
    out.push(Finding::new(
        Class::NoScaleUp,
        0.45,
        "pods are pending and the node autoscaler is said not to add a node: check its NotTriggerScaleUp event or log; a pod whose requests exceed a node group's allocatable (not its instance size) or whose constraints fit no group's template never triggers a scale-up",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// A `kubectl get nodes` row of a cordoned node (with or without the ROLES column).
static CORDONED_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^\s*(\S+)\s+(?:Ready|NotReady|Unknown),SchedulingDisabled\s+(?:\S+\s+){1,2}v\d",
    )
    .expect("the loose patterns are valid regexes")
});

/// Pods said not to run: pending, or not started / scheduled / created.
static PODS_NOT_RUNNING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bpending\b|\bnot (?:being )?(?:started|scheduled|running|created)\b|\bunschedulable\b|\bnever (?:start|get scheduled)")
        .expect("the loose patterns are valid regexes")
});

/// `kubectl get nodes` lists only cordoned nodes (`Ready,SchedulingDisabled`) while pods do
/// not start: no node accepts new pods until one is uncordoned or a schedulable one joins.
pub(super) fn cordoned_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !PODS_NOT_RUNNING.is_match(t.lower) || !super::scheduler::anchors(t.text).is_empty() {
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

/// Every node said to be cordoned ("cordoned all of my nodes", "all the nodes got
/// cordoned"): nothing can schedule, whether or not the report mentions pending pods.
static ALL_CORDONED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bcordon(?:ed|s|ing)? (?:all|every)\b[^.\n]{0,20}?\b(?:nodes?|workers?)\b|\b(?:all|every)\b[^.\n]{0,20}?\b(?:nodes?|workers?)\b[^.\n]{0,30}?\b(?:cordoned|schedulingdisabled)\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said not to be schedulable, in more wordings than [`PODS_NOT_RUNNING`]: "not
/// schedulable", "couldn't be scheduled", "cannot get scheduled".
static NOT_SCHEDULABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bnot schedulable\b|(?:n't|\bnot|\bcannot|\bunable to) (?:be |get )?schedul(?:ed|able)\b",
    )
    .expect("the loose patterns are valid regexes")
});

/// Cordoned nodes told rather than listed (no `kubectl get nodes` table), beside pods that
/// do not start, with no scheduler message: no node accepts new pods.
pub(super) fn described_cordon(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !super::scheduler::anchors(t.text).is_empty() || CORDONED_ROW.is_match(t.text) {
        return;
    }
    let waiting = PODS_NOT_RUNNING.is_match(t.lower) || NOT_SCHEDULABLE.is_match(t.lower);
    let Some(m) = ALL_CORDONED
        .find(t.lower)
        .or_else(|| DESCRIBED_CORDON.find(t.lower).filter(|_| waiting))
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

/// Pods using the node's ports (hostNetwork / hostPort) said to be unable to land: during
/// a rolling update the old pod still holds the ports on every node it may use.
static HOST_PORTS_BUSY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bports? (?:are |is )?(?:not available|not free|already (?:in use|allocated|taken)|in use|busy)\b|\bno free ports?\b|\bport conflicts?\b")
        .expect("the loose patterns are valid regexes")
});

/// hostNetwork / hostPort pods described as pending, or their ports as taken, with no
/// scheduler message: the new pod needs ports an old pod (or another workload) holds.
pub(super) fn described_host_ports(t: &Input<'_>, out: &mut Vec<Finding>) {
    let Some(at) = ["hostnetwork: true", "hostnetwork", "hostport"]
        .iter()
        .find_map(|w| t.lower.find(w))
    else {
        return;
    };
    if !super::scheduler::anchors(t.text).is_empty()
        || !(says_pending(t.lower) || HOST_PORTS_BUSY.is_match(t.lower))
    {
        return;
    }
    out.push(Finding::new(
        Class::HostPorts,
        0.5,
        "the pods use the node's network ports (hostNetwork / hostPort) and cannot be placed: each node runs one such pod, so a rolling update whose new pod needs the ports the old one still holds (or more replicas than ready nodes) stays Pending; use maxSurge 0 / maxUnavailable 1, or the Recreate strategy",
        &quote_at(t.flat, at),
        false,
        Fact::None,
    ));
}

/// Nodes said to lack the label a pod's selector or affinity requires, beside pending pods.
static NODES_UNLABELED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:nodes?|workers?|masters?|controllers?|control[- ]planes?)\b[^.\n]{0,40}?\b(?:not|aren't|isn't|weren't|wasn't|without|lack(?:s|ing)?|missing)\b[^.\n]{0,20}?\blabel(?:ed|led|s)?\b|\bno nodes? (?:has|have|with|carr(?:y|ies)|match(?:es)?) (?:the |that |this |a )?(?:label|nodeselector|node selector)")
        .expect("the loose patterns are valid regexes")
});

/// Nodes described as missing the label the pods select on, while pods are pending.
pub(super) fn described_node_label(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !says_pending(t.lower) || !super::scheduler::anchors(t.text).is_empty() {
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

/// A ResourceQuota said to stop pods from being created: "fails due to a resourcequota
/// issue", "blocked by the namespace quota", "quota exceeded".
static DESCRIBED_QUOTA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:due to|because of|blocked by|rejected by|limited by|hit(?:s|ting)?|reach(?:ed|es)?)\b[^.\n]{0,30}?\b(?:resource ?quotas?|(?:namespace(?:'s)?|project) quotas?)\b|\b(?:resource ?quotas?|namespace quotas?)\b[^.\n]{0,40}?\b(?:issue|problem|exceeded|is full|blocks?|blocked|prevents?|rejects?|rejected|reached)\b")
        .expect("the loose patterns are valid regexes")
});

/// A quota told to block pod creation (a ReplicaSet / Job that cannot create its pods),
/// with no quota message quoted.
pub(super) fn described_quota(t: &Input<'_>, out: &mut Vec<Finding>) {
    if t.lower.contains("exceeded quota") || t.lower.contains("must specify") {
        return;
    }
    let Some(m) = DESCRIBED_QUOTA
        .find(t.lower)
        .or_else(|| quota_beside_failed_create(t))
    else {
        return;
    };
    out.push(Finding::new(
        Class::QuotaExceeded,
        0.5,
        "a ResourceQuota is said to stop the pods from being created: the ReplicaSet (or Job) records FailedCreate `exceeded quota` events and the Deployment stays Progressing until its progress deadline; compare `kubectl describe resourcequota` with the pods' requests",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// `kubectl describe resourcequota`'s table header.
static QUOTA_TABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*Resource\s+Used\s+Hard\s*$").expect("the loose patterns are valid regexes")
});

/// A Deployment or ReplicaSet that creates no pods, as `kubectl describe` shows it
/// (lower-cased, flattened text): the `ReplicaFailure True FailedCreate` condition, a
/// `FailedCreate` reason, `(0/3 replicas created)`.
static CREATES_NO_PODS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\breplicafailure true failedcreate\b|\bfailedcreate\b|\(0/\d+ replicas created\)")
        .expect("the loose patterns are valid regexes")
});

/// A namespace quota shown (its describe table, or named) beside a Deployment / ReplicaSet
/// that creates no pods, with the creation error itself not quoted: the quota admission is
/// what turns a controller's pod creations away without a pod to look at.
fn quota_beside_failed_create<'a>(t: &Input<'a>) -> Option<regex::Match<'a>> {
    if t.lower.contains("error creating") {
        return None;
    }
    let named = QUOTA_TABLE.is_match(t.text)
        || ["resourcequota", "resource quota", "kind: quota"]
            .iter()
            .any(|w| t.lower.contains(w));
    if !named {
        return None;
    }
    CREATES_NO_PODS.find(t.lower)
}

/// A volume told to sit in one zone (lower-cased, flattened text): "the PersistentVolume
/// is in us-east-1b", "a PV with the `topology.ebs.csi.aws.com/zone in [eu-west-1b]`
/// term", "the disk lives in zone1".
static VOLUME_IN_ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:persistent ?volumes?|pvs?|volumes?|disks?|ebs)\b(?:[^.\n]|\.\S){0,80}?(?:\bzone|\bazs?\b|\bavailability zone)")
        .expect("the loose patterns are valid regexes")
});

/// No node said to be left in a zone: "no available node in zone1", "no nodes in that AZ".
static NO_NODE_IN_ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bno (?:available |schedulable |ready |running )?(?:nodes?|workers?|instances?) (?:left |running )?in (?:that |the |this |its |the same )?(?:zone|az\b|availability zone)")
        .expect("the loose patterns are valid regexes")
});

/// A volume pinned to a zone, told in words beside pods that cannot be scheduled (or "no
/// node in that zone"), with no scheduler message: the pod must run where its volume is
/// and no schedulable node is there.
pub(super) fn described_volume_zone(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !super::scheduler::anchors(t.text).is_empty()
        || super::described::volume_on_gone_node(t, out)
    {
        return;
    }
    let Some(m) = VOLUME_IN_ZONE.find(t.lower) else {
        return;
    };
    if !(NOT_SCHEDULABLE.is_match(t.lower)
        || says_pending(t.lower)
        || NO_NODE_IN_ZONE.is_match(t.lower))
    {
        return;
    }
    out.push(Finding::new(
        Class::VolumeBinding,
        0.45,
        "the pod's volume is said to be pinned to one zone (a zonal disk's node affinity) while no schedulable node runs there: the pod can only be scheduled in the volume's zone; add (or uncordon) a node in that zone, or use a WaitForFirstConsumer StorageClass so new volumes follow the pod",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// A LimitRange bound said to be crossed (lower-cased, flattened text): a request "greater
/// than the max", a limit "below the min", "exceeds the maximum".
static LIMIT_BOUND_CROSSED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:greater|more|higher|larger|bigger) than (?:the )?(?:max(?:imum)?|limit ?range)\b|\bexceed(?:s|ed|ing)? (?:the )?(?:max(?:imum)?|limit ?range'?s?)\b|\b(?:less|lower|smaller) than (?:the )?min(?:imum)?\b|\bbelow (?:the )?min(?:imum)?\b|\babove (?:the )?max(?:imum)?\b")
        .expect("the loose patterns are valid regexes")
});

/// A LimitRange told to turn a container away, its max below (or min above) what the
/// container asks, with no LimitRange message quoted.
pub(super) fn described_limit_range(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !(t.lower.contains("limitrange") || t.lower.contains("limit range"))
        || t.lower.contains("usage per container")
        || t.lower.contains("usage per pod")
        || t.lower.contains("must be less than or equal to")
        || t.lower.contains("must be greater than or equal to")
    {
        return;
    }
    let Some(m) = LIMIT_BOUND_CROSSED.find(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::LimitRange,
        0.5,
        "a LimitRange is said to bound the containers' requests or limits below (max) or above (min) what they ask, so the admission rejects the pods: compare `kubectl describe limitrange` with the containers' resources",
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
}

/// A policy engine, by name (lower-cased text).
static POLICY_ENGINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:kyverno|gatekeeper|opa|kubewarden|jspolicy|pod ?security ?polic(?:y|ies)|psp|pod security admission|pod ?security standards?|admission (?:webhook|controller|policy)|validating ?(?:admission ?)?(?:webhook|policy))\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said to be blocked, denied or rejected (lower-cased, flattened text).
static PODS_BLOCKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bpods?\b[^.\n]{0,40}?\b(?:is|are|was|were|gets?|got|being) (?:blocked|denied|rejected|refused)\b|\b(?:block(?:s|ed|ing)?|den(?:y|ies|ied|ying)|reject(?:s|ed|ing)?) (?:the |my |our |all |every |any )?pods?\b|\badmission request denied\b")
        .expect("the loose patterns are valid regexes")
});

/// A policy engine told to block pods (the workload itself admitted, its pods turned away),
/// with no webhook denial quoted.
pub(super) fn described_policy(t: &Input<'_>, out: &mut Vec<Finding>) {
    if t.lower.contains("denied the request") || !POLICY_ENGINE.is_match(t.lower) {
        return;
    }
    let Some(m) = PODS_BLOCKED.find(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::PolicyDenied,
        0.5,
        "a policy engine (admission webhook) is said to block the pods: the Deployment is admitted but its ReplicaSet's pod creations are denied (FailedCreate on the ReplicaSet); read the policy's report or the webhook's log for the rule that fails",
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &TAINT_TRIPLE,
        &NOT_READY_ROW,
        &PENDING_CLAIM,
        &DESCRIBED_CAPACITY,
        &DESCRIBED_NO_SCALE_UP,
        &STATUS_NO_ACTIVITY,
        &CORDONED_ROW,
        &PODS_NOT_RUNNING,
        &HOST_PORTS_BUSY,
        &NODES_UNLABELED,
        &DESCRIBED_QUOTA,
        &DESCRIBED_CORDON,
        &NO_SCALE_UP_STRONG,
        &ALL_CORDONED,
        &NOT_SCHEDULABLE,
        &QUOTA_TABLE,
        &CREATES_NO_PODS,
        &VOLUME_IN_ZONE,
        &NO_NODE_IN_ZONE,
        &LIMIT_BOUND_CROSSED,
        &POLICY_ENGINE,
        &PODS_BLOCKED,
    ] {
        LazyLock::force(pattern);
    }
}
