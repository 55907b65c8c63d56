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

/// Pods said to stay pending because of their node selector, or with a selector pinned to a
/// node that is gone: no node matches it, whatever else the text mentions (an anti-affinity
/// proposed as the cure). A selector named beside running pods is no finding.
#[test]
fn pods_pending_because_of_their_selector_or_one_pinned_to_a_gone_node() {
    assert_first(
        Class::NodeAffinity,
        &[
            "Should we use anti-affinity rules instead? The exporter pods are stuck Pending due to the nodeSelector after we rotated the node group.",
            "After the scale-in the etcd member pod is stuck: its nodeSelector points to a terminated instance.",
            "The mon canary keeps a node-selector for a decommissioned host, and it never schedules.",
        ],
    );
    assert_silent(
        "described-node-label",
        &["All pods run fine thanks to the nodeSelector; we pinned them to the gpu pool."],
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
