use crate::message::Cause;
use crate::message::tests::cause;

/// Pulling turned off beside an image not on the node, in other words than the kubelet's.
#[test]
fn pulling_turned_off_and_the_image_not_on_the_node() {
    for text in [
        "Our kind cluster runs the chart with imagePullPolicy: Never, but we never loaded the operator image into kind, so the pod won't start.",
        "The deploy script disables image pulls, and the app image is not present on the worker.",
    ] {
        assert_eq!(cause(text), Cause::NeverPull, "{text}");
    }
}

/// Pulling off with the image present, or an image missing from a registry with pulling
/// on, is not it.
#[test]
fn pulling_off_with_the_image_there_or_pulls_on_is_not_never_pull() {
    for text in [
        "imagePullPolicy: Never is set and the image is present; the container exits with code 1.",
        "Failed to pull image \"app:2\": the image isn't present in the registry: manifest unknown",
    ] {
        assert_ne!(cause(text), Cause::NeverPull, "{text}");
    }
}
