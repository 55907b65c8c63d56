//! W3C trace context for CI events: continue the pipeline's trace, or start one.
//!
//! Each request is an OTel HTTP **server span** ([`server_span`]: `http.request.method`,
//! `url.path`, `http.route`, `http.response.status_code`, and for an accepted CI event
//! `cicd.pipeline.run.id`, `cicd.pipeline.run.url.full` and `vcs.ref.head.revision` when
//! known), a child of the sender's `traceparent`. The CI event carries that span's context,
//! so the watcher's incident and the functions' diagnosis spans descend from a span the
//! collector has, not from an id nobody exported.

use std::collections::BTreeMap;

use lastmile_events::CiRunRef;
use lastmile_runtime::bus::TRACEPARENT_HEADER;
use lastmile_runtime::telemetry;
use tracing::field::Empty;

/// True for a well-formed version-00 `traceparent` with non-zero ids.
pub fn is_valid(tp: &str) -> bool {
    let parts: Vec<&str> = tp.trim().split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    matches!(parts.as_slice(), [v, t, s, f]
        if hex(v, 2) && *v != "ff" && hex(t, 32) && hex(s, 16) && hex(f, 2)
            && t.bytes().any(|b| b != b'0') && s.bytes().any(|b| b != b'0'))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    if buf.iter().all(|b| *b == 0) {
        buf[0] = 1;
    }
    hex::encode(buf)
}

/// A child of `incoming` (same trace, new span id) when it is valid, else a new sampled
/// root trace.
pub fn continue_or_start(incoming: Option<&str>) -> String {
    match incoming.map(str::trim).filter(|tp| is_valid(tp)) {
        Some(tp) => {
            let mut parts = tp.split('-');
            let (_, trace_id, _, flags) = (
                parts.next(),
                parts.next().unwrap_or_default(),
                parts.next(),
                parts.next().unwrap_or("01"),
            );
            format!("00-{trace_id}-{}-{flags}", random_hex(8))
        }
        None => format!("00-{}-{}-01", random_hex(16), random_hex(8)),
    }
}

/// The server span of one request on `route`, a child of the sender's `traceparent` (when
/// valid). Not entered here: instrument the handler with it.
pub fn server_span(route: &str, incoming: Option<&str>) -> tracing::Span {
    let span = tracing::info_span!(
        "webhook request",
        otel.name = %format!("POST {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = "POST",
        http.route = route,
        url.path = route,
        http.response.status_code = Empty,
        cicd.pipeline.run.id = Empty,
        cicd.pipeline.run.url.full = Empty,
        vcs.ref.head.revision = Empty,
    );
    if let Some(tp) = incoming.map(str::trim).filter(|tp| is_valid(tp)) {
        let mut parent = BTreeMap::new();
        parent.insert(TRACEPARENT_HEADER.to_owned(), tp.to_owned());
        telemetry::set_parent_from(&span, &parent);
    }
    span
}

/// Records the response status on the server span (5xx is an error, as semconv says for
/// servers).
pub fn record_status(span: &tracing::Span, status: u16) {
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// Records what is known of the CI run on the server span.
pub fn record_run(span: &tracing::Span, run: &CiRunRef) {
    span.record("cicd.pipeline.run.id", run.run_id.as_str());
    if let Some(url) = &run.url {
        span.record("cicd.pipeline.run.url.full", url.as_str());
    }
    if let Some(commit) = &run.commit {
        span.record("vcs.ref.head.revision", commit.as_str());
    }
}

/// The current span's `traceparent`, when spans are exported (an OTel layer is installed).
pub fn current_traceparent() -> Option<String> {
    let mut headers = BTreeMap::new();
    telemetry::inject_current(&mut headers);
    headers.remove(TRACEPARENT_HEADER).filter(|tp| is_valid(tp))
}

/// The trace id (32 hex digits) of a traceparent.
pub fn trace_id(tp: &str) -> Option<&str> {
    tp.split('-').nth(1).filter(|t| t.len() == 32)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
