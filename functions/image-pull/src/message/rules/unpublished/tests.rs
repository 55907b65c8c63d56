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

/// A failing pull of a tag made from `git describe` (commits past a release, a dirty tree):
/// a build's version, not a published tag.
#[test]
fn a_tag_made_from_a_build_version() {
    for text in [
        "ErrImagePull for registry.example/platform/gateway:2.7.1-14-gdeadbee0 after running make deploy",
        "The installer wrote quay.io/acme/agent:v0.9.0-dirty into the DaemonSet and the pods are in ImagePullBackOff",
    ] {
        assert_eq!(cause(text), Cause::NotFound, "{text}");
    }
    for text in [
        // A build version with no failing pull.
        "The pods run acme/agent:v2.4.0-7-g1a2b3c4d and serve traffic.",
        // A plain release tag failing to pull says nothing about its publication.
        "ImagePullBackOff for acme/agent:v2.4.0 on the new nodes",
    ] {
        assert_ne!(cause(text), Cause::NotFound, "{text}");
    }
}
