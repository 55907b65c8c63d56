#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// A node autoscaler said to be too slow to act (its simulation runs for minutes on a big
/// cluster, it hangs) while pods wait: it launches no node meanwhile. Slow with nothing
/// waiting, or a slow application, is not it.
#[test]
fn an_autoscaler_too_slow_to_act_beside_waiting_pods() {
    assert_first(
        Class::NoScaleUp,
        &[
            "With 30k pods in the cluster the cluster-autoscaler takes forever in its main loop, and new pods stay Pending for twenty minutes.",
            "Pods are pending while Karpenter hangs in the provisioning loop; after a restart it launches nodes again.",
        ],
    );
    assert_silent(
        "described-no-scale-up",
        &[
            "The cluster autoscaler takes a long time to remove empty nodes; all pods are Running.",
            "The app is very slow to start, and the pod is pending only for a few seconds.",
            "The CSI provisioner is stuck and the PVC stays Pending; the cluster autoscaler is installed too.",
            "Pods are pending and the horizontal pod autoscaler is very slow to react.",
        ],
    );
}

/// The autoscaler's own pods stuck (its Deployment's second replica Pending on a full
/// node) are a pod like any other: what blocks them is the scheduler's reason, not the
/// autoscaler declining a scale-up.
#[test]
fn the_autoscalers_own_pods_pending_are_no_declined_scale_up() {
    assert_silent(
        "described-no-scale-up",
        &[
            "One of the two Karpenter pods is stuck in Pending after the upgrade.",
            "The cluster-autoscaler pod is stuck Pending on the system pool.",
        ],
    );
    assert_first(
        Class::PodAffinity,
        &[
            "One of two Karpenter pods is stuck in `Pending` with `0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match pod anti-affinity rules.`",
        ],
    );
}

/// A named node autoscaler said not to scale up or out (a node pool, for a pod that needs a
/// GPU) stands without the word "pending"; a scale-down that does not happen is not it.
#[test]
fn a_named_node_autoscaler_said_not_to_scale_up() {
    assert_first(
        Class::NoScaleUp,
        &[
            "Karpenter never scales out the accelerator provisioner when a training job asks for amd.com/gpu.",
            "The node autoscaler did not scale up the spot pool after the batch workers were created.",
        ],
    );
    assert_silent(
        "described-no-scale-up",
        &[
            "The cluster-autoscaler doesn't scale down the idle GPU pool overnight.",
            "The horizontal pod autoscaler doesn't scale up the web deployment under load.",
        ],
    );
}

/// Pods said to wait until their requests were lowered, or to schedule once they were:
/// the request was more than the nodes' allocatable left. Lowering a request for another
/// reason (cost), with nothing waiting, is not it.
#[test]
fn pods_waiting_until_their_requests_were_lowered() {
    assert_first(
        Class::InsufficientResources,
        &[
            "The ingest workers were stuck in Pending until we lowered the cpu request from 16 to 12 cores; the nodes have 16 cores each.",
            "After reducing the memory request to 28Gi the trainer pods got scheduled right away.",
        ],
    );
    assert_silent(
        "described-capacity",
        &[
            "We reduced the memory requests to save money; the pods run fine.",
            "The pod stayed pending until we fixed the node selector.",
        ],
    );
}

/// A pod Pending with requests that schedules without them, told in words or shown as a
/// manifest with a `requests:` block and a variant said to work that has none: no node has
/// the allocatable left for the request.
#[test]
fn a_pending_pod_that_schedules_without_its_requests() {
    assert_first(
        Class::InsufficientResources,
        &[
            "Our batch pod asks for 4 cpus and stays Pending on the t3.small pool; without the resource requests it gets scheduled right away.",
            "The pod below stays Pending:\n\n```\nspec:\n  containers:\n  - name: db\n    image: postgres:16\n    resources:\n      requests:\n        memory: 6Gi\n```\n\nThe same manifest works when written as:\n\n```\nspec:\n  containers:\n  - name: db\n    image: postgres:16\n```",
        ],
    );
    assert_silent(
        "described-capacity",
        &[
            // Removing the requests fixed a crash, not a wait.
            "Without the resource requests it runs, but the container is OOMKilled under load.",
            // The working variant keeps its requests: something else changed.
            "This pod stays Pending:\n```\nresources:\n  requests:\n    cpu: 2\n```\nThe following manifest works:\n```\nresources:\n  requests:\n    cpu: 2\nnodeSelector: {}\n```",
        ],
    );
}
