use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// A nodeSelector / node affinity whose label no node carries yet (never labelled,
/// forgotten, a typo), with or without "pending"; a forgotten label unrelated to any pod
/// requirement is no finding.
#[test]
fn a_required_label_no_node_carries_yet() {
    assert_first(
        Class::NodeAffinity,
        &[
            "The Deployment sets nodeSelector disktype: ssd, but we never labelled the nodes, so nothing came up.",
            "Our DaemonSet uses node affinity on role=edge; there was a typo in the node label (rol=edge) and its pods wait.",
        ],
    );
    assert_silent(
        "described-node-label",
        &[
            "Forgot to label the nodes in the dashboard; the pods are all Running.",
            "We never labelled the nodes by team, and every pod runs fine.",
        ],
    );
}
