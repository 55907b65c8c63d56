#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::{merge, scan};

/// The autoscaler's own refusal, beside the scheduler's fit error for the same pod, is the
/// diagnosis: a GPU pod, a memory pod, in the event shape and in a describe paste.
#[test]
fn an_autoscaler_refusal_outranks_the_fit_error_it_answers() {
    for text in [
        "Warning  FailedScheduling  3m  default-scheduler  0/4 nodes are available: 4 Insufficient amd.com/gpu.\n  Normal  NotTriggerScaleUp  2m  cluster-autoscaler  pod didn't trigger scale-up: 3 Insufficient amd.com/gpu, 1 max node group size reached",
        "0/6 nodes are available: 6 Insufficient memory. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.\nNotTriggerScaleUp: pod didn't trigger scale-up (it wouldn't fit if a new node is added): 2 Insufficient memory",
        "Events:\n  Warning FailedScheduling 0/3 nodes are available: 3 Insufficient ephemeral-storage.\nautoscaler log: predicate checking error: Insufficient ephemeral-storage; predicateName=NodeResourcesFit",
    ] {
        let found = merge(scan(text));
        assert_eq!(found[0].class, Class::NoScaleUp, "{text}: {found:?}");
    }
    // A scale-up under way is no refusal: capacity stays first.
    let found = merge(scan(
        "0/3 nodes are available: 3 Insufficient cpu.\nTriggeredScaleUp pod triggered scale-up: [{ng-1 2->3 (max: 5)}]",
    ));
    assert_eq!(found[0].class, Class::InsufficientResources, "{found:?}");
}

/// An autoscaler told in words not to act, beside a fit error: named, it is the answer; a
/// scale-up spoken of without an autoscaler named leaves the fit error first.
#[test]
fn an_autoscaler_told_not_to_act_beside_a_fit_error() {
    let text = "Cluster Autoscaler didn't add a node for the new worker:\n  Warning FailedScheduling 0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {team: infra}.";
    assert_eq!(merge(scan(text))[0].class, Class::NoScaleUp);
    let text =
        "0/5 nodes are available: 5 Insufficient cpu. We never scale up this cluster by hand.";
    assert_eq!(merge(scan(text))[0].class, Class::InsufficientResources);
    // A reason no new node fixes (the pod's own selector) stays first.
    let text = "the cluster autoscaler doesn't add nodes: 0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.";
    assert_eq!(merge(scan(text))[0].class, Class::NodeAffinity);
}

/// A DaemonSet pod's fit error: the taint belongs to another node, the host ports (or the
/// capacity) block it on its own; a Deployment's pod keeps the taint reading.
#[test]
fn a_daemonset_pod_is_blocked_on_its_own_node_not_by_another_node_s_taint() {
    let fit = "0/6 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) had untolerated taint {gpu: true}, 4 node(s) didn't match Pod's node affinity/selector.";
    for context in [
        "the ingress-nginx DaemonSet has one pod Pending:",
        "metallb speaker should run on every node but one is stuck:",
        "we run the exporter with hostNetwork, one pod per node:",
    ] {
        let found = merge(scan(&format!("{context}\n{fit}")));
        assert_eq!(found[0].class, Class::HostPorts, "{context}: {found:?}");
    }
    let found = merge(scan(&format!(
        "the web Deployment has a pod Pending:\n{fit}"
    )));
    assert_eq!(found[0].class, Class::UntoleratedTaint, "{found:?}");
}

/// An autoscaler verdict that gives no reason ("pod didn't trigger scale-up:" with an empty
/// list) says less than the scheduler's reasons beside it; alone, it is still no-scale-up.
#[test]
fn an_empty_autoscaler_verdict_leaves_the_fit_error_first() {
    let text = "Normal   NotTriggerScaleUp  2m (x30 over 12m)  cluster-autoscaler  pod didn't trigger scale-up:\nWarning  FailedScheduling   2m (x8 over 12m)   default-scheduler   0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules.";
    let found = merge(scan(text));
    assert_eq!(found[0].class, Class::PodAffinity, "{found:?}");
    let found = merge(scan(
        "Normal NotTriggerScaleUp 40s cluster-autoscaler pod didn't trigger scale-up:",
    ));
    assert_eq!(found[0].class, Class::NoScaleUp, "{found:?}");
}
