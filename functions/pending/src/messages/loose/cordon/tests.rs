#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::rules_hit;
use crate::messages::{merge, scan};

/// A node cordoned or drained by the command, told beside pods that cannot be scheduled on
/// it (even after an uncordon); the command with everything running is no finding.
#[test]
fn a_node_cordoned_or_drained_by_command_beside_waiting_pods() {
    for m in [
        "Ran `kubectl cordon worker-3` last week and `kubectl uncordon worker-3` today; it shows Ready but new pods are not scheduled there.",
        "kubectl drain $NODE --ignore-daemonsets, then uncordon it: the node is Ready yet pods can't be scheduled onto it.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::UnschedulableNodes, "{m}: {found:?}");
    }
    for m in [
        "I did kubectl drain node-2 for an upgrade; everything moved and is Running.",
        "I uncordoned node-2 and the Pending pods are still Pending.",
    ] {
        assert!(!rules_hit(m).contains(&"described-cordon"), "{m}");
    }
}
