//! Node autoscalers: cluster-autoscaler (`NotTriggerScaleUp`, `TriggeredScaleUp`,
//! `FailedScaleUp`) and Karpenter (`incompatible with nodepool …`, `no instance type …`).
//!
//! The cluster-autoscaler's reasons reuse the scheduler's per-node texts plus its own
//! node-group reasons, so its list is read with the scheduler's histogram splitter.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use crate::messages::reasons::{Reason, classify_reason};
use crate::messages::scheduler::{FitMessage, parse_fit};

/// What an autoscaler said about the pod.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoscalerSignal {
    /// A scale-up is under way: the pod is waiting for a node, not stuck.
    ScaleUpTriggered {
        /// The quoted text.
        text: String,
    },
    /// The autoscaler will not add a node.
    NoScaleUp {
        /// `cluster-autoscaler` or `karpenter`.
        by: &'static str,
        /// The quoted text (shortened).
        text: String,
        /// Per-reason `(count, reason)` items when the autoscaler listed them.
        reasons: Vec<(u64, String)>,
        /// A node group / NodePool hit its size or resource limit.
        at_limit: bool,
        /// The NodePools / provisioners named by Karpenter.
        pools: Vec<String>,
    },
}

impl AutoscalerSignal {
    /// A "pod didn't trigger scale-up:" verdict whose reason list is empty (the event cut
    /// after the colon, or no node group considered at all): it says the autoscaler did
    /// not act but not why, so the scheduler's reasons, when given, say more. The older
    /// wording's own reason, "(it wouldn't fit if a new node is added)", is a reason: no
    /// node group's new node would take the pod, which the existing nodes' reasons do not
    /// say.
    pub fn gives_no_reason(&self) -> bool {
        match self {
            Self::NoScaleUp { reasons, text, .. } => {
                let lower = text.to_ascii_lowercase();
                reasons.is_empty()
                    && lower.contains("trigger scale-up")
                    && !lower.contains("fit if a new node is added")
            }
            Self::ScaleUpTriggered { .. } => false,
        }
    }

    /// A no-scale-up verdict whose every reason is inter-pod (anti-)affinity (`node(s)
    /// didn't match pod affinity rules`, `InterPodAffinity`): a new node starts with no
    /// pods, so a required pod affinity can never be met there; the pod's affinity rules,
    /// not the autoscaler, are the cause.
    pub fn only_pod_affinity(&self) -> bool {
        let classes = self.reason_classes();
        !classes.is_empty() && classes.iter().all(|c| *c == Some(Class::PodAffinity))
    }

    /// A no-scale-up verdict whose reasons, past the node groups its selector rules out
    /// (`node(s) didn't match node selector`), are all conflicts with pods a new node brings
    /// or lacks: inter-pod (anti-)affinity, or host ports a DaemonSet on every node already
    /// holds (`node(s) didn't have free ports for the requested pod ports`). No node group
    /// can cure them, so the scheduler's reading of the same conflict is the cause.
    pub fn only_pod_conflicts(&self) -> bool {
        let classes = self.reason_classes();
        let conflict = |c: &Option<Class>| matches!(c, Some(Class::PodAffinity | Class::HostPorts));
        classes.iter().any(conflict)
            && classes
                .iter()
                .all(|c| conflict(c) || *c == Some(Class::NodeAffinity))
    }

    /// The class each reason of a no-scale-up verdict reads as (none for a scale-up).
    fn reason_classes(&self) -> Vec<Option<Class>> {
        match self {
            Self::NoScaleUp { reasons, .. } => reasons
                .iter()
                .map(|(_, r)| classify_reason(r).class())
                .collect(),
            Self::ScaleUpTriggered { .. } => Vec::new(),
        }
    }
}

