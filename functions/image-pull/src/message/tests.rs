#![allow(clippy::unwrap_used)]

use super::*;

/// The cause `classify` reads in `text` (`Unspecified` when it reads none).
pub(super) fn cause(text: &str) -> Cause {
    classify(text)
        .map(|m| m.cause)
        .unwrap_or(Cause::Unspecified)
}

#[test]
fn containerd_variants_across_versions() {
    assert_eq!(
        cause(
            r#"Failed to pull image "nginx:nope": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:nope": failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found"#
        ),
        Cause::TagNotFound
    );
    assert_eq!(
        cause(
            r#"failed to pull and unpack image "docker.io/library/busybox:latest": failed to resolve image: failed to authorize: failed to fetch oauth token: unexpected status from POST request to https://auth.example/token: 401 Unauthorized"#
        ),
        Cause::BadCredentials
    );
    assert_eq!(
        cause(
            r#"failed to pull and unpack image "r.example/app:1": failed to resolve reference "r.example/app:1": unexpected status from HEAD request to https://r.example/v2/app/manifests/1: 403 Forbidden"#
        ),
        Cause::AccessDenied
    );
    assert_eq!(
        cause(
            "failed to pull and unpack image \"docker.io/library/nginx:1\": failed to copy: httpReadSeeker: failed open: unexpected status from GET request to https://registry-1.docker.io/v2/library/nginx/blobs/sha256:abc: 429 Too Many Requests\ntoomanyrequests: You have reached your pull rate limit."
        ),
        Cause::RateLimited
    );
    assert_eq!(
        cause(
            "failed to pull and unpack image \"docker.io/library/nginx:1\": no match for platform in manifest: not found"
        ),
        Cause::PlatformNoMatch
    );
    assert_eq!(
        cause(
            r#"failed to do request: Head "https://registry.local:5000/v2/app/manifests/1.0": http: server gave HTTP response to HTTPS client"#
        ),
        Cause::HttpOnlyRegistry
    );
    assert_eq!(
        cause("unexpected status code https://r/v2/a/manifests/1: 500 Internal Server Error"),
        Cause::RegistryUnavailable
    );
}

#[test]
fn crio_and_docker_variants() {
    assert_eq!(
        cause(
            "rpc error: code = Unknown desc = reading manifest 1.99 in quay.io/org/app: manifest unknown"
        ),
        Cause::TagNotFound
    );
    assert_eq!(
        cause(
            "rpc error: code = Unknown desc = Error reading manifest 1.99 in quay.io/org/app: manifest unknown: manifest unknown"
        ),
        Cause::TagNotFound
    );
    assert_eq!(
        cause(
            "initializing source docker://quay.io/org/app:1: reading manifest 1 in quay.io/org/app: unauthorized: access to the requested resource is not authorized"
        ),
        Cause::NoCredentials
    );
    assert_eq!(
        cause(
            "unable to retrieve auth token: invalid username/password: unauthorized: incorrect username or password"
        ),
        Cause::BadCredentials
    );
    assert_eq!(
        cause(
            r#"choosing image instance: no image found in manifest list for architecture "arm64", variant "v8", OS "linux""#
        ),
        Cause::PlatformNoMatch
    );
    assert_eq!(
        cause(
            r#"RegistryUnavailable: pinging container registry localhost:5000: Get "http://localhost:5000/v2/": dial tcp [::1]:5000: connect: connection refused"#
        ),
        Cause::Refused
    );
    assert_eq!(
        cause(
            "Error response from daemon: pull access denied for acme/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"
        ),
        Cause::AccessDenied
    );
    assert_eq!(
        cause(
            "Error response from daemon: no matching manifest for linux/arm64/v8 in the manifest list entries"
        ),
        Cause::PlatformNoMatch
    );
    assert_eq!(
        cause(
            "Error response from daemon: manifest for acme/app:2 not found: manifest unknown: manifest unknown"
        ),
        Cause::TagNotFound
    );
}

