//! Pull error text → cause, for every layer that writes it: kubelet events and waiting
//! states, the CRI gRPC wrapper, containerd, CRI-O (containers/image), Docker Engine, and the
//! Go network/TLS errors inside them.
//!
//! Matching follows the reference's advice: strip the stable wrappers, prefer HTTP statuses
//! and registry error codes over sentences, and test causes in a fixed priority order
//! (platform → not found → auth → rate limit → TLS → protocol → DNS → connectivity), because a
//! message often contains several keywords (`pull access denied … not found`) and the most
//! specific cause must win. That order is one table, `rules::RULES`: each rule has a name, the
//! causes it can decide and its matcher, and a test hits each rule alone. Lines are matched
//! both joined by a space and glued together, since pasted `kubectl describe` output wraps
//! words mid-way.

mod rules;

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use rules::{Text, Verdict};

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
    /// The cause was described by a person, not quoted from a registry, runtime or
    /// kubelet message: without a registry probe to confirm it, it is not definitive.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub told: bool,
    /// The text says a Job failed (by its backoff limit, or in words) and never speaks of
    /// pulling: its pods ran and failed (a pull failure keeps a pod waiting and never fails
    /// it), so the registry error is a call the program made, not the node's pull.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub program_call: bool,
}

/// The most a registry error a program made inside a failed Job's pod is worth: below the
/// Job's own failure even when only told in words (0.5), whose pods it explains.
pub const PROGRAM_CALL_CONFIDENCE: f64 = 0.45;

/// Compiles one of this module's patterns; they are constants, so a failure is a bug that
/// the test building every pattern catches.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("image-pull message patterns are valid regexes")
}

/// The image a message names: after the words that introduce one, or containerd's quoted
/// reference before its error (`"docker.io/library/busybox:latest": pull access denied`).
static IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(?:pull(?:ing)?(?: and unpack)? image|apply default image tag|inspect image|image pull failed for|pull access denied for|manifest for|container image|reading manifest \S+ in|repository)\s+\\?"?([^\s"\\,]+)|"([a-z0-9][^"\s]*)":\s+pull access denied"#,
    )
});
/// Words that follow "repository" in prose ("repository does not exist"): no image name.
const PROSE_AFTER_REPOSITORY: &[&str] = &[
    "does", "doesn't", "not", "is", "was", "may", "for", "name", "names", "or", "and", "the",
    "that", "which", "exists", "cannot", "can't", "could", "has", "with",
];
static GRPC: LazyLock<Regex> = LazyLock::new(|| re(r"rpc error: code = (\w+) desc = "));
static STATUS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(401|403|404|429|5\d\d)\s+(?:unauthorized|forbidden|not found|too many requests|internal server error|bad gateway|service unavailable|gateway timeout)|status(?: code)?:?\s+(401|403|404|429|5\d\d)\b",
    )
});
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(?:https?://([A-Za-z0-9.\-\[\]:]+)/|pinging (?:container |docker )?registry ([A-Za-z0-9.\-\[\]:]+)|lookup ([A-Za-z0-9.\-]+)(?: on |: ))"#,
    )
});

/// The kubelet's probe verdicts (`Liveness probe failed: Get "http://10.0.0.8:8080/health":
/// dial tcp …: connect: connection refused`): their dial errors are the container's own port.
const PROBE_VERDICTS: [&str; 6] = [
    "liveness probe failed",
    "readiness probe failed",
    "startup probe failed",
    "liveness probe errored",
    "readiness probe errored",
    "startup probe errored",
];

/// Whether a line says nothing about a pull whatever its errors: a probe's verdict, or a call
/// to the Kubernetes API (`GET https://kubernetes.default.svc:443/apis/apps/v1/…`, `Get
/// "https://10.96.0.1:443/api/v1/namespaces/…"`), whose dial errors are the cluster network's
/// between a pod and the API server.
fn is_not_a_pull(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    PROBE_VERDICTS.iter().any(|v| lower.contains(v))
        || lower.contains("kubernetes.default")
        || lower.contains("/api/v1/namespaces/")
        || (lower.contains("/apis/") && lower.contains("/namespaces/"))
}

/// Classifies one text. `None` when it says nothing about an image pull. Lines that are a
/// probe's verdict or a call to the Kubernetes API are not read: a probe's dial error is the
/// container's own port, an API call's is the cluster network's.
pub fn classify(text: &str) -> Option<PullMessage> {
    let kept: String;
    let text = if text.lines().any(is_not_a_pull) {
        kept = text
            .lines()
            .filter(|l| !is_not_a_pull(l))
            .collect::<Vec<_>>()
            .join("\n");
        kept.as_str()
    } else {
        text
    };
    let spaced = text.replace(['\r', '\n'], " ");
    let glued = text.replace(['\r', '\n'], "");
    let lower = spaced.to_lowercase();
    let lower_glued = glued.to_lowercase();
    let status = STATUS
        .captures(&spaced)
        .and_then(|c| c.get(1).or(c.get(2))?.as_str().parse::<u16>().ok());
    let facts = Text {
        spaced: &lower,
        glued: &lower_glued,
        status,
    };
    let Verdict::Decided(decision) = rules::first_match(&facts)?.1 else {
        return None;
    };
    let program_call = rules::ran_in_a_failed_job(&facts);
    let image = IMAGE
        .captures_iter(&spaced)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)))
        .map(|m| trim_prose_punctuation(m.as_str()))
        .find(|s| !s.is_empty() && !PROSE_AFTER_REPOSITORY.contains(s))
        .map(str::to_owned);
    let grpc_code = GRPC
        .captures(&spaced)
        .and_then(|c| Some(c.get(1)?.as_str().to_owned()));
    let host = HOST
        .captures(&spaced)
        .and_then(|c| c.get(1).or(c.get(2)).or(c.get(3)))
        .map(|m| m.as_str().to_owned());
    Some(PullMessage {
        cause: decision.cause,
        confidence: if program_call {
            decision.confidence.min(PROGRAM_CALL_CONFIDENCE)
        } else {
            decision.confidence
        },
        image,
        grpc_code,
        http_status: status,
        host,
        quote: quote_around(&spaced, &lower, decision.key),
        alternative: decision.alternative,
        told: decision.told || program_call,
        program_call,
    })
}

/// An image reference taken from prose without the quotes around it and the punctuation
/// that ended its sentence or clause (`… in repository docker.io/acme/app;`, `… image
/// 'app:1'.`): no reference starts or ends with one of these characters.
fn trim_prose_punctuation(reference: &str) -> &str {
    reference
        .trim_start_matches(['\'', '`', '('])
        .trim_end_matches([':', '.', ';', ',', ')', ']', '!', '?', '\'', '`'])
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
    let start = text.floor_char_boundary(at.saturating_sub(SPAN / 2));
    let end = text.floor_char_boundary(start + SPAN);
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
mod tests;
