#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// A node cordoned or drained by the command, told beside pods that cannot be scheduled on
/// it (even after an uncordon); the command with everything running is no finding.
#[test]
fn a_node_cordoned_or_drained_by_command_beside_waiting_pods() {
    assert_first(
        Class::UnschedulableNodes,
        &[
            "Ran `kubectl cordon worker-3` last week and `kubectl uncordon worker-3` today; it shows Ready but new pods are not scheduled there.",
            "kubectl drain $NODE --ignore-daemonsets, then uncordon it: the node is Ready yet pods can't be scheduled onto it.",
        ],
    );
    assert_silent(
        "described-cordon",
        &[
            "I did kubectl drain node-2 for an upgrade; everything moved and is Running.",
            "I uncordoned node-2 and the Pending pods are still Pending.",
        ],
    );
}

/// A node set unschedulable by hand (maintenance, a kubelet replacement) while its pods
/// wait; the node marked so with its pods running elsewhere is no finding.
#[test]
fn a_node_marked_unschedulable_by_hand_beside_waiting_pods() {
    assert_first(
        Class::UnschedulableNodes,
        &[
            "During maintenance we patched the worker with spec.unschedulable=true; after the kubelet restart its pods went to status Unschedulable and were never recreated.",
            "Before swapping the kubelet binary the host was marked as unschedulable, and since then the app pod is not running.",
        ],
    );
    assert_silent(
        "described-cordon",
        &[
            "We set the node unschedulable for the kernel upgrade, and all pods moved and are Running.",
            "The pod is unschedulable on the node because of its memory request.",
        ],
    );
}

/// Nodes left cordoned after an upgrade, drain or reboot that should have given them back:
/// they no longer take pods until uncordoned by hand, whether or not pods are said to wait.
#[test]
fn nodes_left_cordoned_after_an_upgrade_or_drain() {
    assert_first(
        Class::UnschedulableNodes,
        &[
            "After rolling the OS patch with our Ansible role, two of the workers remain cordoned; nothing lands on them until someone runs kubectl uncordon.\nNAME   STATUS                     ROLES    AGE   VERSION\nw-1    Ready,SchedulingDisabled   <none>   40d   v1.27.3\nw-2    Ready                      <none>   40d   v1.27.3",
            "The kured reboot finished hours ago but the node is still SchedulingDisabled; we have to uncordon it by hand every time.",
            "The upgrade job drains each control plane node but does not uncordon it afterwards.",
            "Our reboot script cordons the host first and the node doesn't get uncordoned when it is back.",
        ],
    );
    assert_silent(
        "described-cordon",
        &[
            "The upgrade cordons each node, drains it and uncordons it again; afterwards the api pod crashes with exit code 1.",
            "We had to restart the kubelet after the upgrade; the node never came back Ready.",
        ],
    );
}