/// The cluster-autoscaler's (and GKE's) no-scale-up markers, in the order they are tried.
const CA_MARKERS: &[&str] = &[
    "failed to increase node group size",
    "scale-up timed out",
    "failedscaleup",
    // A group's resize refused (the cloud provider or the group's own bounds): the event
    // `FailedToScaleUpGroup` "Scale-up failed for group X: Target size 5 requested outside
    // Max: 10, Min: 6", or the same told by the group's name.
    "failedtoscaleupgroup",
    "scale-up failed for group",
    "requested outside max",
    "max node group size reached",
    // The cluster-autoscaler's own log (scale_up.go / orchestrator.go): "Skipping node
    // group X - max size reached", "… would exceed max size", "No expansion options".
    "max size reached",
    "exceed max size",
    "no expansion options",
    // Its per-group verdicts at higher verbosity: no pod fits the group's template, or
    // the estimator needs no node of it (read as the pod's verdict only when no group
    // scales up: see `rules/autoscale.rs`).
    "no pod can fit to",
    "estimated 0 nodes needed",
    "max cluster cpu, memory limits reached",
    // The cluster-autoscaler's simulation (filter_out_schedulable.go) places the pod on
    // an existing node the scheduler rejects: "Pod x marked as unschedulable can be
    // scheduled on node y. Ignoring in scale up."
    "ignoring in scale up",
    // GKE's autoscaler (cloud quota, stockouts): "Node scale up in zones … associated
    // with this pod failed: GCE quota exceeded."
    "associated with this pod failed",
    "gce quota exceeded",
    "scale.up.error",
    // GKE's autoscaler visibility events: `"noScaleUp": {…}` with message ids such as
    // `no.scale.up.mig.failing.predicate`, `no.scale.up.nap.pod.zonal.resources.exceeded`.
    "no.scale.up.",
    "\"noscaleup\"",
];

/// Karpenter's no-scale-up markers.
const KARPENTER: &[&str] = &[
    "incompatible with nodepool",
    "incompatible with provisioner",
    "no instance type satisfied",
    "no instance type met",
    "no instance type which had enough resources",
    "exceed limits for nodepool",
    "exceeds limits",
    "all available instance types exceed",
    // A provisioner whose candidate instance types are all too small once the
    // DaemonSets' (and kubelet / system reserved) overhead is counted, across versions:
    // "Excluding instance type x because there are not enough resources for daemons",
    // "Failed to find instance type option(s) for [pods]", "no instance types satisfy
    // …", "could not find any instance type …".
    "not enough resources for daemons",
    "instance type option(s)",
    "instance type options",
    "no instance types satisf",
    "no instance types available",
    "could not find any instance type",
    "couldn't find any instance type",
];

/// A node provisioner's cloud launch that failed for want of cloud capacity (a stockout),
/// across provisioners and clouds: Karpenter's "failed launching nodeclaim … insufficient
/// capacity, all requested instance types were unavailable during launch", EC2's
/// `InsufficientInstanceCapacity` / `UnfulfillableCapacity`, GCE's
/// `ZONE_RESOURCE_POOL_EXHAUSTED`, Azure's `SkuNotAvailable` / `ZonalAllocationFailed`.
/// The cluster-autoscaler's own "failed to increase node group size: …" is read first.
const LAUNCH_CAPACITY: &[&str] = &[
    "failed launching nodeclaim",
    "requested instance types were unavailable",
    "insufficientinstancecapacity",
    "unfulfillablecapacity",
    "zone_resource_pool_exhausted",
    "skunotavailable",
    "zonalallocationfailed",
];

/// The reason a verdict from a cloud that could not launch any instance type (no capacity
/// in the zone, a stockout) carries; remediation reads it.
pub const CLOUD_STOCKOUT: &str =
    "the cloud had no capacity for any requested instance type (a stockout)";

/// The other literals a verdict below starts from.
const OTHER_ANCHORS: &[&str] = &[
    "didn't trigger scale-up",
    "did not trigger scale-up",
    "can't be scheduled on",
    "cannot put ",
    "predicate checking error",
    "is restricted",
    "triggered scale-up",
    "triggeredscaleup",
];

/// Every literal `parse_autoscaler` starts a verdict from, in one case-insensitive pass:
/// text with none of them (most event messages) has no verdict, and is not lower-cased
/// and searched twenty times. `every_verdict_anchor_is_in_the_prefilter` keeps it whole.
static ANCHORS: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives: Vec<String> = OTHER_ANCHORS
        .iter()
        .chain(CA_MARKERS)
        .chain(KARPENTER)
        .chain(LAUNCH_CAPACITY)
        .map(|a| regex::escape(a))
        .collect();
    #[allow(clippy::expect_used)]
    Regex::new(&format!("(?i){}", alternatives.join("|"))).expect("the anchors compile")
});

