//! Injected init containers failing, told for other meshes and injectors and in other words.

use lastmile_events::Class;

use crate::text::tests::{assert_first, classes};

/// A mesh's traffic-redirection init failing its packet-filter step.
#[test]
fn a_proxy_init_whose_iptables_step_fails_is_an_init_crash_loop() {
    assert_first(
        Class::InitCrashloop,
        &[
            "istio-init keeps restarting:\n  iptables-restore: line 12 failed\n  ISTIO_INBOUND chain",
            "Init:CrashLoopBackOff on every pod since the node upgrade. Logs: ip6tables v1.8.7 (legacy): can't initialize ip6tables table `nat': Table does not exist",
            "The kuma-init container fails with: iptables: Chain already exists.",
            "    Last State:  Terminated\n      Reason:    Error\n      Message:   iptables-save: exit status 1 while cleaning CONSUL_PROXY_INBOUND",
        ],
    );
    // A node agent's own iptables errors (kube-proxy crash-looping) are not an init's.
    assert!(
        !classes("kube-proxy is in CrashLoopBackOff: iptables-restore: line 7 failed")
            .contains(&Class::InitCrashloop)
    );
}

/// An injected init retrying a registration or login its control plane refuses.
#[test]
fn an_injected_init_retrying_a_refused_call_is_blocked() {
    let text = "With sidecar injection enabled the pods never start. The init logs:\n\
        2024-03-01T10:00:01Z error fetching token: 401 Unauthorized, retrying\n\
        2024-03-01T10:00:03Z error fetching token: 401 Unauthorized, retrying\n";
    assert_eq!(classes(text).first(), Some(&Class::InitBlocked), "{text}");
    let text = "Pods stay in Init after enabling the agent injector:\n\
        [WARN] could not find registered service for pod; retrying\n\
        [WARN] could not find registered service for pod; retrying\n";
    assert_eq!(classes(text).first(), Some(&Class::InitBlocked), "{text}");
}
