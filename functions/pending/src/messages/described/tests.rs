use super::super::tests::rules_hit;
use super::super::{merge, scan};
use super::*;
use crate::messages::tests::assert_first;

/// A taint told in prose as what keeps pending pods off the nodes, in several wordings;
/// the key is read when the text carries one.
#[test]
fn a_taint_told_in_prose_beside_pending_pods() {
    for (m, key) in [
        (
            "After the upgrade to 1.25 metrics-server is stuck Pending: it has no toleration for node-role.kubernetes.io/control-plane and my only node is the control plane.",
            Some("node-role.kubernetes.io/control-plane"),
        ),
        (
            "All the workers are tainted with CriticalAddonsOnly=true, so the new pods can't be scheduled.",
            Some("CriticalAddonsOnly=true"),
        ),
        (
            "The job pods were Pending until I removed the taint from node-3; now they're running.",
            None,
        ),
        (
            "pods never get scheduled on the GPU pool because of an untolerated taint there",
            None,
        ),
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::UntoleratedTaint, "{m}: {found:?}");
        if let Some(k) = key {
            assert!(found[0].summary.contains(k), "{}", found[0].summary);
        }
    }
    for m in [
        // Nothing pending.
        "The pods are Running; no toleration is needed since the taint was removed.",
        // Removing the taint did not help.
        "I removed the taint but the pod is still Pending.",
        // The scheduler's own message says more.
        "0/3 nodes are available: 3 Insufficient cpu. The pod doesn't tolerate the master's taint, which is expected.",
    ] {
        assert!(
            !merge(scan(m))
                .iter()
                .any(|f| f.class == Class::UntoleratedTaint && f.confidence == 0.5),
            "{m}"
        );
    }
}

/// A utilisation-threshold autoscaler that does not scale up for a pod no node can hold,
/// told without naming a known autoscaler; a pod autoscaler's "no scale-up" is not it.
#[test]
fn a_scale_up_below_the_threshold_told_in_any_autoscalers_words() {
    assert_first(
        Class::NoScaleUp,
        &[
            "The pending pod asks for 3 CPUs and no node has 3 free, but cluster utilisation stays below the scale-up threshold, so no new node is added.",
            "My 200m pod is not enough to trigger a scale out, and it stays Pending because every node has only 150m free.",
            "scale_up_threshold_percent: 70\nThe pod is Pending for hours: the requests never reach the scaling threshold.",
        ],
    );
    for m in [
        "The HPA does not trigger a scale-up and the new pods are Pending.",
        "The requests are below the scale-up threshold and all pods are Running.",
    ] {
        assert!(
            !merge(scan(m)).iter().any(|f| f.class == Class::NoScaleUp),
            "{m}"
        );
    }
}

/// A pod held by its scheduler with a `PodScheduled=False` reason other than
/// `Unschedulable` (JSON or YAML, any field order): node autoscalers skip it. The
/// scheduler's own `Unschedulable` and a scheduling gate are not it.
#[test]
fn a_pod_held_without_the_unschedulable_reason() {
    for m in [
        r#"{"type": "PodScheduled", "status": "False", "reason": "Schedulable", "message": "Pod ml/train-1 can possibly be assigned to node-7"}"#,
        "status:\n  conditions:\n  - lastProbeTime: null\n    message: 'pod group is not ready, 1 minAvailable'\n    reason: Undetermined\n    status: \"False\"\n    type: PodScheduled\n  phase: Pending",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::NoScaleUp, "{m}: {found:?}");
        assert!(
            ["`Schedulable`", "`Undetermined`"]
                .iter()
                .any(|r| found[0].summary.contains(r)),
            "{}",
            found[0].summary
        );
    }
    for m in [
        r#"{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}"#,
        "  - reason: SchedulingGated\n    status: \"False\"\n    type: PodScheduled",
        r#"{"type": "PodScheduled", "status": "True", "lastTransitionTime": null}"#,
        // Another condition's reason is not the PodScheduled one's.
        "conditions:\n  - reason: PodCompleted\n    status: \"False\"\n    type: Ready\n  - status: \"False\"\n    type: PodScheduled\n    reason: Unschedulable",
    ] {
        assert!(
            !merge(scan(m)).iter().any(|f| f.class == Class::NoScaleUp),
            "{m}"
        );
    }
}

