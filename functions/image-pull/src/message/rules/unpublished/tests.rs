use crate::message::Cause;
use crate::message::tests::cause;

/// An image imported into the node or a local cluster, then a failing pull: the kubelet
/// asked a registry that never had it.
#[test]
fn a_side_loaded_image_pulled_anyway() {
    for text in [
        "I imported the image with `microk8s ctr image import app.tar`, yet the Deployment goes to ErrImagePull.",
        "The operator image is built locally and put on the node with minikube image load; the pod still fails to pull it.",
    ] {
        assert_eq!(cause(text), Cause::NotFound, "{text}");
    }
    for text in [
        // Loaded and running: no pull failed.
        "We loaded the image into kind and the pod runs; it crashes later with exit code 2.",
        // Loaded with pulls turned off: the never-pull reading.
        "kind load docker-image app:dev was skipped, imagePullPolicy: Never, and the image is not present on the node: ErrImageNeverPull",
    ] {
        assert_ne!(cause(text), Cause::NotFound, "{text}");
    }
}
