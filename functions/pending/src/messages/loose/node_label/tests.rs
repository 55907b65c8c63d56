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

/// A pod selecting a node role no node of the pasted `kubectl get nodes` table has: no node
/// matches, whatever the words say. A role some node has, or a role only tolerated, is not.
#[test]
fn a_selected_node_role_no_listed_node_has() {
    let nodes = "$ kubectl get nodes\nNAME      STATUS   ROLES           AGE   VERSION\ncp-1      Ready    control-plane   3d    v1.26.3\nwork-1    Ready    <none>          3d    v1.26.3\n";
    assert_first(
        Class::NodeAffinity,
        &[
            &format!(
                "{nodes}\nNode-Selectors:  node-role.kubernetes.io/master=\nTolerations:     node-role.kubernetes.io/master:NoSchedule op=Exists"
            ),
            &format!(
                "{nodes}\nspec:\n  nodeSelector:\n    node-role.kubernetes.io/ingress: \"true\"\n"
            ),
        ],
    );
    assert_silent(
        "selected-role-absent",
        &[
            &format!("{nodes}\nNode-Selectors:  node-role.kubernetes.io/control-plane=\n"),
            &format!(
                "{nodes}\nNode-Selectors:  <none>\nTolerations:     node-role.kubernetes.io/master:NoSchedule op=Exists"
            ),
        ],
    );
}