/// The docker CLI and compose refusing a Docker Hub name with nothing about credentials: a
/// name that was never published; a private registry's host, or a word about credentials,
/// keeps it an access problem.
#[test]
fn docker_cli_refusals_for_hub_names_read_as_missing_repositories() {
    for text in [
        "ERROR: pull access denied for onzu/cloudflare-ddns, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
        "Unable to find image 'portiacrawl:latest' locally\ndocker: Error response from daemon: pull access denied for portiacrawl, repository does not exist or may require 'docker login'.",
        "Pulling web (acme/web:2.1)...\nERROR: pull access denied for acme/web, repository does not exist or may require 'docker login'",
    ] {
        assert_eq!(cause(text), Cause::RepositoryNotFound, "{text}");
    }
    for text in [
        "Error response from daemon: pull access denied for registry.acme.io/team/web, repository does not exist or may require 'docker login'",
        "pull access denied for acme/private, repository does not exist or may require 'docker login': denied: insufficient_scope: authorization failed",
        "docker.io/library/busybox:latest: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
    ] {
        assert_ne!(cause(text), Cause::RepositoryNotFound, "{text}");
    }
}

/// Registries that say "authentication is required" (or just "unauthorized") in their own
/// words: no credentials reached the pull.
#[test]
fn authentication_described_in_other_words() {
    for text in [
        "Failed to pull image \"reg.example/aqua-gateway:6.2\": rpc error: code = Unknown desc = Error response from daemon: Get https://reg.example/v2/aqua-gateway/manifests/6.2: unknown: Authentication is required",
        "image pull failed for reg.example/app/crawler:latest, this may be because there are no credentials on this request.  details: (Authentication is required.)",
        "crictl pull harbor.example/lib/app:1 FATA[0000] pulling image: failed to resolve reference \"harbor.example/lib/app:1\": unexpected status from HEAD request: 401 Unauthorized",
    ] {
        assert_eq!(cause(text), Cause::NoCredentials, "{text}");
    }
}

/// A pull secret the pod names but the namespace lacks, seen only as a kubelet error.
#[test]
fn a_missing_pull_secret_beside_a_failing_pull_is_missing_credentials() {
    let events = "Normal   Pulling  pod/keel-6  Pulling image \"keelhq/keel:latest\"\nWarning  Failed   pod/keel-6  Error: secret \"registry-pull-credentials\" not found\nNormal   BackOff  pod/keel-6  Back-off pulling image \"keelhq/keel:latest\"\nWarning  Failed   pod/keel-6  Error: ImagePullBackOff";
    assert_eq!(cause(events), Cause::NoCredentials);
    // An env secret missing at container creation is not a pull problem.
    let env = "Warning Failed Error: secret \"db\" not found\nWarning Failed Error: CreateContainerConfigError";
    assert_ne!(cause(env), Cause::NoCredentials);
}

