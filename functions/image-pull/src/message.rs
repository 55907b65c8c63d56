//! Pull error text → cause, for every layer that writes it: kubelet events and waiting
//! states, the CRI gRPC wrapper, containerd, CRI-O (containers/image), Docker Engine, and the
//! Go network/TLS errors inside them.
//!
//! Matching follows the reference's advice: strip the stable wrappers, prefer HTTP statuses
//! and registry error codes over sentences, and test causes in a fixed priority order
//! (platform → not found → auth → rate limit → TLS → protocol → DNS → connectivity), because a
//! message often contains several keywords (`pull access denied … not found`) and the most
//! specific cause must win. Lines are matched both joined by a space and glued together, since
//! pasted `kubectl describe` output wraps words mid-way.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

/// The specific cause a message names; finer than the taxonomy class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The image index has no entry for the node's platform.
    PlatformNoMatch,
    /// The binary in the image is for another architecture (`exec format error`).
    ExecFormat,
    /// The tag or digest does not exist in the repository.
    TagNotFound,
    /// The repository does not exist.
    RepositoryNotFound,
    /// Something was not found; the text does not say whether tag or repository.
    NotFound,
    /// Access denied: the repository is private, or it does not exist (registries answer alike).
    AccessDenied,
    /// No credentials were sent where the registry requires them.
    NoCredentials,
    /// The credentials were rejected.
    BadCredentials,
    /// The token or credentials expired.
    ExpiredCredentials,
    /// The credentials lack the pull scope.
    InsufficientScope,
    /// HTTP 429 / `toomanyrequests`.
    RateLimited,
    /// TLS: the certificate is signed by an unknown authority.
    TlsUnknownAuthority,
    /// TLS: the certificate expired or is not yet valid (or the node clock is wrong).
    TlsExpired,
    /// TLS: the certificate does not name the host.
    TlsHostname,
    /// TLS failed otherwise.
    TlsOther,
    /// The registry speaks plain HTTP and the runtime used HTTPS.
    HttpOnlyRegistry,
    /// The registry host name did not resolve.
    Dns,
    /// Connection refused or reset.
    Refused,
    /// No answer in time.
    Timeout,
    /// No route to the registry (network unreachable, proxy).
    Unreachable,
    /// The registry answered 5xx or `RegistryUnavailable`.
    RegistryUnavailable,
    /// The image reference does not parse.
    InvalidReference,
    /// `imagePullPolicy: Never` and the image is not on the node.
    NeverPull,
    /// The signature policy rejected the image.
    Signature,
    /// The pull failed but the text gives no cause (`ImagePullBackOff` alone).
    Unspecified,
}

impl Cause {
    /// The taxonomy class for the cause.
    pub fn class(self) -> &'static str {
        match self {
            Self::PlatformNoMatch | Self::ExecFormat => Class::IMAGE_PLATFORM_MISMATCH,
            Self::TagNotFound | Self::RepositoryNotFound | Self::NotFound => Class::IMAGE_NOT_FOUND,
            Self::AccessDenied
            | Self::NoCredentials
            | Self::BadCredentials
            | Self::ExpiredCredentials
            | Self::InsufficientScope => Class::IMAGE_AUTH,
            Self::RateLimited => Class::IMAGE_RATE_LIMITED,
            Self::TlsUnknownAuthority
            | Self::TlsExpired
            | Self::TlsHostname
            | Self::TlsOther
            | Self::HttpOnlyRegistry => Class::IMAGE_TLS,
            Self::Dns
            | Self::Refused
            | Self::Timeout
            | Self::Unreachable
            | Self::RegistryUnavailable => Class::IMAGE_NETWORK,
            Self::InvalidReference => Class::IMAGE_INVALID_REFERENCE,
            Self::NeverPull => Class::IMAGE_NEVER_PULL,
            Self::Signature => Class::IMAGE_SIGNATURE,
            Self::Unspecified => Class::UNKNOWN,
        }
    }

    /// True when waiting cannot fix it (rate limits, timeouts and 5xx may clear up alone).
    pub fn definitive(self) -> bool {
        !matches!(
            self,
            Self::RateLimited | Self::Timeout | Self::RegistryUnavailable | Self::Unspecified
        )
    }

    /// One sentence on what the cause means.
    pub fn explain(self) -> &'static str {
        match self {
            Self::PlatformNoMatch => {
                "the image publishes no variant for the node's OS/architecture"
            }
            Self::ExecFormat => {
                "the container's binary is built for another CPU architecture than the node's"
            }
            Self::TagNotFound => "the tag or digest does not exist in the repository",
            Self::RepositoryNotFound => "the repository does not exist in the registry",
            Self::NotFound => "the image does not exist at the registry the node uses",
            Self::AccessDenied => {
                "the registry denied access: the repository is private (no or wrong pull secret) or does not exist"
            }
            Self::NoCredentials => "the registry requires credentials and the node sent none",
            Self::BadCredentials => {
                "the registry rejected the credentials (wrong user, password or token)"
            }
            Self::ExpiredCredentials => "the registry credentials or token have expired",
            Self::InsufficientScope => {
                "the credentials are not allowed to pull this repository (insufficient_scope)"
            }
            Self::RateLimited => "the registry throttles pulls (HTTP 429)",
            Self::TlsUnknownAuthority => {
                "the registry's certificate is signed by a CA the node does not trust"
            }
            Self::TlsExpired => {
                "the registry's certificate is expired or not yet valid (or the node's clock is wrong)"
            }
            Self::TlsHostname => "the registry's certificate is not valid for the host name used",
            Self::TlsOther => "the TLS handshake with the registry failed",
            Self::HttpOnlyRegistry => {
                "the registry speaks plain HTTP but the runtime connected with HTTPS"
            }
            Self::Dns => "the registry host name does not resolve from the node",
            Self::Refused => "nothing accepts connections at the registry address the node uses",
            Self::Timeout => "the registry did not answer in time",
            Self::Unreachable => "the node has no route to the registry",
            Self::RegistryUnavailable => {
                "the registry answered with a server error or is unavailable"
            }
            Self::InvalidReference => "the image reference in the pod spec does not parse",
            Self::NeverPull => "imagePullPolicy is Never and the image is not present on the node",
            Self::Signature => "the image signature is missing or invalid under the node's policy",
            Self::Unspecified => "the image pull failed and the recorded text does not say why",
        }
    }
}

