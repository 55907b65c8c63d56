//! What the registry's answers mean: a non-2xx status (with its error code and challenge),
//! a transport failure, the rate-limit headers.

use lastmile_contract::{HttpResponse, TransportErrorKind};

use super::RateLimit;
use crate::challenge;
use crate::message::{self, Cause};

/// The first error code of a distribution error body (`NAME_UNKNOWN`, `DENIED`...).
pub(super) fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("errors")?
        .get(0)?
        .get("code")?
        .as_str()
        .map(str::to_owned)
}

/// The rate-limit headers of an answer (the IETF draft names, else Docker Hub's `x-` ones).
pub(super) fn rate_limit(resp: &HttpResponse) -> RateLimit {
    let h = |k: &str| resp.headers.get(k).cloned();
    RateLimit {
        limit: h("ratelimit-limit").or_else(|| h("x-ratelimit-limit")),
        remaining: h("ratelimit-remaining").or_else(|| h("x-ratelimit-remaining")),
        retry_after: h("retry-after"),
        source: h("docker-ratelimit-source"),
    }
}

/// The cause a non-2xx manifest answer means.
pub(super) fn status_cause(
    resp: &HttpResponse,
    had_login: bool,
    after_challenge: bool,
) -> (Cause, String) {
    let code = error_code(&resp.body);
    let www = resp
        .headers
        .get("www-authenticate")
        .map(String::as_str)
        .unwrap_or_default();
    let scope_error = challenge::parse(www)
        .iter()
        .any(|c| c.param("error") == Some("insufficient_scope"));
    let detail = format!(
        "the registry answered {}{}",
        resp.status,
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default()
    );
    let cause = match resp.status {
        401 if scope_error && had_login => Cause::InsufficientScope,
        401 if scope_error => Cause::AccessDenied,
        401 if had_login && after_challenge => Cause::BadCredentials,
        401 => Cause::NoCredentials,
        403 if had_login => Cause::InsufficientScope,
        403 => Cause::AccessDenied,
        404 => Cause::NotFound,
        429 => Cause::RateLimited,
        s if s >= 500 => Cause::RegistryUnavailable,
        300..=399 => Cause::Unspecified,
        _ => Cause::Unspecified,
    };
    (cause, detail)
}

/// The cause a transport failure means; TLS details are read like the runtime's text.
pub fn transport_cause(kind: TransportErrorKind, detail: &str) -> Cause {
    match kind {
        TransportErrorKind::Dns => Cause::Dns,
        TransportErrorKind::Refused => Cause::Refused,
        TransportErrorKind::Timeout => Cause::Timeout,
        TransportErrorKind::NotTls => Cause::HttpOnlyRegistry,
        TransportErrorKind::Tls => match message::classify(detail).map(|m| m.cause) {
            Some(c @ (Cause::TlsUnknownAuthority | Cause::TlsExpired | Cause::TlsHostname)) => c,
            _ => tls_detail(detail),
        },
        TransportErrorKind::Other => match message::classify(detail).map(|m| m.cause) {
            Some(c)
                if c.class() == lastmile_events::Class::IMAGE_NETWORK
                    || c.class() == lastmile_events::Class::IMAGE_TLS =>
            {
                c
            }
            _ => Cause::Unreachable,
        },
    }
}

/// rustls words its certificate errors differently from Go.
fn tls_detail(detail: &str) -> Cause {
    let d = detail.to_lowercase();
    if d.contains("unknownissuer") || d.contains("unknown issuer") || d.contains("unknown ca") {
        Cause::TlsUnknownAuthority
    } else if d.contains("expired") || d.contains("notvalidyet") || d.contains("not valid yet") {
        Cause::TlsExpired
    } else if d.contains("notvalidforname")
        || d.contains("not valid for name")
        || d.contains("name mismatch")
    {
        Cause::TlsHostname
    } else {
        Cause::TlsOther
    }
}
