#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// Nodes added by node autoscaling while a pod stays Pending: the scale-up stopped short
/// (a group at its maximum). Nodes added with every pod running, or a pending pod with no
/// node added, is not it.
#[test]
fn nodes_added_by_autoscaling_and_a_pod_still_pending() {
    assert_first(
        Class::NoScaleUp,
        &[
            "I set the GKE node pool to autoscale and scaled the workers to 10 replicas. It added three nodes, yet two workers are still Pending.",
            "Testing auto-scaling on EKS: a new node was launched after the deploy, but the last replica stays in Pending state.",
        ],
    );
    assert_silent(
        "described-partial-scale-up",
        &[
            "The autoscaler added two nodes and all pods are Running now.",
            "Autoscaling is on; one pod is Pending and no node was touched.",
        ],
    );
}
