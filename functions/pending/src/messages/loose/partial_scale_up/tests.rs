#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::rules_hit;
use crate::messages::{merge, scan};

/// Nodes added by node autoscaling while a pod stays Pending: the scale-up stopped short
/// (a group at its maximum). Nodes added with every pod running, or a pending pod with no
/// node added, is not it.
#[test]
fn nodes_added_by_autoscaling_and_a_pod_still_pending() {
    for m in [
        "I set the GKE node pool to autoscale and scaled the workers to 10 replicas. It added three nodes, yet two workers are still Pending.",
        "Testing auto-scaling on EKS: a new node was launched after the deploy, but the last replica stays in Pending state.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::NoScaleUp, "{m}: {found:?}");
    }
    for m in [
        "The autoscaler added two nodes and all pods are Running now.",
        "Autoscaling is on; one pod is Pending and no node was touched.",
    ] {
        assert!(!rules_hit(m).contains(&"described-partial-scale-up"), "{m}");
    }
}
