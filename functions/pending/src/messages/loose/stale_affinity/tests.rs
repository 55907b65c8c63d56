use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// Pending pods told to keep the old node affinity or selector after the owner's changed;
/// an affinity said to be right, or a pod anti-affinity, is not it.
#[test]
fn pending_pods_keep_an_old_node_affinity() {
    assert_first(
        Class::NodeAffinity,
        &[
            "We moved the StatefulSet's nodeSelector from pool=a to pool=b; web-0 rolled, but web-1 and web-2 stay Pending with the old nodeSelector.",
            "After switching the node pool in the operator's spec, the pending replicas were never recreated and their node affinity is still the retired pool.",
        ],
    );
    assert_silent(
        "described-stale-affinity",
        &[
            "The node affinity looks right but the pod is still Pending.",
            "The pods' anti-affinity is still there, so the second replica is Pending.",
            "The old affinity rules were removed and every pod is Running.",
        ],
    );
}
