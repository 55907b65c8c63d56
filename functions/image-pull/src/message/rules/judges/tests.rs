#![allow(clippy::unwrap_used)]

use lastmile_events::Class;

use crate::message::tests::cause;
use crate::message::{Cause, classify};

/// Registry credentials told in words: an expired token or login in the pull secret, a
/// private registry the node cannot pull from. A certificate that expired stays TLS.
#[test]
fn credentials_told_in_words() {
    for text in [
        "Pods report ImagePullBackOff; the tokens stored in the pull secret `acr-pull` are expired.",
        "ErrImagePull again: our ECR login expired after 12 hours and nothing refreshed the secret.",
    ] {
        assert_eq!(cause(text), Cause::ExpiredCredentials, "{text}");
    }
    for text in [
        "Only the control-plane node can't pull the private AWS ECR image; the workers can.\ncontainer \"agent\" is waiting to start: image can't be pulled",
        "ImagePullBackOff for every image in our private Harbor repository",
    ] {
        assert_eq!(cause(text), Cause::NoCredentials, "{text}");
    }
    assert_eq!(
        cause("Failed to pull image: x509: certificate has expired or is not yet valid"),
        Cause::TlsExpired
    );
    // A private registry that pulls fine is no failure.
    assert!(classify("we moved the images to a private registry last week").is_none());
}

/// An image or tag said not to exist, without the registry's `not found`.
#[test]
fn a_missing_image_told_in_words() {
    for text in [
        "When the Helm chart references a docker image that does not exist, the install never completes.",
        "the deployment points at a non-existent image tag (1.2.3-rc9)",
        "the image was never pushed to the registry, so the pods wait",
    ] {
        assert_eq!(cause(text).class(), Class::IMAGE_NOT_FOUND, "{text}");
    }
    assert!(classify("the image exists and pulls fine").is_none());
}

/// A cause a person described is marked as told (a reading); one quoted from a registry,
/// runtime or kubelet message is not.
#[test]
fn described_causes_are_told_and_quoted_ones_are_not() {
    for text in [
        "ErrImagePull again: our ECR login expired after 12 hours and nothing refreshed the secret.",
        "ImagePullBackOff for every image in our private Harbor repository",
        "the image was never pushed to the registry, so the pods wait",
    ] {
        assert!(classify(text).is_some_and(|m| m.told), "{text}");
    }
    for text in [
        "Failed to pull image \"r.example/a:1\": rpc error: code = NotFound desc = failed to pull and unpack image \"r.example/a:1\": failed to resolve reference \"r.example/a:1\": r.example/a:1: not found",
        "Error response from daemon: pull access denied for acme/api, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
        "failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized",
    ] {
        assert!(classify(text).is_some_and(|m| !m.told), "{text}");
    }
}

/// Credentials told to expire or to be short-lived and then fail (a CI job token, a
/// temporary deploy token) are expired credentials, told in words.
#[test]
fn credentials_said_to_expire_are_expired_credentials() {
    assert_eq!(
        cause(
            "the pull secret holds a GITHUB_TOKEN, and that token expires when the workflow finishes, so pulling the image later on a fresh node fails"
        ),
        Cause::ExpiredCredentials
    );
    assert_eq!(
        cause(
            "we pull from our registry with a temporary access token and after a few hours every image pull is denied"
        ),
        Cause::ExpiredCredentials
    );
}

/// A certificate or an image's retention said to expire is not a credential.
#[test]
fn an_expiring_certificate_or_image_is_not_expired_credentials() {
    assert_ne!(
        cause("the registry's certificate expires next week; image pulls still work"),
        Cause::ExpiredCredentials
    );
    assert_ne!(
        cause("images pushed to ttl.sh expire after an hour, then the pull says manifest unknown"),
        Cause::ExpiredCredentials
    );
}