/// What one piece of text says about a pull failure.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PullMessage {
    /// The cause.
    pub cause: Cause,
    /// How sure the text is about it (0..=1).
    pub confidence: f64,
    /// The image named in the text, as written there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The gRPC code of the CRI wrapper, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_code: Option<String>,
    /// The HTTP status the text reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The registry host the text names (from a URL or `pinging container registry`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The fragment that decided it, quoted.
    pub quote: String,
    /// A second reading when the text is ambiguous (Docker Hub's denied-or-missing answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alternative: Option<Cause>,
}

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

static IMAGE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r#"(?i)(?:pull(?:ing)?(?: and unpack)? image|apply default image tag|inspect image|image pull failed for|pull access denied for|manifest for|container image|reading manifest \S+ in|repository)\s+\\?"?([^\s"\\,]+)"#,
    )
});
static GRPC: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"rpc error: code = (\w+) desc = "));
static STATUS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(401|403|404|429|5\d\d)\s+(?:unauthorized|forbidden|not found|too many requests|internal server error|bad gateway|service unavailable|gateway timeout)|status(?: code)?:?\s+(401|403|404|429|5\d\d)\b",
    )
});
static HOST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r#"(?i)(?:https?://([A-Za-z0-9.\-\[\]:]+)/|pinging (?:container |docker )?registry ([A-Za-z0-9.\-\[\]:]+)|lookup ([A-Za-z0-9.\-]+)(?: on |: ))"#,
    )
});

/// Classifies one text. `None` when it says nothing about an image pull.
pub fn classify(text: &str) -> Option<PullMessage> {
    let spaced = text.replace(['\r', '\n'], " ");
    let glued = text.replace(['\r', '\n'], "");
    let lower = spaced.to_lowercase();
    let lower_glued = glued.to_lowercase();
    let has = |needle: &str| lower.contains(needle) || lower_glued.contains(needle);
    let has_any = |needles: &[&str]| needles.iter().any(|n| has(n));

    let status = STATUS
        .as_ref()
        .and_then(|r| r.captures(&spaced))
        .and_then(|c| c.get(1).or(c.get(2))?.as_str().parse::<u16>().ok());
    let (cause, confidence, alternative, key) = decide(&has, &has_any, status)?;
    let image = IMAGE
        .as_ref()
        .and_then(|r| r.captures(&spaced))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim_end_matches([':', '.']).to_owned())
        .filter(|s| !s.is_empty());
    let grpc_code = GRPC
        .as_ref()
        .and_then(|r| r.captures(&spaced))
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()));
    let host = HOST
        .as_ref()
        .and_then(|r| r.captures(&spaced))
        .and_then(|c| c.get(1).or(c.get(2)).or(c.get(3)))
        .map(|m| m.as_str().to_owned());
    Some(PullMessage {
        cause,
        confidence,
        image,
        grpc_code,
        http_status: status,
        host,
        quote: quote_around(&spaced, &lower, key),
        alternative,
    })
}

