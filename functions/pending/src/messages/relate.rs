//! Readings that depend on each other: one finding changes how much another counts.
//!
//! - A node autoscaler's refusal outranks the fit error it answers. With an autoscaler in
//!   the cluster, a pod that fits no existing node is what asks for a scale-up; when the
//!   autoscaler (in its own message, or told in words) declines, why it declines is the
//!   diagnosis, and the fit error is its input.
//! - A DaemonSet's pod is pinned to one node. Its controller creates no pod for a node
//!   whose taints the pod does not tolerate, so a taint in its fit error is about another
//!   node; what blocks it on its own node is the other reason (host ports a system
//!   DaemonSet or load balancer already holds, capacity).

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::autoscaler::AutoscalerSignal;
use super::{Fact, Finding};

/// The pod is a DaemonSet's, or is meant to run on every node (lower-cased text): a
/// DaemonSet named, a service load balancer's per-node pods (k3s `svclb-`), "one pod per
/// node", "running on all the machines".
static DAEMONSET_POD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bdaemon ?sets?\b|\bds pods?\b|\bsvclb-|\bone (?:pod )?per (?:node|host)\b|\b(?:on|in|to|at) (?:all|every|each) (?:of )?(?:the )?(?:nodes?|machines?|hosts?|workers?)\b")
        .expect("the relate patterns are valid regexes")
});

/// True when `lower` (lower-cased text) says the pod is a DaemonSet's or runs on every node.
pub fn daemonset_pod(lower: &str) -> bool {
    DAEMONSET_POD.is_match(lower)
}

/// For a DaemonSet's pod: lowers the readings of its fit error that are about other nodes
/// (an untolerated taint, the node affinity that pins it to its own node) below the reason
/// that blocks it on its own node (host ports, capacity), when both are in the fit error.
/// Re-sorts `found` by confidence.
pub fn daemonset_fit(found: &mut [Finding]) {
    let on_own_node = |f: &Finding| {
        matches!(f.class, Class::HostPorts | Class::InsufficientResources)
            && matches!(f.fact, Fact::Fit(_))
    };
    let Some(best) = found
        .iter()
        .filter(|f| on_own_node(f))
        .map(|f| f.confidence)
        .reduce(f64::max)
    else {
        return;
    };
    for f in found.iter_mut().filter(|f| {
        f.class == Class::UntoleratedTaint
            || f.class == Class::NodeAffinity && matches!(f.fact, Fact::Fit(_))
    }) {
        f.confidence = f.confidence.min(best - 0.1);
    }
    found.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
}

/// Raises a no-scale-up finding above the scheduling findings it answers (not a scheduling
/// gate, which no node cures, nor a reading the autoscaler's own message gave, such as
/// Karpenter's restricted label). A verdict that gives no reason is not raised: the fit
/// error then says more about why the pod waits. Nor is a verdict whose reasons are only
/// conflicts with other pods ([`AutoscalerSignal::only_pod_conflicts`]): a new node starts
/// with no pods, so a required pod affinity is never met there, and brings the DaemonSets
/// that hold a host port; the pod's own spec is the cause.
pub(super) fn autoscaler_over_fit(merged: &mut [Finding]) {
    let refuses = |f: &Finding| {
        f.class == Class::NoScaleUp
            && match &f.fact {
                Fact::None => true,
                Fact::Autoscaler(s @ AutoscalerSignal::NoScaleUp { .. }) => {
                    !s.gives_no_reason() && !s.only_pod_conflicts()
                }
                _ => false,
            }
    };
    if !merged.iter().any(refuses) {
        return;
    }
    let Some(top) = merged
        .iter()
        .filter(|f| {
            f.class.as_str().starts_with("scheduling.")
                && f.class != Class::Gated
                && !matches!(f.fact, Fact::Autoscaler(_))
        })
        .map(|f| f.confidence)
        .reduce(f64::max)
    else {
        return;
    };
    for f in merged.iter_mut().filter(|f| refuses(f)) {
        f.confidence = f.confidence.max((top + 0.01).min(0.95));
    }
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    LazyLock::force(&DAEMONSET_POD);
}

#[cfg(test)]
mod tests;