/// The reason a simulation verdict gives right after its marker (`predicate checking
/// error: <reason>; predicateName=…`), up to the first `;`, `,` or line end.
fn reason_after(after: &str) -> Vec<(u64, String)> {
    let reason: String = after
        .trim_start_matches([':', ' '])
        .chars()
        .take_while(|c| !matches!(c, ';' | '\n' | ','))
        .take(120)
        .collect();
    let reason = reason.trim().trim_end_matches('.');
    if reason.is_empty() {
        Vec::new()
    } else {
        vec![(1, reason.to_owned())]
    }
}

/// Finds an autoscaler verdict in one message or text line.
pub fn parse_autoscaler(text: &str) -> Option<AutoscalerSignal> {
    if !ANCHORS.is_match(text) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let short = |from: usize| {
        text.get(from..)
            .unwrap_or("")
            .chars()
            .take(400)
            .collect::<String>()
            .trim()
            .to_owned()
    };
    if let Some(at) = lower
        .find("didn't trigger scale-up")
        .or_else(|| lower.find("did not trigger scale-up"))
    {
        let rest = &text[at..];
        let list = rest
            .split_once("):")
            .or_else(|| rest.split_once(':'))
            .map(|(_, l)| l)
            .unwrap_or("");
        // Same grammar as the scheduler's histogram.
        let fit = parse_fit(&format!("0/0 nodes are available: {list}")).unwrap_or_default();
        // A message cut after its colon (a table column, a code fence) names no reason:
        // what follows it is no node group's.
        let reasons: Vec<(u64, String)> = fit
            .histogram
            .into_iter()
            .chain(fit.prefilter.into_iter().map(|p| (1, p)))
            .filter(|(_, r)| r.bytes().any(|b| b.is_ascii_alphabetic()))
            .collect();
        let at_limit = reasons
            .iter()
            .any(|(_, r)| classify_reason(r) == Reason::Autoscaler);
        let start = lower[..at].rfind("pod ").unwrap_or(at);
        return Some(AutoscalerSignal::NoScaleUp {
            by: "cluster-autoscaler",
            text: short(start),
            reasons,
            at_limit,
            pools: Vec::new(),
        });
    }
    // The cluster-autoscaler's simulation log (pod_schedulable.go / orchestrator.go): "Pod
    // x can't be scheduled on <node group>, predicate failed: …" / "predicate checking
    // error: …", and its older scale_up.go wording "Scale-up predicate failed:
    // PodFitsResources predicate mismatch, cannot put ns/pod on template-node-for-<group>,
    // reason: …". It checks the pod against each node group's template: the group named
    // there will not be grown for the pod.
    if let Some(at) = lower
        .find("can't be scheduled on")
        .or_else(|| lower.find("cannot put "))
        .filter(|_| {
            [
                "predicate failed",
                "predicate checking error",
                "cached predicate check results",
                "predicate mismatch",
                "template-node-for-",
            ]
            .iter()
            .any(|m| lower.contains(m))
        })
    {
        let reasons = lower
            .find("reason: ")
            .map(|r| {
                let reason: String = text[r + "reason: ".len()..]
                    .chars()
                    .take_while(|c| *c != ',' && *c != '\n')
                    .collect();
                vec![(1, reason.trim().to_owned())]
            })
            .or_else(|| {
                ["predicate checking error", "predicate failed"]
                    .iter()
                    .find_map(|m| lower.find(m).map(|p| reason_after(&text[p + m.len()..])))
            })
            .unwrap_or_default();
        let start = lower[..at].rfind("pod ").unwrap_or(at);
        return Some(AutoscalerSignal::NoScaleUp {
            by: "cluster-autoscaler",
            text: short(start),
            reasons,
            at_limit: false,
            pools: Vec::new(),
        });
    }
    // The same simulation's verdict quoted without the pod and group ("predicate checking
    // error: Insufficient ephemeral-storage", "… predicate checking error: node(s) didn't
    // match Pod's node affinity/selector; predicateName=NodeAffinity"): only the
    // cluster-autoscaler prints it.
    if let Some(at) = lower.find("predicate checking error") {
        let reasons = reason_after(&text[at + "predicate checking error".len()..]);
        return Some(AutoscalerSignal::NoScaleUp {
            by: "cluster-autoscaler",
            text: short(lower[..at].rfind("pod ").unwrap_or(at)),
            reasons,
            at_limit: false,
            pools: Vec::new(),
        });
    }
    for marker in CA_MARKERS {
        if let Some(at) = lower.find(marker) {
            let at_limit = marker.contains("max") || lower.contains("quota exceeded");
            return Some(AutoscalerSignal::NoScaleUp {
                by: "cluster-autoscaler",
                text: short(at),
                reasons: Vec::new(),
                at_limit,
                pools: Vec::new(),
            });
        }
    }
    if let Some(at) = KARPENTER.iter().filter_map(|m| lower.find(m)).min() {
        let start = lower[..at]
            .rfind("schedule pod")
            .map(|p| p.saturating_sub(12))
            .unwrap_or(at);
        let start = if text.is_char_boundary(start) {
            start
        } else {
            at
        };
        let at_limit = lower.contains("exceed") && lower.contains("limit");
        return Some(AutoscalerSignal::NoScaleUp {
            by: "karpenter",
            text: short(start),
            reasons: karpenter_reasons(&lower),
            at_limit,
            pools: karpenter_pools(text),
        });
    }
    if let Some(at) = LAUNCH_CAPACITY.iter().filter_map(|m| lower.find(m)).min() {
        let karpenter = ["karpenter", "nodeclaim", "nodepool"]
            .iter()
            .any(|w| lower.contains(w));
        return Some(AutoscalerSignal::NoScaleUp {
            by: if karpenter {
                "karpenter"
            } else {
                "cluster-autoscaler"
            },
            text: short(at),
            reasons: vec![(1, CLOUD_STOCKOUT.to_owned())],
            at_limit: false,
            pools: Vec::new(),
        });
    }
    if lower.contains("is restricted") && lower.contains("karpenter") {
        let at = lower.find("is restricted").unwrap_or(0);
        let start = lower[..at].rfind("label").unwrap_or(at);
        return Some(AutoscalerSignal::NoScaleUp {
            by: "karpenter",
            text: short(start),
            reasons: vec![(1, "node selector uses a restricted label".into())],
            at_limit: false,
            pools: Vec::new(),
        });
    }
    if let Some(at) = lower
        .find("triggered scale-up")
        .or_else(|| lower.find("triggeredscaleup"))
    {
        return Some(AutoscalerSignal::ScaleUpTriggered {
            text: short(lower[..at].rfind("pod ").unwrap_or(at)),
        });
    }
    None
}

