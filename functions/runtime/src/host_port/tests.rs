#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::tests::text as text_incident;

fn classes(text: &str) -> Vec<String> {
    crate::diagnose(&text_incident(text), &Default::default())
        .into_iter()
        .map(|d| d.class.to_string())
        .collect()
}

/// Docker failing to publish a host port (its sandbox, its userland proxy, an allocated
/// port) is the host port taken on the node, not an app that crashes on its own bind.
#[test]
fn a_host_port_the_node_cannot_publish_is_host_ports_not_a_crash() {
    for text in [
        "Warning  FailedSync  Error syncing pod, skipping: failed to \"StartContainer\" for \"POD\" with RunContainerError: \"runContainer: Error response from daemon: driver failed programming external connectivity on endpoint k8s_POD.1_web-0_shop (03aa): Error starting userland proxy: listen tcp 0.0.0.0:8443: bind: address already in use\"",
        "Error response from daemon: Bind for 0.0.0.0:80 failed: port is already allocated",
        "failed to set up sandbox container network: failed to add hostport mapping: listen tcp :::53: bind: address already in use",
    ] {
        let found = classes(text);
        assert_eq!(
            found.first().map(String::as_str),
            Some(Class::HOST_PORTS),
            "{text}"
        );
        assert!(
            !found.iter().any(|c| c == Class::RUNTIME_CRASHLOOP),
            "{text}: {found:?}"
        );
    }
    let summary = &crate::diagnose(
        &text_incident(
            "Error starting userland proxy: listen tcp 0.0.0.0:9090: bind: address already in use",
        ),
        &Default::default(),
    )[0]
    .summary;
    assert!(summary.contains("host port 9090"), "{summary}");
    // The app's own bind failing is its crash.
    let app = "Back-off restarting failed container\nError: listen tcp :8080: bind: address already in use";
    assert!(
        !classes(app).iter().any(|c| c == Class::HOST_PORTS),
        "{app}"
    );
}
