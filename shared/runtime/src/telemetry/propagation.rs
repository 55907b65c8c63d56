//! W3C trace context in and out of message headers.

use std::collections::BTreeMap;

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut BTreeMap<String, String>);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // Replace any differently-cased copy so there is exactly one.
        self.0.retain(|k, _| !k.eq_ignore_ascii_case(key));
        self.0.insert(key.to_owned(), value);
    }
}

struct HeaderExtractor<'a>(&'a BTreeMap<String, String>);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Writes the W3C trace context of `cx` into `headers` (`traceparent`, `tracestate`).
pub fn inject_context(cx: &Context, headers: &mut BTreeMap<String, String>) {
    TraceContextPropagator::new().inject_context(cx, &mut HeaderInjector(headers));
}

/// Reads the W3C trace context from `headers` (names case-insensitive).
pub fn extract(headers: &BTreeMap<String, String>) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Writes the current span's W3C trace context into `headers` (`traceparent`, `tracestate`).
pub fn inject_current(headers: &mut BTreeMap<String, String>) {
    inject_context(&tracing::Span::current().context(), headers);
}

/// Makes the span `span` a child of the trace context found in `headers` (if any).
/// Call before the span is first entered.
pub fn set_parent_from(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    let cx = extract(headers);
    if cx.span().span_context().is_valid()
        && let Err(e) = span.set_parent(cx)
    {
        tracing::debug!(error = %e, "Trace parent not set.");
    }
}

/// The trace id of `span` as 32 hex digits, when it is sampled into a trace.
pub fn trace_id_of(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    let otel = cx.span();
    let sc = otel.span_context();
    (sc.is_valid() && sc.is_sampled()).then(|| sc.trace_id().to_string())
}