type Decision = (Cause, f64, Option<Cause>, &'static str);

fn decide(
    has: &dyn Fn(&str) -> bool,
    has_any: &dyn Fn(&[&str]) -> bool,
    status: Option<u16>,
) -> Option<Decision> {
    use Cause::*;
    let which = |needles: &[&'static str]| needles.iter().copied().find(|n| has(n));
    // Reasons and kubelet sentences that settle it on their own.
    if let Some(k) = which(&["errimageneverpull", "with pull policy of never"]) {
        return Some((NeverPull, 0.97, None, k));
    }
    if let Some(k) = which(&[
        "invalidimagename",
        "invalid reference format",
        "failed to apply default image tag",
        "couldn't parse image",
    ]) {
        return Some((InvalidReference, 0.97, None, k));
    }
    if let Some(k) = which(&[
        "signaturevalidationfailed",
        "signature validation failed",
        "a signature was required",
        "source image rejected",
        "signature verification failed",
        "no matching signatures",
    ]) {
        return Some((Signature, 0.9, None, k));
    }
    // Platform.
    if has_any(&[
        "no match for platform in manifest",
        "no matching manifest for",
        "no image found in manifest list for architecture",
        "does not match the detected host platform",
        "does not match the specified platform",
        "in the manifest list entries",
    ]) {
        let k = if has("no match for platform") {
            "no match for platform"
        } else {
            "manifest"
        };
        return Some((PlatformNoMatch, 0.95, None, k));
    }
    if has("exec format error") {
        return Some((ExecFormat, 0.85, None, "exec format error"));
    }
    // From here on, only text about reaching a registry counts (a Job's DeadlineExceeded, a
    // webhook's x509 error or a Deployment that "timed out progressing" is no pull failure).
    let about_pull = has_any(&[
        "pull",
        "image",
        "registry",
        "manifest",
        "/v2/",
        "failed to do request",
        "x509",
        "tls:",
        "auth token",
        "oauth",
    ]);
    if !about_pull || has("webhook") {
        return None;
    }
    // Registry answered: the statuses and codes first.
    let auth_hint = has_any(&[
        "pull access denied",
        "no pull access",
        "may require 'docker login'",
        "may require authorization",
        "insufficient_scope",
        "requested access to the resource is denied",
        "denied:",
    ]);
    let tag_missing = has_any(&["manifest unknown", "not found in repository"])
        || has("manifest for ") && has("not found")
        || has(": not found") && !auth_hint;
    if tag_missing && !has("pull access denied") {
        let k = if has("manifest unknown") {
            "manifest unknown"
        } else {
            "not found"
        };
        return Some((TagNotFound, 0.92, None, k));
    }
    if let Some(k) = which(&["name unknown", "repository name not known"]) {
        return Some((RepositoryNotFound, 0.9, None, k));
    }
    if auth_hint {
        let k = if has("pull access denied") {
            "pull access denied"
        } else {
            "denied"
        };
        if has_any(&[
            "security token included in the request is invalid",
            "token has expired",
            "expired token",
            "token is expired",
            "has expired",
        ]) && !has("x509")
        {
            return Some((ExpiredCredentials, 0.85, None, "expired"));
        }
        if has("no basic auth credentials") {
            return Some((
                NoCredentials,
                0.85,
                Some(AccessDenied),
                "no basic auth credentials",
            ));
        }
        if has("no pull access") || has("does not exist") || has("repository does not exist") {
            // Docker Hub and most registries answer a private and a missing repository alike.
            return Some((AccessDenied, 0.7, Some(RepositoryNotFound), k));
        }
        if has("insufficient_scope") {
            return Some((
                AccessDenied,
                0.75,
                Some(InsufficientScope),
                "insufficient_scope",
            ));
        }
        return Some((AccessDenied, 0.8, Some(RepositoryNotFound), k));
    }
    if let Some(k) = which(&[
        "invalid username/password",
        "incorrect username or password",
        "username or password",
        "bad credentials",
        "invalid credentials",
    ]) {
        return Some((BadCredentials, 0.9, None, k));
    }
    if has_any(&[
        "failed to fetch oauth token",
        "failed to fetch anonymous token",
        "unable to retrieve auth token",
        "failed to authorize",
    ]) {
        let cause = if has("anonymous") {
            NoCredentials
        } else {
            BadCredentials
        };
        return Some((cause, 0.85, None, "token"));
    }
    if let Some(k) = which(&[
        "security token included in the request is invalid",
        "token has expired",
        "expired token",
        "token is expired",
        "credentials have expired",
    ]) {
        return Some((ExpiredCredentials, 0.85, None, k));
    }
    if has("no basic auth credentials") {
        return Some((NoCredentials, 0.88, None, "no basic auth credentials"));
    }
    if let Some(k) = which(&[
        "unauthorized: authentication required",
        "authentication required",
        "unauthorized:",
    ]) {
        return Some((NoCredentials, 0.8, Some(BadCredentials), k));
    }
    if has_any(&[
        "toomanyrequests",
        "too many requests",
        "pull rate limit",
        "rate limit exceeded",
        "rate exceeded",
    ]) || status == Some(429)
    {
        let k = if has("toomanyrequests") {
            "toomanyrequests"
        } else {
            "429"
        };
        return Some((RateLimited, 0.95, None, k));
    }
    match status {
        Some(401) => return Some((NoCredentials, 0.75, Some(BadCredentials), "401")),
        Some(403) => return Some((AccessDenied, 0.8, None, "403")),
        Some(404) => return Some((NotFound, 0.8, None, "404")),
        _ => {}
    }
    if let Some(k) = which(&[
        "manifest unknown",
        "not found: manifest",
        "error reading manifest",
        "reading manifest",
    ]) {
        return Some((NotFound, 0.6, None, k));
    }
    // TLS.
    if has("x509") || has("tls: failed to verify") || has("certificate") && has("tls") {
        if has_any(&[
            "unknown authority",
            "unknown ca",
            "self signed certificate",
            "self-signed certificate",
            "unable to get local issuer",
        ]) {
            return Some((TlsUnknownAuthority, 0.95, None, "x509"));
        }
        if has_any(&["has expired", "not yet valid", "certificate expired"]) {
            return Some((TlsExpired, 0.95, None, "x509"));
        }
        if has_any(&[
            "is valid for",
            "not valid for any names",
            "legacy common name",
            "doesn't match",
            "does not match",
        ]) {
            return Some((TlsHostname, 0.95, None, "x509"));
        }
        return Some((TlsOther, 0.85, None, "x509"));
    }
    if let Some(k) = which(&[
        "server gave http response to https client",
        "first record does not look like a tls handshake",
        "wrong version number",
    ]) {
        return Some((HttpOnlyRegistry, 0.92, None, k));
    }
    // Network.
    if let Some(k) = which(&[
        "no such host",
        "server misbehaving",
        "temporary failure in name resolution",
        "name or service not known",
        "could not resolve host",
    ]) {
        return Some((Dns, 0.92, None, k));
    }
    if has_any(&[
        "connection refused",
        "connection reset",
        "registryunavailable: pinging",
    ]) {
        let k = if has("connection refused") {
            "connection refused"
        } else {
            "connection reset"
        };
        return Some((Refused, 0.9, None, k));
    }
    if let Some(k) = which(&["network is unreachable", "no route to host", "proxyconnect"]) {
        return Some((Unreachable, 0.88, None, k));
    }
    if let Some(k) = which(&[
        "tls handshake timeout",
        "i/o timeout",
        "client.timeout exceeded",
        "timeout awaiting",
        "deadlineexceeded",
        "context deadline exceeded",
        "timed out",
    ]) {
        return Some((Timeout, 0.75, None, k));
    }
    if status.is_some_and(|s| s >= 500)
        || has_any(&[
            "registryunavailable",
            "registry is unavailable",
            "service unavailable",
            "bad gateway",
        ])
    {
        return Some((RegistryUnavailable, 0.7, None, "unavailable"));
    }
    if let Some(k) = which(&[
        "errimagepull",
        "imagepullbackoff",
        "back-off pulling image",
        "failed to pull image",
        "failed to pull and unpack",
    ]) {
        return Some((Unspecified, 0.3, None, k));
    }
    None
}

/// Up to ~400 characters around the first occurrence of `key`, so evidence quotes the part
/// that decided it and stays small.
fn quote_around(text: &str, lower: &str, key: &str) -> String {
    const SPAN: usize = 400;
    let text = text.trim();
    if text.len() <= SPAN {
        return text.to_owned();
    }
    let lower = lower.trim();
    let at = lower.find(key).unwrap_or(0);
    let mut start = at.saturating_sub(SPAN / 2);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + SPAN).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&text[start..end]);
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cause(text: &str) -> Cause {
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
            cause(
                "tls: failed to verify certificate: x509: certificate signed by unknown authority"
            ),
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
}
