#![allow(clippy::unwrap_used)]

use crate::message::Cause;
use crate::message::tests::cause;

/// The token fetch itself timing out, refused or unresolved (containerd, CRI-O, docker,
/// a credential helper) is the node failing to reach the registry, not a credential fault.
#[test]
fn transport_failure_under_a_token_fetch_is_the_network() {
    assert_eq!(
        cause(
            r#"failed to pull and unpack image "docker.io/library/nginx:1.25": failed to resolve reference "docker.io/library/nginx:1.25": failed to authorize: failed to fetch anonymous token: Get "https://auth.docker.io/token?scope=repository%3Alibrary%2Fnginx%3Apull&service=registry.docker.io": dial tcp 54.236.113.205:443: i/o timeout"#
        ),
        Cause::Timeout
    );
    assert_eq!(
        cause(
            r#"Failed to pull image "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:3": failed to authorize: failed to fetch oauth token: Post "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/": dial tcp 10.0.0.12:443: connect: connection refused"#
        ),
        Cause::Refused
    );
    assert_eq!(
        cause(
            "Error response from daemon: Get https://quay.io/v2/: error getting credentials - err: exit status 1, out: `dial tcp: lookup sts.amazonaws.com: no such host`"
        ),
        Cause::Dns
    );
    assert_eq!(
        cause(
            r#"Failed to pull image "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:7": failed to get credential from external credential provider: RequestError: send request failed caused by: Post "https://api.ecr.us-east-1.amazonaws.com/": dial tcp 52.46.1.10:443: i/o timeout"#
        ),
        Cause::Timeout
    );
}

/// Docker's hedge ("may be because there are no credentials", "may require 'docker
/// login'") around a dial error is the network too.
#[test]
fn hedged_auth_words_around_a_dial_error_are_the_network() {
    assert_eq!(
        cause(
            "image pull failed for k8s.gcr.io/pause-amd64:3.1, this may be because there are no credentials on this request. details: (Get https://k8s.gcr.io/v1/_ping: dial tcp 108.177.97.82:443: connect: network is unreachable)"
        ),
        Cause::Unreachable
    );
}

/// When the registry or its token service answered and refused, the auth rules decide.
#[test]
fn a_refusal_from_the_registry_stays_auth() {
    assert_eq!(
        cause(
            r#"failed to pull and unpack image "r.example/app:1": failed to resolve reference "r.example/app:1": failed to authorize: failed to fetch oauth token: unexpected status from POST request to https://r.example/token: 401 Unauthorized"#
        ),
        Cause::BadCredentials
    );
    assert_eq!(
        cause(
            "Error response from daemon: pull access denied for acme/api, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
        ),
        Cause::RepositoryNotFound
    );
}

/// A name lookup that fails below DNS itself (the resolver's socket cannot be opened, the
/// sandbox forbids it, the process ran out of descriptors) is still the node failing to
/// resolve the registry.
#[test]
fn a_lookup_failing_at_the_resolver_socket_is_dns() {
    assert_eq!(
        cause(
            r#"Failed to pull image "ghcr.io/acme/worker:2.1": rpc error: code = Unknown desc = failed to pull and unpack image "ghcr.io/acme/worker:2.1": failed to resolve reference "ghcr.io/acme/worker:2.1": failed to do request: Head "https://ghcr.io/v2/acme/worker/manifests/2.1": dial tcp: lookup ghcr.io on 10.96.0.10:53: dial udp 10.96.0.10:53: connect: operation not permitted"#
        ),
        Cause::Dns
    );
    assert_eq!(
        cause(
            "docker pull quay.io/prometheus/node-exporter fails: Error response from daemon: Get \"https://quay.io/v2/\": dial tcp: lookup quay.io: socket: too many open files"
        ),
        Cause::Dns
    );
    // A lookup whose tail names a timeout keeps the timeout cause.
    assert_eq!(
        cause(
            "Error response from daemon: Get https://registry.local/v2/: dial tcp: lookup registry.local on 127.0.0.53:53: read udp 127.0.0.1:41234->127.0.0.53:53: i/o timeout"
        ),
        Cause::Timeout
    );
}

/// "lookup" in prose, with no host and resolver in Go's error shape, is not a DNS failure.
#[test]
fn the_word_lookup_in_prose_is_not_dns() {
    assert_eq!(
        cause("image pull failed: the tag lookup failed: permission denied on the cache dir"),
        Cause::Unspecified
    );
}

/// Go's HTTP client timing out before the registry answers, in its older wordings
/// (`request canceled while waiting for connection`, `… while awaiting headers`), is a
/// timeout on the way to the registry.
#[test]
fn go_http_client_cancelled_while_waiting_is_a_timeout() {
    assert_eq!(
        cause(
            "Error response from daemon: Get https://quay.io/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)"
        ),
        Cause::Timeout
    );
    assert_eq!(
        cause(
            r#"Failed to pull image "ghcr.io/acme/api:2": Get "https://ghcr.io/v2/acme/api/manifests/2": net/http: request canceled while awaiting headers"#
        ),
        Cause::Timeout
    );
}

/// A deployer's wait running out (`timed out waiting for the condition`, client-go's wait
/// error behind Helm's hooks and `kubectl wait`) next to image words is no registry timeout;
/// a pull that timed out still is, with or without a deployer's wait around it.
#[test]
fn a_deployers_wait_running_out_is_not_a_registry_timeout() {
    let helm = "Comparing local images for 172.25.1.157\nStarting helm chart optscale\nError: UPGRADE FAILED: pre-upgrade hooks failed: 1 error occurred:\n  * timed out waiting for the condition";
    assert_ne!(cause(helm), Cause::Timeout);
    assert_eq!(
        cause(&format!(
            "{helm}\nFailed to pull image \"ghcr.io/acme/api:2\": rpc error: code = Unknown desc = dial tcp 140.82.112.33:443: connect: connection timed out"
        )),
        Cause::Timeout
    );
}