#[test]
fn network_and_tls_causes() {
    assert_eq!(
        cause(
            r#"pinging container registry registry.invalid: Get "https://registry.invalid/v2/": dial tcp: lookup registry.invalid on 10.96.0.10:53: no such host"#
        ),
        Cause::Dns
    );
    assert_eq!(
        cause(
            r#"failed to do request: Head "https://r.example/v2/a/manifests/1": dial tcp 10.0.0.5:443: i/o timeout"#
        ),
        Cause::Timeout
    );
    assert!(
        classify("dial tcp 10.0.0.7:5432: connect: connection refused").is_none(),
        "a database, not a registry"
    );
    assert_eq!(
        cause("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
        Cause::TlsUnknownAuthority
    );
    assert_eq!(
        cause("x509: certificate is valid for ingress.local, not registry.example.com"),
        Cause::TlsHostname
    );
    assert_eq!(
        cause(
            "x509: certificate has expired or is not yet valid: current time 2025-06-12T03:05:25Z is after 2025-06-07T05:48:45Z"
        ),
        Cause::TlsExpired
    );
    assert_eq!(
        cause(
            r#"Get "https://r.example/v2/": dial tcp 10.1.1.1:443: connect: network is unreachable"#
        ),
        Cause::Unreachable
    );
}

#[test]
fn kubelet_reasons_alone() {
    assert_eq!(
        cause(r#"Container image "app:dev" is not present with pull policy of Never"#),
        Cause::NeverPull
    );
    assert_eq!(
        cause(
            r#"Failed to apply default image tag "Nginx": couldn't parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase"#
        ),
        Cause::InvalidReference
    );
    assert_eq!(
        cause(
            "image pull failed for quay.io/a/b:1 because the signature validation failed: Source image rejected: A signature was required, but no signature exists"
        ),
        Cause::Signature
    );
    assert_eq!(
        cause(r#"Back-off pulling image "nginx:1""#),
        Cause::Unspecified
    );
    assert!(classify("everything is fine").is_none());
    assert!(classify("ReplicaSet \"x\" has timed out progressing.").is_none());
    assert!(classify("Internal error occurred: failed calling webhook \"v.example\": x509: certificate signed by unknown authority").is_none());
}

/// The image named in prose keeps no punctuation that ended its clause.
#[test]
fn image_taken_from_prose_drops_trailing_punctuation() {
    let m =
        classify("Error: Tag 2.3 not found in repository quay.io/acme/worker; retrying").unwrap();
    assert_eq!(m.image.as_deref(), Some("quay.io/acme/worker"));
    let m =
        classify("Back-off pulling image 'registry.example:5000/team/api:v7'! Giving up").unwrap();
    assert_eq!(
        m.image.as_deref(),
        Some("registry.example:5000/team/api:v7")
    );
    // A port or digest inside the reference stays.
    let m =
        classify("Failed to pull image ghcr.io/acme/app@sha256:0a1b: manifest unknown").unwrap();
    assert_eq!(m.image.as_deref(), Some("ghcr.io/acme/app@sha256:0a1b"));
}

#[test]
fn image_host_and_code_are_extracted() {
    let m = classify(r#"Failed to pull image \"localhost:5000/hello-app:1.0\": rpc error: code = Unknown desc = failed to do request: Head "https://localhost:5000/v2/hello-app/manifests/1.0": dial tcp [::1]:5000: connect: connection refused"#).unwrap();
    assert_eq!(m.image.as_deref(), Some("localhost:5000/hello-app:1.0"));
    assert_eq!(m.grpc_code.as_deref(), Some("Unknown"));
    assert_eq!(m.host.as_deref(), Some("localhost:5000"));
}

#[test]
fn wrapped_lines_from_describe_still_match() {
    let t = "Failed to pull image \"busybox\": rpc error: code = Unknown\ndesc = failed to pull and unpack image: unexpected status code https://registry-1.docker.io/v2/x: 429 Too Many Req\nuests";
    assert_eq!(cause(t), Cause::RateLimited);
}

#[test]
fn long_text_quote_is_bounded_and_utf8_safe() {
    let t = format!(
        "{} pinging container registry r: no such host {}",
        "é".repeat(500),
        "ü".repeat(500)
    );
    let m = classify(&t).unwrap();
    assert!(m.quote.len() < 900 && m.quote.contains("no such host"));
}

#[test]
fn every_pattern_compiles() {
    for pattern in [&IMAGE, &GRPC, &STATUS, &HOST] {
        LazyLock::force(pattern);
    }
    rules::compile_all();
}

/// The rule that decides `text`, by name.
fn rule_for(text: &str) -> &'static str {
    let spaced = text.replace(['\r', '\n'], " ").to_lowercase();
    let glued = text.replace(['\r', '\n'], "").to_lowercase();
    let status = STATUS
        .captures(&text.replace(['\r', '\n'], " "))
        .and_then(|c| c.get(1).or(c.get(2))?.as_str().parse::<u16>().ok());
    let facts = Text {
        spaced: &spaced,
        glued: &glued,
        status,
    };
    rules::first_match(&facts).map_or("none", |(rule, _)| rule.name)
}

/// One sample per rule that reaches exactly that rule (every earlier rule passes), and the
/// cause it then decides is one the rule declares.
#[test]
fn each_rule_decides_its_own_sample() {
    let samples = [
        (
            "never-pull",
            "ErrImageNeverPull: container image \"app:dev\" is not present",
        ),
        (
            "invalid-reference",
            "InvalidImageName: invalid reference format",
        ),
        ("signature", "image pull failed: SignatureValidationFailed"),
        (
            "platform",
            "no matching manifest for linux/arm64 in the manifest list entries",
        ),
        ("exec-format", "exec /app: exec format error"),
        (
            "not-about-a-pull",
            "dial tcp 10.0.0.7:5432: connect: connection refused",
        ),
        (
            "tag-not-found",
            "reading manifest 1.99 in quay.io/org/app: manifest unknown",
        ),
        (
            "repository-not-found",
            "pulling image r.example/a: name unknown: repository name not known to registry",
        ),
        (
            "network-behind-auth",
            "pulling image: failed to fetch anonymous token: Get https://auth.r.example/token: i/o timeout",
        ),
        (
            "pull-secret-missing",
            "Error: secret \"regcred\" not found; Back-off pulling image \"r.example/app:1\"",
        ),
        (
            "access-denied",
            "pull access denied for acme/private, repository does not exist or may require 'docker login'",
        ),
        (
            "bad-credentials",
            "pulling image r.example/a: invalid username/password",
        ),
        (
            "token-fetch",
            "pulling image: failed to authorize: failed to fetch anonymous token",
        ),
        (
            "expired-credentials",
            "pulling image from ECR: the security token included in the request is invalid",
        ),
        (
            "no-basic-auth",
            "pulling image r.example/a: no basic auth credentials",
        ),
        (
            "authentication-required",
            "pulling image r.example/a: unauthorized: authentication required",
        ),
        (
            "rate-limited",
            "pulling image docker.io/library/nginx: toomanyrequests: You have reached your pull rate limit",
        ),
        (
            "http-status",
            "HEAD https://r.example/v2/a/manifests/1: 403 Forbidden",
        ),
        (
            "manifest-unreadable",
            "pulling image r.example/a: error reading manifest 1",
        ),
        (
            "tls",
            "pulling image: x509: certificate signed by unknown authority",
        ),
        (
            "http-only-registry",
            "pulling image: http: server gave HTTP response to HTTPS client",
        ),
        (
            "dns",
            "pinging container registry registry.invalid: lookup registry.invalid: no such host",
        ),
        (
            "refused",
            "pinging container registry localhost:5000: connect: connection refused",
        ),
        (
            "unreachable",
            "pulling image: connect: network is unreachable",
        ),
        (
            "timeout",
            "pulling image r.example/a: dial tcp 10.0.0.5:443: i/o timeout",
        ),
        (
            "registry-unavailable",
            "pulling image r.example/a: 503 Service Unavailable",
        ),
        (
            "private-registry-said",
            "The DaemonSet uses an image from our private registry and the new node cannot pull it.",
        ),
        (
            "node-identity-said",
            "Nodes fail to pull from Artifact Registry; does the node service account have the reader role?",
        ),
        (
            "no-route-said",
            "Since we moved the workers to private subnets without a NAT gateway, ErrImagePull on every new pod",
        ),
        (
            "missing-image-said",
            "the chart references a container image that does not exist, so the install hangs",
        ),
        (
            "build-version-tag",
            "Back-off pulling image \"acme/web:v3.1.0-2-g0123abcd\"",
        ),
        (
            "side-loaded-image",
            "after k3d image import app:dev the pod still fails to pull the image",
        ),
        ("pull-failed", "Back-off pulling image \"nginx:1\""),
    ];
    for (name, text) in samples {
        assert_eq!(rule_for(text), name, "{text}");
        if let Some(m) = classify(text) {
            let rule = rules::RULES.iter().find(|r| r.name == name).unwrap();
            assert!(rule.causes.contains(&m.cause), "{name}: {:?}", m.cause);
        }
    }
    let named: Vec<&str> = samples.iter().map(|(n, _)| *n).collect();
    for rule in rules::RULES {
        assert!(
            named.contains(&rule.name),
            "no sample for rule {}",
            rule.name
        );
    }
    assert_eq!(rule_for("everything is fine"), "not-about-a-pull");
    assert_eq!(rule_for("pulling the rope"), "none");
}

/// Image verification failures as policy engines word them (an admission denial, a
/// background-scan policy report) and cosign's own "no signatures found".
#[test]
fn image_verification_failures_from_policy_engines() {
    for text in [
        "admission webhook \"mutate.kyverno.svc-fail\" denied the request: resource Pod/ci/web was blocked due to the following policies: check-image: verify-signature: 'image verification failed for ghcr.io/acme/web:1.4: no matching signatures'",
        "results:\n- message: unverified image ghcr.io/acme/api:2.0\n  policy: verify-image-signature\n  result: fail\n  source: kyverno",
        "Error: no signatures found for image registry.example/app@sha256:0123",
    ] {
        assert_eq!(cause(text), Cause::Signature, "{text}");
    }
}

/// Webhooks whose only job is verifying signatures deny a pod in their own words, or in
/// none ("validation failed:" and nothing after it): the webhook's name says it.
#[test]
fn denials_by_signature_verifying_webhooks() {
    for text in [
        "Error from server (BadRequest): error when creating \"job.yaml\": admission webhook \"policy.sigstore.dev\" denied the request: validation failed: failed policy: keyless-ci: spec.template.spec.containers[0].image\nghcr.io/acme/api@sha256:ab12",
        "admission webhook \"cosigned.sigstore.dev\" denied the request: validation failed: invalid image signature: spec.containers[0].image",
        "Error creating: admission webhook \"connaisseur-svc.connaisseur.svc\" denied the request: Unable to find signed digest for image docker.io/acme/web:2.1.",
        "docker: Error: remote trust data does not exist for docker.io/acme/tool: notary.docker.io does not have trust data for docker.io/acme/tool.",
        "Failed to pull image \"harbor.corp/app/web:3\": rpc error: code = Unknown desc = Error response from daemon: unknown: The image is not signed in Notary.",
        "Error creating: pods \"deploy-7f9\" is forbidden: image policy webhook backend denied one or more images: Denied by Binary Authorization cluster admission rule for us-central1.prod. Denied by Attestor.",
    ] {
        assert_eq!(cause(text), Cause::Signature, "{text}");
    }
    // A webhook of another purpose, denying for another reason, stays what it is.
    assert_ne!(
        classify("admission webhook \"validate.kyverno.svc\" denied the request: require-labels: label 'team' is required")
            .map(|v| v.cause),
        Some(Cause::Signature)
    );
}

/// Clients other than the kubelet and docker reject a malformed reference in their own
/// words (containerd's parser behind ctr / nerdctl, go-containerregistry behind crane);
/// the same words away from any image are not a pull.
#[test]
fn invalid_references_from_other_clients() {
    for text in [
        "$ sudo ctr images pull docker.io/library/alpine:3.19_\nctr: invalid reference: docker.io/library/alpine:3.19_",
        "crane copy ghcr.io/acme/App:1 r.example/app:1\nError: could not parse reference: ghcr.io/acme/App:1",
    ] {
        assert_eq!(cause(text), Cause::InvalidReference, "{text}");
        assert_eq!(rule_for(text), "invalid-reference", "{text}");
    }
    assert_ne!(
        rule_for(
            "values.schema.json: $ref #/definitions/port: invalid reference: no such definition"
        ),
        "invalid-reference"
    );
}

/// The resolver's "try again" (EAI_AGAIN) for a registry lookup during a pull is DNS, as
/// when an air-gapped node has no resolver to ask; "try again" elsewhere is not.
#[test]
fn a_lookup_answered_try_again_is_dns() {
    let crio = r#"Failed to pull image "quay.io/prometheus/node-exporter:v1.7.0": rpc error: code = Unknown desc = pinging container registry quay.io: Get "https://quay.io/v2/": dial tcp: lookup quay.io on 192.168.122.1:53: Try again"#;
    assert_eq!(cause(crio), Cause::Dns);
    assert!(
        classify("Failed to pull image \"nginx:1.25\": too many requests, please try again later")
            .is_none_or(|c| c.cause != Cause::Dns)
    );
}

/// The API server refusing a pod (or a controller's pod template) for its image field:
/// whitespace around the value, or no value at all.
#[test]
fn the_api_servers_validation_of_an_image_field_is_an_invalid_reference() {
    for text in [
        r#"Warning  FailedCreate  4m12s  replicaset-controller  Error creating: Pod "web-7d9f-zp8zj" is invalid: spec.initContainers[0].image: Invalid value: "quay.io/centos/centos:8 ": must not have leading or trailing whitespace"#,
        r#"The Deployment "api" is invalid: spec.template.spec.containers[0].image: Required value"#,
    ] {
        assert_eq!(cause(text), Cause::InvalidReference, "{text}");
    }
}

/// A probe's dial error is the container's port: the kubelet's Unhealthy lines are not read
/// as a pull, even beside "Container image … already present on machine"; a pull failure
/// in the same paste still is.
#[test]
fn probe_failures_are_not_registry_errors() {
    let probes = "Normal   Pulled     36s (x3 over 97s)  kubelet, olelo     Container image \"arangodb/kube-arangodb:1.2\" already present on machine\nWarning  Unhealthy  17s (x8 over 87s)  kubelet, olelo     Liveness probe failed: Get https://192.0.0.8:8528/health: dial tcp 192.0.0.8:8528: connect: connection refused\nWarning  Unhealthy  12s (x6 over 82s)  kubelet, olelo     Readiness probe failed: Get https://192.0.0.8:8528/ready: dial tcp 192.0.0.8:8528: i/o timeout";
    assert_eq!(cause(probes), Cause::Unspecified);
    let pull = format!(
        "{probes}\nWarning  Failed  5s  kubelet  Failed to pull image \"registry.internal:5000/api:2\": rpc error: code = Unknown desc = Get \"https://registry.internal:5000/v2/\": dial tcp 10.1.2.3:5000: connect: connection refused"
    );
    assert_eq!(cause(&pull), Cause::Refused);
}

/// A pod's call to the Kubernetes API refused is the cluster network between the pod and the
/// API server, not a pull, even beside image words; a registry's refusal still is a pull's.
#[test]
fn api_server_calls_are_not_registry_errors() {
    let t = "2023/07/17 14:58:20 [ERR] GET https://kubernetes.default.svc:443/apis/apps/v1/namespaces/ci/daemonsets/image-warmer request failed: Get \"https://kubernetes.default.svc:443/apis/apps/v1/namespaces/ci/daemonsets/image-warmer\": dial tcp 10.96.0.1:443: connect: connection refused\n2023/07/17 14:58:25 Image pre-pull on nodes awaited successfully";
    assert_eq!(cause(t), Cause::Unspecified);
    let pull = "Failed to pull image \"registry.internal:443/api/web:2\": rpc error: code = Unknown desc = Get \"https://registry.internal:443/v2/\": dial tcp 10.1.2.3:443: connect: connection refused";
    assert_eq!(cause(pull), Cause::Refused);
}

/// A Job failed by its backoff limit had pods that ran: a registry error beside it, in a
/// text that never speaks of pulling, is a program's own call (a scanner, a copy tool), held
/// below the Job's failure; the same error told as a pull keeps its weight.
#[test]
fn registry_errors_a_failed_jobs_program_made_are_held_below_the_job() {
    let copied = "Warning  BackoffLimitExceeded  job-controller  Job has reached the specified backoff limit\n\
        sync-images-29120 copy: 2024/03/02 10:01:07 error: GET https://registry.corp.example/v2/mirror/app/manifests/1.2: UNAUTHORIZED: authentication required";
    let m = classify(copied).unwrap();
    assert!(m.program_call, "{m:?}");
    assert!(m.told);
    assert!(m.confidence <= PROGRAM_CALL_CONFIDENCE, "{m:?}");
    let helm = "Error: UPGRADE FAILED: post-upgrade hooks failed: job failed: BackoffLimitExceeded\n\
        level=fatal msg=\"resolving image\" error=\"quay.io/acme/tools:7: not found\"";
    assert!(classify(helm).unwrap().program_call);
    // Told as a pull, the registry error is the node's (and the pod never ran).
    let pulled = "Job has reached the specified backoff limit\n\
        Failed to pull image \"registry.corp.example/mirror/app:1.2\": rpc error: code = NotFound desc = failed to pull and unpack image: not found";
    let m = classify(pulled).unwrap();
    assert!(!m.program_call);
    assert!(m.confidence > PROGRAM_CALL_CONFIDENCE);
    // Without the Job's failure, a manifest error stays a registry's answer.
    let alone = "GET https://registry.corp.example/v2/mirror/app/manifests/1.2: MANIFEST_UNKNOWN: manifest unknown";
    assert!(!classify(alone).unwrap().program_call);
}

/// Every client speaks x509: a certificate error that nothing ties to a registry (a
/// controller calling its cloud, kubectl calling the API server) is a reading below the
/// rest of the report; beside a pull, a registry or an engine it stays the finding.
#[test]
fn a_certificate_error_nothing_ties_to_a_registry_is_only_a_reading() {
    for text in [
        "E0412 09:14:03.118 openstack-cloud-controller-manager: Post \"https://keystone.cloud.example:5000/v3/auth/tokens\": x509: certificate signed by unknown authority",
        "Unable to connect to the server: x509: certificate has expired or is not yet valid",
    ] {
        let m = classify(text).unwrap();
        assert!(m.told && m.confidence <= 0.5, "{text}: {m:?}");
    }
    for text in [
        "Failed to pull image \"harbor.corp/app:1\": x509: certificate signed by unknown authority",
        "Error response from daemon: Get \"https://reg.corp:5000/v2/\": x509: certificate signed by unknown authority",
    ] {
        let m = classify(text).unwrap();
        assert!(!m.told && m.confidence >= 0.95, "{text}: {m:?}");
    }
}

/// A Job only said to have failed, in a person's words, counts as much as the controller's
/// reason: a token refused to the program inside it is no pull.
#[test]
fn a_registry_or_token_error_in_a_job_said_to_fail_is_the_programs() {
    let text = "the deploy job fails every time, log of its pod:\n\
        ERROR: GET https://quay.io/v2/auth?scope=repository:acme/charts:read: 401 UNAUTHORIZED: access to the requested resource is not authorized";
    let m = classify(text).unwrap();
    assert!(
        m.program_call && m.confidence <= PROGRAM_CALL_CONFIDENCE,
        "{m:?}"
    );
}

/// The operating system's `Permission denied: '/path'` (a file an init step cannot write)
/// is no registry refusal, beside an `image:` line or not; a registry's own `denied:` is.
#[test]
fn a_files_permission_denied_is_no_registry_refusal() {
    for text in [
        "Am getting Permission denied: '/.aws' on InitContainer.\n  extraInitContainers:\n    - name: copy-dags\n      image: amazon/aws-cli",
        "PermissionError: [Errno 13] Permission denied: '/data/cache' while pulling the model image layer list",
    ] {
        assert_ne!(cause(text), Cause::AccessDenied, "{text}");
    }
    assert_eq!(
        cause(
            "Failed to pull image \"registry.example.com/team/app:2\": rpc error: code = Unknown desc = Error response from daemon: denied: access forbidden"
        ),
        Cause::AccessDenied
    );
}
