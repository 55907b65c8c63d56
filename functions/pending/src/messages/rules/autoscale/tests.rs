use super::*;

use crate::messages::merge;
use crate::messages::run_rule as run;

/// Per-group refusals logged before the group that scales up: the scale-up is the verdict.
#[test]
fn a_triggered_scale_up_wins_over_earlier_per_group_refusals() {
    let log = "I0412 09:10:01 orchestrator.go:108] No pod can fit to spot-pool-a\n\
               I0412 09:10:01 orchestrator.go:120] Estimated 0 nodes needed in spot-pool-b\n\
               I0412 09:10:02 event.go:291] Event(Pod web-1): type: 'Normal' reason: 'TriggeredScaleUp' pod triggered scale-up: [{ondemand-pool 2->3 (max: 10)}]";
    let out = run(autoscaler_signal, log);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].class, Class::InsufficientResources);
    // Without a scale-up line the per-group verdicts are the refusal.
    let refused = run(
        autoscaler_signal,
        "I0412 09:10:01 orchestrator.go:108] No pod can fit to spot-pool-a\nsomething else",
    );
    assert_eq!(refused[0].class, Class::NoScaleUp);
}

/// The node group the autoscaler was given cannot be found or read, in several clouds'
/// words.
#[test]
fn an_autoscaler_that_cannot_find_or_reach_its_node_group() {
    for text in [
        "cluster-autoscaler logs: E0102 auto_scaling_groups.go:330] Could not find ASG eks-workers-large in the account",
        "The autoscaler keeps printing: AccessDenied: User arn:aws:sts::1:assumed-role/ca is not authorized to perform: autoscaling:DescribeAutoScalingGroups",
        "cluster autoscaler: gce_manager.go:200] Error fetching instance group: googleapi: Error 404: The resource 'projects/p/zones/z/instanceGroupManagers/pool-x' was not found",
        "autoscaler: azure_scale_set.go:150] AuthorizationFailed: the client does not have authorization to perform action 'Microsoft.Compute/virtualMachineScaleSets/read'",
        "the autoscaler says node group ng-gpu does not exist",
        "cluster autoscaler on GKE: googleapi: Error 403: Required 'compute.instanceGroups.get' permission for 'projects/p/zones/z/instanceGroups/gke-pool-x'",
        "karpenter controller: EC2NodeClass \"default\" not found, nodes are never launched",
        "cluster-autoscaler with auto-discovery by tags: 0 node groups were found, so nothing scales",
    ] {
        let out = run(node_group_unreachable, text);
        assert_eq!(out.len(), 1, "{text}");
        assert_eq!(out[0].class, Class::NoScaleUp, "{text}");
    }
}

/// Precision: no autoscaler in the text, or a node group that is fine.
#[test]
fn a_node_group_without_an_autoscaler_or_a_failure_is_not_this() {
    for text in [
        "terraform: Error: AutoScalingGroup workers not found",
        "cluster-autoscaler: scale set workers has 3 nodes, min 1 max 5",
    ] {
        assert!(run(node_group_unreachable, text).is_empty(), "{text}");
    }
}

/// The simulation's per-group line in its current shape (`… can't be scheduled on <group>,
/// predicate checking error: <reason>; predicateName=…; reasons: …`) lists its reason.
/// When that reason is inter-pod affinity, the pod's affinity is the cause (a new node
/// starts empty); a reason a new node would cure leaves the refusal first.
#[test]
fn a_simulated_group_rejected_only_for_pod_affinity_is_pod_affinity() {
    let affinity = "I1102 14:05:11.002 orchestrator.go:540] Pod batch/etl-worker-7 can't be scheduled on gke-data-pool-2c1f, predicate checking error: node(s) didn't match pod affinity rules; predicateName=InterPodAffinity; reasons: node(s) didn't match pod affinity rules; debugInfo=";
    let found = merge(run(autoscaler_signal, affinity));
    assert_eq!(found[0].class, Class::PodAffinity, "{found:?}");
    assert!(found.iter().any(|f| f.class == Class::NoScaleUp));

    let room = "I1102 14:05:11.002 orchestrator.go:540] Pod batch/etl-worker-7 can't be scheduled on gke-data-pool-2c1f, predicate checking error: Insufficient memory; predicateName=NodeResourcesFit; reasons: Insufficient memory; debugInfo=";
    let found = merge(run(autoscaler_signal, room));
    assert_eq!(found[0].class, Class::NoScaleUp, "{found:?}");
    assert!(found.iter().all(|f| f.class != Class::PodAffinity));
}
