//! The autoscaler rules of the table: what the cluster-autoscaler or Karpenter said about
//! the pod, and an autoscaler that cannot find or reach its node group.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::Input;
use crate::messages::autoscaler::{self, AutoscalerSignal};
use crate::messages::{Fact, Finding};

/// The verdict of a multi-line text: a triggered scale-up wins over per-node-group refusals
/// printed before it (the cluster-autoscaler checks every group and logs each refusal, then
/// grows the one that fits); otherwise the first verdict.
fn first_verdict(text: &str) -> Option<AutoscalerSignal> {
    let mut first = None;
    for line in text.lines() {
        match autoscaler::parse_autoscaler(line) {
            Some(s @ AutoscalerSignal::ScaleUpTriggered { .. }) => return Some(s),
            Some(s) if first.is_none() => first = Some(s),
            _ => {}
        }
    }
    first
}

/// What Cluster Autoscaler or Karpenter said about the pod.
pub(super) fn autoscaler_signal(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let flat = t.flat;
    let signal = first_verdict(text).or_else(|| autoscaler::parse_autoscaler(flat));
    let Some(signal) = signal else { return };
    match &signal {
        AutoscalerSignal::ScaleUpTriggered { text } => {
            let quote = text.clone();
            out.push(Finding::new(
                Class::InsufficientResources,
                0.55,
                "the autoscaler is adding a node for the pod; it is waiting for capacity, not stuck yet",
                &quote,
                false,
                Fact::Autoscaler(signal),
            ));
        }
        AutoscalerSignal::NoScaleUp {
            by,
            text,
            reasons,
            at_limit,
            pools,
        } => {
            let quote = text.clone();
            let restricted = text.to_ascii_lowercase().contains("is restricted");
            let detail = if reasons.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    reasons
                        .iter()
                        .map(|(n, r)| format!("{n} {r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let why = if *at_limit {
                " (a node group or NodePool is at its size/resource limit)"
            } else {
                ""
            };
            let pools = if pools.is_empty() {
                String::new()
            } else {
                format!(" (NodePools: {})", pools.join(", "))
            };
            let summary = format!("{by} will not add a node for the pod{why}{pools}{detail}");
            if restricted {
                // The pod selects a label Karpenter refuses to provision for.
                out.push(Finding::new(
                    Class::NodeAffinity,
                    0.8,
                    "the pod's node selector/affinity uses a label Karpenter treats as restricted, so Karpenter ignores the pod",
                    &quote,
                    true,
                    Fact::Autoscaler(signal.clone()),
                ));
            }
            if signal.only_pod_affinity() {
                out.push(Finding::new(
                    Class::PodAffinity,
                    0.8,
                    "the autoscaler's simulation finds the pod's inter-pod affinity unmet on a new node: a new node starts with no pods, so a required pod affinity (co-location with pods on existing nodes) is never met there; relax the affinity or make room beside the pods it wants",
                    &quote,
                    true,
                    Fact::Autoscaler(signal.clone()),
                ));
            }
            // An empty verdict ("pod didn't trigger scale-up:" and nothing after), or one
            // that only repeats the pod's conflicts with other pods (affinity, host ports),
            // ranks below the scheduler's reasons.
            let conf = if restricted {
                0.7
            } else if signal.gives_no_reason() || signal.only_pod_conflicts() {
                0.6
            } else {
                0.82
            };
            out.push(Finding::new(
                Class::NoScaleUp,
                conf,
                summary,
                &quote,
                *at_limit,
                Fact::Autoscaler(signal.clone()),
            ));
        }
    }
}

/// A cloud node group named beside a failure to find or reach it: "Failed to get scaleSet
/// with name X", "could not find ASG", "AutoScalingGroup … not found", "managed instance
/// group … 404", "not authorized to perform: autoscaling:DescribeAutoScalingGroups",
/// "AuthorizationFailed … virtualMachineScaleSets/read".
static NODE_GROUP_FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    let group = r"(?:scale ?sets?|vmss|asgs?\b|auto ?scaling ?groups?|autoscaling:describe\w*|instance ?groups?|instancegroupmanagers|\bmigs?\b|node ?groups?|node ?pools?|launch ?templates?|(?:ec2|aks|gce)?node ?class(?:es)?)";
    let fail = r"(?:not found|notfound|could not find|couldn't find|cannot find|can't find|unable to find|failed to (?:get|find|list|describe|fetch|read|regenerate|discover|resolve)|does not exist|doesn't exist|no such|\b40[34]\b|accessdenied|access denied|not authorized|unauthorizedoperation|authorizationfailed|does not have authorization|forbidden|permissions?\b)";
    Regex::new(&format!(
        r"(?i){fail}[^\n]{{0,80}}?{group}|{group}[^\n]{{0,80}}?{fail}|\b(?:no|0|zero) (?:matching )?{group} (?:were |was )?(?:found|discovered|registered|matched)"
    ))
    .expect("the scanner's patterns are valid regexes")
});

/// A node autoscaler that cannot find or reach its node group (scale set / ASG / MIG /
/// node group not found, 404, missing cloud permissions): it never grows the group, so
/// pods that need a new node stay Pending. Needs an autoscaler named in the text.
pub(super) fn node_group_unreachable(t: &Input<'_>, out: &mut Vec<Finding>) {
    let lower = t.lower;
    let named = [
        "autoscaler",
        "auto-scaler",
        "karpenter",
        "scale_up.go",
        "_manager.go",
    ]
    .iter()
    .any(|m| lower.contains(m));
    if !named {
        return;
    }
    let Some(line) = t.text.lines().find(|l| NODE_GROUP_FAILURE.is_match(l)) else {
        return;
    };
    out.push(Finding::new(
        Class::NoScaleUp,
        0.8,
        "the node autoscaler cannot find or reach its node group (the cloud scale set / auto scaling group / instance group is missing, misnamed or not readable with its credentials), so it never adds a node: check the group names it was given (--nodes / auto-discovery tags) and its cloud permissions",
        line,
        true,
        Fact::None,
    ));
}

#[cfg(test)]
pub(super) static PATTERNS: [&LazyLock<Regex>; 1] = [&NODE_GROUP_FAILURE];

#[cfg(test)]
mod tests;