/// A client or old registry saying a named image does not exist is a not-found, unless the
/// registry's access words are beside it (a private repository answered alike).
#[test]
fn an_image_named_as_not_found_by_the_engine() {
    for text in [
        "docker pull acme/reporting:3 -> Error: image acme/reporting:3 not found",
        "crictl pull failed: image \"quay.io/team/etl:nightly\" not found",
    ] {
        assert_eq!(cause(text), Cause::NotFound, "{text}");
    }
    for text in [
        // Not a reference: a digest and a pull secret.
        "pulling image: the image digest not found in the lock file",
        "Failed to pull image: image pull secret regcred not found, retrying",
    ] {
        assert_ne!(cause(text), Cause::NotFound, "{text}");
    }
    // Beside the access words, the repository may be private: access-denied decides.
    assert_eq!(
        cause(
            "Error: image acme/secret-app not found: pull access denied, may require authorization"
        ),
        Cause::AccessDenied
    );
}

/// The registry's authentication or authorization said to have expired, in a person's
/// words or a tool's, is expired credentials; an expired certificate beside auth words
/// stays TLS.
#[test]
fn an_authentication_said_to_have_expired() {
    for text in [
        "Rolling out the new image to our Nomad fleet fails: the registry authorization has expired on the clients.",
        "service update rejected: registry session expired, the worker cannot fetch the image",
    ] {
        assert_eq!(cause(text), Cause::ExpiredCredentials, "{text}");
    }
    assert_eq!(
        cause(
            "pulling image: authentication passed, but then x509: certificate has expired or is not yet valid"
        ),
        Cause::TlsExpired
    );
}

/// A pull failing from a registry set up with credentials (a robot account, a personal
/// access token added as registry credentials) is a credentials reading; the same words
/// with pulls working, or beside a tag said never pushed, are not.
#[test]
fn a_pull_failing_from_a_registry_set_up_with_credentials() {
    for text in [
        "Our Harbor project is reached with a robot account; the Deployment shows ErrImagePull on every node.",
        "Added a personal access token for ghcr.io as registry credentials in Portainer, and the stack's pods still hit an image pull error.",
    ] {
        assert_eq!(cause(text).class(), Class::IMAGE_AUTH, "{text}");
    }
    for text in [
        "We rotated the deploy token last night and the pipeline pushes images fine.",
        "The access token works; the tag was never pushed, so the pods are in ImagePullBackOff.",
    ] {
        assert_ne!(cause(text).class(), Class::IMAGE_AUTH, "{text}");
    }
}

/// A denial naming a Docker Official Image cannot be a name that was never published (a
/// missing tag of one answers "manifest unknown"): access denied, with no "does not exist"
/// second reading. Another Hub name keeps both readings, led by the missing repository.
#[test]
fn an_official_image_denied_is_access_denied_not_a_missing_repository() {
    for text in [
        "\"docker.io/library/busybox:latest\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        "Error response from daemon: pull access denied for nginx, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    ] {
        let m = classify(text).unwrap();
        assert_eq!(m.cause, Cause::AccessDenied, "{text}");
        assert_eq!(m.alternative, None, "{text}");
        // The image is the reference, never the prose after "repository".
        let image = m.image.unwrap();
        assert!(image.contains("busybox") || image == "nginx", "{image}");
    }
    let typo = classify("Error response from daemon: pull access denied for ngnix, repository does not exist or may require 'docker login': denied: requested access to the resource is denied").unwrap();
    assert_eq!(typo.cause, Cause::RepositoryNotFound);
    // A repository of the same name under another namespace is no official image.
    let other = classify("\"docker.io/acme/busybox:1\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed").unwrap();
    assert!(other.alternative.is_some());
}

/// A pull secret said not to reach the pods that pull (passed to some pods "but not" to
/// others, "not propagated", "not copied") leaves those pulls without credentials.
#[test]
fn a_pull_secret_said_not_to_reach_the_pods_is_no_credentials() {
    for text in [
        "imagePullSecret (set via spec.image.pullSecrets) for our custom image is passed to the Spark driver pod but not to the executor pods, resulting in ImagePullBackOff.",
        "The chart's pull secrets are not propagated to the migration job's pods, so they fail with ErrImagePull.",
    ] {
        assert_eq!(cause(text), Cause::NoCredentials, "{text}");
    }
    // A secret passed as it should be is no finding of its own.
    assert!(classify("the imagePullSecret is passed to every pod; the pods run fine").is_none());
}