/// The per-NodePool causes Karpenter lists, as scheduler-style reasons.
fn karpenter_reasons(lower: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut add = |s: &str| {
        if !out.iter().any(|(_, r): &(u64, String)| r == s) {
            out.push((1, s.to_owned()));
        }
    };
    if lower.contains("did not tolerate") {
        add("node(s) had untolerated taint(s)");
    }
    if lower.contains("incompatible requirements")
        || lower.contains("does not have known values")
        || lower.contains("is restricted")
    {
        add("node(s) didn't match Pod's node affinity/selector");
    }
    if lower.contains("daemon") && lower.contains("instance type") {
        add("Insufficient resources for any instance type once DaemonSet overhead is counted");
    } else if lower.contains("no instance type") || lower.contains("instance type option") {
        add("Insufficient resources for any instance type");
    }
    if lower.contains("exceed") && lower.contains("limit") {
        add("max node group size reached");
    }
    out
}

/// NodePool / provisioner names quoted after `incompatible with nodepool|provisioner`.
fn karpenter_pools(text: &str) -> Vec<String> {
    let mut pools = Vec::new();
    let lower = text.to_ascii_lowercase();
    for marker in [
        "incompatible with nodepool \"",
        "incompatible with provisioner \"",
        "nodepool \\\"",
        "provisioner \\\"",
    ] {
        let mut from = 0;
        while let Some(p) = lower[from..].find(marker).map(|p| p + from + marker.len()) {
            let name: String = text[p..]
                .chars()
                .take_while(|c| *c != '"' && *c != '\\')
                .take(63)
                .collect();
            if !name.is_empty() && !pools.contains(&name) {
                pools.push(name);
            }
            from = p;
        }
    }
    pools
}

/// True when a parsed fit message carries only autoscaler reasons.
pub fn only_autoscaler(fit: &FitMessage) -> bool {
    fit.reasons()
        .iter()
        .all(|(_, _, r)| *r == Reason::Autoscaler)
}

#[cfg(test)]
mod tests;
