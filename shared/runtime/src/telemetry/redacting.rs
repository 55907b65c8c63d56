//! Redaction of everything telemetry sends out: span attributes, events and status on their
//! way to the exporter, log lines on their way to stderr.

use std::io::Write;
use std::time::Duration;

use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};
use tracing_subscriber::fmt::MakeWriter;

use crate::redact;

/// Redacts span attributes, event attributes and status text before export.
#[derive(Debug)]
pub(super) struct Redacting<P>(pub(super) P);

impl<P: SpanProcessor> SpanProcessor for Redacting<P> {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.0.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        redact_attributes(&mut span.attributes);
        for event in span.events.events.iter_mut() {
            redact_attributes(&mut event.attributes);
            if let std::borrow::Cow::Owned(name) = redact::text(&event.name) {
                event.name = name.into();
            }
        }
        if let opentelemetry::trace::Status::Error { description } = &mut span.status
            && let std::borrow::Cow::Owned(d) = redact::text(description)
        {
            *description = d.into();
        }
        self.0.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.0.set_resource(resource);
    }
}

/// Redacts attribute values: whole values under sensitive keys (`http.request.header.authorization`),
/// the text rules elsewhere.
pub fn redact_attributes(attributes: &mut [KeyValue]) {
    for kv in attributes {
        if redact::is_sensitive_key(kv.key.as_str().rsplit('.').next().unwrap_or_default()) {
            kv.value = Value::from(redact::REDACTED);
            continue;
        }
        if let Value::String(s) = &kv.value
            && let std::borrow::Cow::Owned(clean) = redact::named_value(kv.key.as_str(), s.as_str())
        {
            kv.value = Value::from(clean);
        }
    }
}

/// Stderr, with every formatted log line redacted on its way out.
#[derive(Debug, Clone, Copy)]
pub(super) struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingWriter<std::io::Stderr>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(std::io::stderr())
    }
}

/// A log writer: every formatted line (the formatter writes each event in one call) passes
/// the redaction policy before it reaches `W`. Stderr in every binary; any `W` in tests.
#[derive(Debug)]
pub struct RedactingWriter<W>(pub W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let clean = redact::bytes(buf, "text/plain");
        self.0.write_all(&clean)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
