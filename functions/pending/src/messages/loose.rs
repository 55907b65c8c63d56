//! Loose signals: what people paste instead of the scheduler's message. A bare taint
//! triple (`dedicated=gpu:NoSchedule`) next to "pods stay pending", or a `kubectl get
//! nodes` table whose nodes are `NotReady` (they carry the `node.kubernetes.io/not-ready`
//! taint) beside Pending pods. Both only count when no fit error or `Taints:` block says
//! more, and below the confidence of the scheduler's own words.
//!
//! The rules sit in submodules by what they are about: `nodes` (taints, NotReady nodes,
//! host ports), `disk_pressure` (the kubelet's disk over its thresholds), `node_label` (a
//! label the pods need and no node carries), `stale_affinity` (pods left with an old node
//! affinity), `cordon` (cordoned, drained or unschedulable nodes), `no_nodes` (a cluster
//! with no node at all), `lost_node` (a replacement pod beside a lost node), `capacity`
//! (capacity and scale-up told in words), `partial_scale_up` (nodes added and pods still
//! Pending), `placement` (claims, spread rules, zonal volumes), `replicas_per_node` (one
//! replica per Ready node and the next Pending) and `admission` (quota, LimitRange and
//! policy told in words).

mod admission;
mod capacity;
mod cordon;
mod disk_pressure;
mod lost_node;
mod no_nodes;
mod node_label;
mod nodes;
mod partial_scale_up;
mod placement;
mod replicas_per_node;
mod stale_affinity;

use std::sync::LazyLock;

use regex::Regex;

pub(super) use admission::{described_limit_range, described_policy, described_quota};
pub(super) use capacity::{described_capacity, described_no_scale_up, gang_unschedulable};
pub(super) use cordon::{cordoned_nodes, described_cordon};
pub(super) use disk_pressure::described_disk_pressure;
pub(super) use lost_node::replacement_beside_lost_node;
pub(super) use no_nodes::described_no_nodes;
pub(super) use node_label::{described_node_label, selected_role_absent};
pub(super) use nodes::{bare_taint, described_host_ports, not_ready_nodes};
pub(super) use partial_scale_up::partial_scale_up;
pub(super) use placement::{
    described_spread, described_volume_zone, empty_daemonset, pending_claims,
};
pub(super) use replicas_per_node::replicas_beyond_nodes;
pub(super) use stale_affinity::described_stale_affinity;

/// True when the text says pods are not being scheduled.
pub(super) fn says_pending(lower: &str) -> bool {
    lower.contains("pending")
        || lower.contains("not scheduled")
        || lower.contains("unschedulable")
        || UNSCHEDULED_PODS.is_match(lower)
}

/// Pods called "unscheduled" (the autoscalers' own word for pods waiting for a node):
/// "many unscheduled pods", "the pods remain unscheduled". Not "unscheduled maintenance".
static UNSCHEDULED_PODS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bunscheduled (?:pods?|replicas?|workloads?|jobs?)\b|\b(?:pods?|replicas?) (?:(?:are|is|stay|stays|remain|remains|were|was|left|kept) )?unscheduled\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said not to run: pending, or not started / scheduled / created.
pub(super) static PODS_NOT_RUNNING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bpending\b|\bnot (?:being )?(?:started|scheduled|running|created)\b|\bunschedulable\b|\bnever (?:start|get scheduled)")
        .expect("the loose patterns are valid regexes")
});

/// Pods said not to be schedulable, in more wordings than [`PODS_NOT_RUNNING`]: "not
/// schedulable", "couldn't be scheduled", "cannot get scheduled", "fails to schedule".
pub(super) static NOT_SCHEDULABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bnot schedulable\b|(?:n't|\bnot|\bcannot|\bunable to) (?:be |get )?schedul(?:ed|able)\b|\bfail(?:s|ed|ing)? to (?:be |get )?schedul(?:ed?|ing)?\b",
    )
    .expect("the loose patterns are valid regexes")
});

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    LazyLock::force(&PODS_NOT_RUNNING);
    LazyLock::force(&UNSCHEDULED_PODS);
    LazyLock::force(&NOT_SCHEDULABLE);
    admission::compile_all();
    capacity::compile_all();
    cordon::compile_all();
    disk_pressure::compile_all();
    lost_node::compile_all();
    no_nodes::compile_all();
    node_label::compile_all();
    nodes::compile_all();
    partial_scale_up::compile_all();
    placement::compile_all();
    stale_affinity::compile_all();
}

#[cfg(test)]
mod tests;
