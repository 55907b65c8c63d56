//! The probe transcript: every request and answer, redacted as it is recorded.
//!
//! Redaction happens here, at recording time, with the shared policy ([`lastmile_redact`]):
//! `Authorization` values become `<scheme> [REDACTED]`, other headers that name a secret
//! (`Cookie`, `X-Api-Key`) are blanked, token-endpoint bodies are never kept, and only an
//! allow-list of response headers is copied. The host's output boundary redacts evidence
//! again, so this is the first line, not the only one.

use std::collections::BTreeMap;

use lastmile_contract::{HttpExchange, HttpRequest};
use serde::Serialize;

/// Response headers worth keeping (all lower-case).
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "docker-content-digest",
    "docker-distribution-api-version",
    "www-authenticate",
    "location",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "docker-ratelimit-source",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "content-length",
];
/// Body bytes kept per answer (error documents are small).
const BODY_EXCERPT: usize = 1024;

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Why the request was made (`manifest`, `token`, `tags`, …).
    pub step: String,
    /// HTTP method (`HEAD`, `GET`).
    pub method: String,
    /// URL (never carries credentials: the probe sends them only in headers).
    pub url: String,
    /// Request headers, `authorization` redacted.
    pub request_headers: BTreeMap<String, String>,
    /// Status, when an answer came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Transport error, when none came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Allow-listed response headers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub response_headers: BTreeMap<String, String>,
    /// A body excerpt for error documents; token responses are never kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Time from request to answer, per the context clock.
    pub elapsed_ms: i64,
}

/// The transcript of one probe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Transcript {
    /// Entries in order.
    pub entries: Vec<Entry>,
}

impl Transcript {
    /// Records one exchange. `keep_body` is false for token endpoints.
    pub fn record(
        &mut self,
        step: &str,
        req: &HttpRequest,
        answer: &HttpExchange,
        elapsed_ms: i64,
        keep_body: bool,
    ) {
        let request_headers = req
            .headers
            .iter()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("authorization")
                    || k.eq_ignore_ascii_case("proxy-authorization")
                {
                    lastmile_redact::credential_with_scheme(v)
                } else {
                    lastmile_redact::named_value(k, v).into_owned()
                };
                (k.to_lowercase(), v)
            })
            .collect();
        let (status, error, response_headers, body) = match answer {
            Ok(resp) => {
                let headers = resp
                    .headers
                    .iter()
                    .filter(|(k, _)| KEPT_HEADERS.contains(&k.to_lowercase().as_str()))
                    .map(|(k, v)| (k.to_lowercase(), v.clone()))
                    .collect();
                let body = if keep_body && resp.status >= 300 && !resp.body.is_empty() {
                    let end = resp.body.len().min(BODY_EXCERPT);
                    Some(String::from_utf8_lossy(&resp.body[..end]).into_owned())
                } else if !keep_body && !resp.body.is_empty() {
                    Some("[token response redacted]".to_owned())
                } else {
                    None
                };
                (Some(resp.status), None, headers, body)
            }
            Err(e) => (
                None,
                Some(format!("{:?}: {}", e.kind, e.detail)),
                BTreeMap::new(),
                None,
            ),
        };
        self.entries.push(Entry {
            step: step.to_owned(),
            method: req.method.clone(),
            url: req.url.clone(),
            request_headers,
            status,
            error,
            response_headers,
            body,
            elapsed_ms,
        });
    }
}
