//! Telemetry: `tracing` logs to stderr and, when an OTLP endpoint is configured, spans
//! exported over OTLP (gRPC or HTTP/protobuf); W3C trace context in and out of messages.
//! Metrics ([`metrics`]) follow the same rules with their own `OTEL_*_METRICS_*` overrides;
//! [`registry_health`] defines the registry probe's instruments.
//!
//! Configuration is the standard `OTEL_*` environment: export is on when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set or
//! `OTEL_TRACES_EXPORTER=otlp` (and off with `OTEL_TRACES_EXPORTER=none`); the protocol comes
//! from `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` (`grpc` | `http/protobuf`, default
//! `http/protobuf` as the spec says). The SDK itself reads the rest (endpoint, headers,
//! timeout, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, sampler), so behaviour matches
//! every other OTel SDK. Logs are filtered by `LASTMILE_LOG`, else `RUST_LOG`, else `info`;
//! `LASTMILE_LOG_FORMAT=json` switches stderr to JSON lines.
//!
//! Design choices:
//! - A tracer provider exists even when nothing is exported, so trace ids are generated and
//!   `traceparent` keeps flowing through this process to the next one.
//! - Spans are exported by the async-runtime batch processor on tokio, which drives both
//!   tonic and the async reqwest client; flushing blocks on that task, so [`TelemetryGuard::flush`]
//!   is async and runs the blocking part off the runtime's threads (Lambda calls it after
//!   every invocation, before the environment freezes).
//! - Everything leaving the process goes through [`crate::redact`]: log lines on their way
//!   to stderr, span attributes and events on their way to the exporter.

use std::time::Duration;

mod config;
mod lifecycle;
pub mod metrics;
mod pipeline;
mod propagation;
mod recorded;
mod redacting;
pub mod registry_health;

pub use config::{OtlpConfig, OtlpProtocol, OtlpTls, TelemetryConfig};
pub(crate) use config::{Signal, otlp_from_lookup};
pub(crate) use lifecycle::Exporting;
pub use lifecycle::TelemetryGuard;
pub(crate) use pipeline::resource;
pub use pipeline::{Telemetry, build, init};
pub use propagation::{extract, inject_context, inject_current, set_parent_from, trace_id_of};
pub use recorded::{RecordedSpan, SpanValue, record_span};
pub use redacting::{RedactingWriter, redact_attributes};

/// How long a flush or shutdown may take before it is abandoned.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Telemetry set-up failures. All are bad input (configuration) except `Exporter`, which
/// is permanent for this process. Each keeps the error underneath as its source.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// An `OTEL_*` / `LASTMILE_LOG` value is invalid, or a file it names cannot be read: fix
    /// the configuration. The source is the parse or io error, when there is one.
    #[error("invalid telemetry configuration: {0}")]
    Config(#[source] crate::error::Detail),
    /// The exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// A global subscriber was already installed.
    #[error("telemetry is already initialised in this process")]
    AlreadyInitialised,
    /// Flushing spans or metrics failed (they may be lost; the work itself is done).
    #[error("flushing telemetry failed: {0}")]
    Flush(#[source] opentelemetry_sdk::error::OTelSdkError),
    /// Flushing did not finish within [`FLUSH_TIMEOUT`] (spans or metrics may be lost).
    #[error("flushing telemetry failed: no answer within {FLUSH_TIMEOUT:?}")]
    FlushTimedOut,
    /// The blocking task that flushed panicked or was cancelled.
    #[error("flushing telemetry failed: {0}")]
    FlushTask(#[source] tokio::task::JoinError),
}

#[cfg(test)]
mod tests;