/// A node autoscaler expected (in a bug report's words) to add a node while the scheduler
/// says no room or no node in the volume's zone: the missing scale-up is the finding. A
/// selector that no node matches is not what a new node fixes, and a scale-up the
/// autoscaler reports itself is not missing.
#[test]
fn a_scale_up_expected_of_an_autoscaler_beside_a_fit_error() {
    assert_first(
        Class::NoScaleUp,
        &[
            "### Expected Behavior\nI expected the cluster autoscaler to add a node in us-east-1c.\n### Actual Behavior\nWarning FailedScheduling 0/4 nodes are available: 2 Insufficient memory, 2 node(s) had volume node affinity conflict.",
            "CA should have scaled up the gpu ASG but the pod sits there:\n  Warning  FailedScheduling  default-scheduler  0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
        ],
    );
    for m in [
        "Karpenter should launch a node for it.\n0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
        "The autoscaler should add a node. Normal TriggeredScaleUp pod triggered scale-up: [{workers 2->3 (max: 5)}]\n0/2 nodes are available: 2 Insufficient cpu.",
        "Karpenter should spin up a node when pods are pending, and it does.",
    ] {
        assert!(
            !merge(scan(m))
                .iter()
                .any(|f| f.class == Class::NoScaleUp && f.confidence >= 0.5),
            "{m}"
        );
    }
}

/// A local volume pinned to a node that is gone, told either way round, beside a pod that
/// cannot be scheduled; a replaced node with running pods is not it.
#[test]
fn a_volume_pinned_to_a_node_that_is_gone() {
    for m in [
        "The local PV was created on worker-2, which no longer exists after the autoscaler removed it; the postgres pod is Pending.",
        "We replaced node3 last week and since then the StatefulSet pod can't be scheduled: its LocalPV volume still points at the old host.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::VolumeBinding, "{m}: {found:?}");
        assert!(found[0].summary.contains("gone"), "{}", found[0].summary);
    }
    let fine =
        "The node was replaced and the pods are Running again; the volumes were re-provisioned.";
    assert!(
        !merge(scan(fine))
            .iter()
            .any(|f| f.class == Class::VolumeBinding)
    );
}

/// A taint told as the cause ("because of the taint …") beside pending pods.
#[test]
fn a_taint_told_as_the_cause() {
    let m = "coredns stays Pending because of the taint node-role.kubernetes.io/master on our single node.";
    let found = merge(scan(m));
    assert_eq!(found[0].class, Class::UntoleratedTaint, "{found:?}");
    assert!(found[0].summary.contains("node-role.kubernetes.io/master"));
}

/// Node taints printed as objects (YAML, JSON, a `map[…]` custom column) beside pods that
/// are not scheduled; a pod's tolerations are not taints.
#[test]
fn node_taints_printed_as_objects() {
    for (m, shown) in [
        (
            "$ kubectl get node cp-1 -o yaml\nspec:\n  podCIDR: 10.244.0.0/24\n  taints:\n  - effect: NoSchedule\n    key: node-role.kubernetes.io/control-plane\nstatus:\n  phase: Running\nthe nginx pods stay Pending",
            "node-role.kubernetes.io/control-plane:NoSchedule",
        ),
        (
            r#"{"spec": {"taints": [{"effect": "NoExecute", "key": "dedicated", "value": "ci"}]}} -- the runners never get scheduled"#,
            "dedicated=ci:NoExecute",
        ),
        (
            "NAME    TAINTS\ngpu-1   [map[effect:NoSchedule key:nvidia.com/gpu value:present]]\nThe training pods are Pending.",
            "nvidia.com/gpu=present:NoSchedule",
        ),
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::UntoleratedTaint, "{m}: {found:?}");
        assert!(found[0].summary.contains(shown), "{}", found[0].summary);
    }
    let tolerations = "The pod is Pending.\ntolerations:\n- effect: NoSchedule\n  key: node-role.kubernetes.io/control-plane";
    assert!(
        !merge(scan(tolerations))
            .iter()
            .any(|f| f.class == Class::UntoleratedTaint)
    );
}

/// A node autoscaler expected to add a node, with the scheduler said in the active voice
/// not to place the pods ("the scheduler couldn't schedule them"), and no fit error quoted.
#[test]
fn a_scale_up_expected_while_the_scheduler_cannot_place_the_pods() {
    let m = "The cluster autoscaler is supposed to add nodes for new replicas. During our burst test the default scheduler couldn't schedule them, and the nodes count did not change.";
    let found = merge(scan(m));
    assert_eq!(found[0].class, Class::NoScaleUp, "{m}: {found:?}");
    let m = "The cluster autoscaler is supposed to add nodes for new replicas, and the scheduler placed them all.";
    assert!(!rules_hit(m).contains(&"expected-scale-up"), "{m}");
}
