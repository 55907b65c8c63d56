//! Spans for work that happened elsewhere, recorded after the fact with the times it
//! started and ended: `tracing` spans always start when created, so work another system
//! reports with its own timestamps (a container's run, from the pod status) is recorded
//! through the OpenTelemetry tracer directly.

use std::collections::BTreeMap;
use std::time::SystemTime;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, Status, TraceContextExt, Tracer};

/// An attribute value of a [`RecordedSpan`].
#[derive(Debug, Clone, PartialEq)]
pub enum SpanValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// A span with explicit start and end times.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedSpan {
    /// Span name.
    pub name: String,
    /// When the work started.
    pub start: SystemTime,
    /// When it ended (or when it was last seen still running).
    pub end: SystemTime,
    /// Attributes; they pass through the same redacting processor as every span.
    pub attributes: Vec<(String, SpanValue)>,
    /// When set, the span's status is Error with this description.
    pub error: Option<String>,
}

/// Records `span` as a child of the trace context in `parent` (a message's `traceparent`
/// headers, names case-insensitive), through the global tracer provider that [`super::init`]
/// installs. Returns false (and records nothing) when `parent` holds no valid context.
/// Without an installed provider the global one is a no-op, so nothing is exported.
pub fn record_span(parent: &BTreeMap<String, String>, span: &RecordedSpan) -> bool {
    let cx = super::extract(parent);
    if !cx.span().span_context().is_valid() {
        return false;
    }
    let tracer = opentelemetry::global::tracer("lastmile");
    let attributes: Vec<KeyValue> = span
        .attributes
        .iter()
        .map(|(k, v)| match v {
            SpanValue::Str(s) => KeyValue::new(k.clone(), s.clone()),
            SpanValue::Int(i) => KeyValue::new(k.clone(), *i),
            SpanValue::Bool(b) => KeyValue::new(k.clone(), *b),
        })
        .collect();
    let mut s = tracer
        .span_builder(span.name.clone())
        .with_start_time(span.start)
        .with_attributes(attributes)
        .start_with_context(&tracer, &cx);
    if let Some(e) = &span.error {
        s.set_status(Status::error(e.clone()));
    }
    s.end_with_timestamp(span.end.max(span.start));
    true
}
