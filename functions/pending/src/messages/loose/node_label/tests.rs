use lastmile_events::Class;

use crate::messages::tests::rules_hit;
use crate::messages::{merge, scan};

/// A nodeSelector / node affinity whose label no node carries yet (never labelled,
/// forgotten, a typo), with or without "pending"; a forgotten label unrelated to any pod
/// requirement is no finding.
#[test]
fn a_required_label_no_node_carries_yet() {
    for m in [
        "The Deployment sets nodeSelector disktype: ssd, but we never labelled the nodes, so nothing came up.",
        "Our DaemonSet uses node affinity on role=edge; there was a typo in the node label (rol=edge) and its pods wait.",
    ] {
        let found = merge(scan(m));
        assert_eq!(found[0].class, Class::NodeAffinity, "{m}: {found:?}");
    }
    for m in [
        "Forgot to label the nodes in the dashboard; the pods are all Running.",
        "We never labelled the nodes by team, and every pod runs fine.",
    ] {
        assert!(!rules_hit(m).contains(&"described-node-label"), "{m}");
    }
}
