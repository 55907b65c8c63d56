#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::messages::tests::{assert_first, assert_silent};

/// Pods told to want the same port as one another, more of them than nodes, or the
/// scheduler's port predicate named, beside pods that do not schedule: one node binds a
/// port once, so the pod beyond one per node waits.
#[test]
fn pods_wanting_the_same_port_beyond_one_per_node() {
    assert_first(
        Class::HostPorts,
        &[
            "Three replicas of the proxy all listen on the same host port; on our two-node cluster the third one failed to schedule.",
            "Why does PodFitsHostPorts reject my pod? The new replica cannot be scheduled although the node has spare CPU.",
            "We run two instances with the same port on one node for blue/green, and the second is stuck Pending.",
        ],
    );
    assert_silent(
        "described-host-ports",
        &[
            "Both containers of the pod use the same port, so the second one exits with bind: address already in use.",
            "The Service and the pod use the same port 8080 and everything is Running.",
        ],
    );
}

/// The per-node agent of a second install of the same stack, pending while the first
/// install's copy runs: the agent binds host ports on every node.
#[test]
fn a_second_install_of_a_per_node_agent_left_pending() {
    assert_first(
        Class::HostPorts,
        &[
            "We deployed a second kube-prometheus-stack for the staging team; its node exporter pods never leave Pending while the first stack's run.",
            "Installing the log-shipper chart twice (once per tenant namespace) leaves the second DaemonSet's pods Pending.",
        ],
    );
    assert_silent(
        "described-host-ports",
        &[
            // A second release of an app with no per-node agent.
            "After a second release of the web chart was installed, its api pods stay Pending.",
            // A second install of an agent whose pods all run.
            "We installed the node exporter chart twice and both DaemonSets are Running fine.",
        ],
    );
}

/// A pending pod whose describe shows a host port set, or a k3s ServiceLB pod (it takes
/// every LoadBalancer port as a hostPort on each node), with no scheduler message: the
/// ports. Describe's `Host Port: 0/TCP` is no host port.
#[test]
fn a_pending_pod_with_a_host_port_set_or_a_service_lb_pod() {
    assert_first(
        Class::HostPorts,
        &[
            "Name:         edge-proxy-x2kqp\nStatus:       Pending\nNode:         <none>\nContainers:\n  proxy:\n    Port:       8443/TCP\n    Host Port:  8443/TCP",
            "all the svclb-api-gateway-* pods stay Pending since we added the second LoadBalancer service",
        ],
    );
    assert_silent(
        "described-host-ports",
        &[
            "Name:         web-7c9d8f-x2kqp\nStatus:       Pending\nNode:         <none>\nContainers:\n  web:\n    Port:       8080/TCP\n    Host Port:  0/TCP",
        ],
    );
}
