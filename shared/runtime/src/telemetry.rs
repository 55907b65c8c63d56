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

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use opentelemetry_sdk::{Resource, runtime};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

use crate::redact;

pub mod metrics;
pub mod registry_health;

/// How long a flush or shutdown may take before it is abandoned.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// Telemetry set-up failures. All are bad input (configuration) except `Exporter`, which
/// is permanent for this process.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// An `OTEL_*` / `LASTMILE_LOG` value is invalid: fix the configuration.
    #[error("invalid telemetry configuration: {0}")]
    Config(String),
    /// The exporter could not be built.
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// A global subscriber was already installed.
    #[error("telemetry is already initialised in this process")]
    AlreadyInitialised,
    /// Flushing spans or metrics failed or timed out (they may be lost; the work itself is
    /// done).
    #[error("flushing telemetry failed: {0}")]
    Flush(String),
}

/// OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (tonic), default port 4317.
    Grpc,
    /// OTLP/HTTP with protobuf bodies, default port 4318.
    HttpProtobuf,
}

impl std::str::FromStr for OtlpProtocol {
    type Err = TelemetryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "grpc" => Ok(Self::Grpc),
            "http/protobuf" => Ok(Self::HttpProtobuf),
            other => Err(TelemetryError::Config(format!(
                "OTLP protocol {other:?} is not supported (use grpc or http/protobuf)"
            ))),
        }
    }
}

/// Where spans go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// Transport.
    pub protocol: OtlpProtocol,
    /// Explicit endpoint (gRPC: `http://host:4317`; HTTP: the full `…/v1/traces` URL).
    /// `None` lets the SDK read `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`.
    pub endpoint: Option<String>,
}

/// What [`init`] sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryConfig {
    /// `service.name` used when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES`
    /// names the service.
    pub service_name: String,
    /// Span export; `None` keeps spans in-process (trace context still propagates).
    pub otlp: Option<OtlpConfig>,
    /// Log filter directives (`EnvFilter` syntax).
    pub log_filter: String,
    /// JSON log lines instead of human-readable ones.
    pub json_logs: bool,
}

impl TelemetryConfig {
    /// Reads the process environment (see the module docs).
    pub fn from_env(service_name: &str) -> Result<Self, TelemetryError> {
        Self::from_lookup(service_name, |k| std::env::var(k).ok())
    }

    /// Like [`Self::from_env`] with an explicit variable lookup (tests, embedding).
    pub fn from_lookup(
        service_name: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, TelemetryError> {
        let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let otlp = otlp_from_lookup(Signal::Traces, &var)?;
        let log_filter = set("LASTMILE_LOG")
            .or_else(|| set("RUST_LOG"))
            .unwrap_or_else(|| "info".to_owned());
        let json_logs = set("LASTMILE_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
        Ok(Self {
            service_name: service_name.to_owned(),
            otlp,
            log_filter,
            json_logs,
        })
    }
}

/// An OTLP signal: each has its own `OTEL_<SIGNAL>_EXPORTER` and
/// `OTEL_EXPORTER_OTLP_<SIGNAL>_{ENDPOINT,PROTOCOL}` overrides of the shared variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Spans.
    Traces,
    /// Metrics.
    Metrics,
}

impl Signal {
    fn env_name(self) -> &'static str {
        match self {
            Self::Traces => "TRACES",
            Self::Metrics => "METRICS",
        }
    }
}

/// Whether and how `signal` is exported, from the standard `OTEL_*` variables: on when
/// `OTEL_<SIGNAL>_EXPORTER=otlp` or an endpoint (shared or signal-specific) is set, off with
/// `OTEL_<SIGNAL>_EXPORTER=none`; protocol from the signal-specific variable, else the shared
/// one, else `http/protobuf` (the spec's default).
pub(crate) fn otlp_from_lookup(
    signal: Signal,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<OtlpConfig>, TelemetryError> {
    let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    let name = signal.env_name();
    let exporter_var = format!("OTEL_{name}_EXPORTER");
    let exporter = set(&exporter_var).map(|v| v.trim().to_ascii_lowercase());
    let enabled = match exporter.as_deref() {
        Some("none") => false,
        Some("otlp") => true,
        Some(other) => {
            return Err(TelemetryError::Config(format!(
                "{exporter_var}={other:?} is not supported (use otlp or none)"
            )));
        }
        None => {
            set("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
                || set(&format!("OTEL_EXPORTER_OTLP_{name}_ENDPOINT")).is_some()
        }
    };
    if !enabled {
        return Ok(None);
    }
    let protocol = set(&format!("OTEL_EXPORTER_OTLP_{name}_PROTOCOL"))
        .or_else(|| set("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(OtlpProtocol::HttpProtobuf);
    Ok(Some(OtlpConfig {
        protocol,
        endpoint: None,
    }))
}

/// A built, not yet installed, telemetry pipeline.
pub struct Telemetry {
    /// The subscriber; install it globally ([`init`]) or per thread (`tracing::dispatcher::set_default`).
    pub dispatch: tracing::Dispatch,
    /// Flushes and shuts the exporter down.
    pub guard: TelemetryGuard,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

/// Builds the pipeline and installs it as the process-wide subscriber, with the W3C
/// TraceContext propagator as the global propagator. Call once, inside the tokio runtime.
pub fn init(config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let Telemetry { dispatch, guard } = build(config)?;
    tracing::dispatcher::set_global_default(dispatch)
        .map_err(|_| TelemetryError::AlreadyInitialised)?;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    if let Some(provider) = guard.0.provider() {
        opentelemetry::global::set_tracer_provider(provider.clone());
    }
    Ok(guard)
}

/// Builds the pipeline without installing it. Must run inside a tokio runtime when spans
/// are exported (the batch processor is a tokio task).
pub fn build(config: &TelemetryConfig) -> Result<Telemetry, TelemetryError> {
    let log_filter = EnvFilter::builder()
        .parse(&config.log_filter)
        .map_err(|e| TelemetryError::Config(format!("log filter {:?}: {e}", config.log_filter)))?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(RedactingStderr)
        .with_target(true);
    let fmt = if config.json_logs {
        fmt.json().with_filter(log_filter).boxed()
    } else {
        fmt.with_filter(log_filter).boxed()
    };

    let mut builder = SdkTracerProvider::builder().with_resource(resource(&config.service_name));
    let exporting = config.otlp.is_some();
    if let Some(otlp) = &config.otlp {
        let exporter = exporter(otlp)?;
        let batch =
            opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(exporter, runtime::Tokio)
                .build();
        builder = builder.with_span_processor(Redacting(batch));
    }
    let provider = builder.build();
    let tracer = provider.tracer("lastmile");
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(span_filter())
        .boxed();

    let subscriber = Registry::default().with(vec![fmt, otel]);
    Ok(Telemetry {
        dispatch: tracing::Dispatch::new(subscriber),
        guard: TelemetryGuard(Exporting::new(Some(provider), exporting)),
    })
}

/// `service.name` from the environment when given there, else `default`; plus the rest
/// of `OTEL_RESOURCE_ATTRIBUTES` (the SDK's detectors read both).
fn resource(default: &str) -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_some_and(|v| !v.as_str().starts_with("unknown_service"));
    if named {
        detected
    } else {
        Resource::builder()
            .with_service_name(default.to_owned())
            .build()
    }
}

fn exporter(otlp: &OtlpConfig) -> Result<opentelemetry_otlp::SpanExporter, TelemetryError> {
    use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
    let built = match otlp.protocol {
        OtlpProtocol::Grpc => {
            let b = SpanExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc);
            match &otlp.endpoint {
                Some(e) => b.with_endpoint(e.clone()).build(),
                None => b.build(),
            }
        }
        OtlpProtocol::HttpProtobuf => {
            let b = SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary);
            match &otlp.endpoint {
                Some(e) => b.with_endpoint(e.clone()).build(),
                None => b.build(),
            }
        }
    };
    built.map_err(|e| TelemetryError::Exporter(e.to_string()))
}

/// Spans exported: info and above, minus the transport crates (exporting spans about
/// exporting spans would feed back on itself).
fn span_filter() -> Targets {
    let quiet = [
        "h2",
        "hyper",
        "hyper_util",
        "tonic",
        "tower",
        "reqwest",
        "opentelemetry",
        "opentelemetry_sdk",
        "opentelemetry_otlp",
        "aws_smithy_runtime",
        "aws_smithy_runtime_api",
        "aws_config",
        "aws_sdk_s3",
        "async_nats",
        "lambda_runtime",
        "lambda_runtime_api_client",
    ];
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_targets(quiet.into_iter().map(|t| (t, LevelFilter::OFF)))
}

/// Flushes buffered spans; shuts the exporter down on drop.
#[derive(Debug)]
pub struct TelemetryGuard(Exporting<SdkTracerProvider>);

impl TelemetryGuard {
    /// A guard with nothing to flush (hosts in tests, telemetry set up elsewhere).
    pub fn disabled() -> Self {
        Self(Exporting::new(None, false))
    }

    /// True when spans are exported over OTLP.
    pub fn is_exporting(&self) -> bool {
        self.0.is_exporting()
    }

    /// Exports every finished span now. Lambda calls this after each invocation.
    pub async fn flush(&self) -> Result<(), TelemetryError> {
        self.0.flush().await
    }

    /// Flushes and stops the exporter.
    pub async fn shutdown(self) -> Result<(), TelemetryError> {
        self.0.shutdown().await
    }
}

/// An SDK provider (spans or metrics) whose exporter is flushed and shut down by
/// [`Exporting`].
pub(crate) trait SdkProvider: Clone + Send + std::fmt::Debug + 'static {
    /// Exports everything buffered now (blocking).
    fn flush_now(&self) -> OTelSdkResult;
    /// Exports what is left and stops the exporter (blocking, bounded by `timeout`).
    fn shutdown_within(&self, timeout: Duration) -> OTelSdkResult;
}

impl SdkProvider for SdkTracerProvider {
    fn flush_now(&self) -> OTelSdkResult {
        self.force_flush()
    }

    fn shutdown_within(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
}

impl SdkProvider for opentelemetry_sdk::metrics::SdkMeterProvider {
    fn flush_now(&self) -> OTelSdkResult {
        self.force_flush()
    }

    fn shutdown_within(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
}

/// Owns a provider: flushes it on demand and shuts it down once, explicitly or on drop
/// (exporting what is left). The one implementation behind [`TelemetryGuard`] and
/// [`metrics::Metrics`].
#[derive(Debug)]
pub(crate) struct Exporting<P: SdkProvider> {
    provider: Option<P>,
    exporting: bool,
}

impl<P: SdkProvider> Exporting<P> {
    /// `exporting`: whether the provider has an OTLP exporter (else flushes are no-ops).
    pub(crate) fn new(provider: Option<P>, exporting: bool) -> Self {
        Self {
            provider,
            exporting,
        }
    }

    /// The provider, until shut down.
    pub(crate) fn provider(&self) -> Option<&P> {
        self.provider.as_ref()
    }

    /// True when the provider exports over OTLP.
    pub(crate) fn is_exporting(&self) -> bool {
        self.exporting
    }

    async fn flush(&self) -> Result<(), TelemetryError> {
        let Some(provider) = self.provider.clone().filter(|_| self.exporting) else {
            return Ok(());
        };
        off_runtime(move || provider.flush_now()).await
    }

    async fn shutdown(mut self) -> Result<(), TelemetryError> {
        let Some(provider) = self.provider.take() else {
            return Ok(());
        };
        off_runtime(move || provider.shutdown_within(FLUSH_TIMEOUT)).await
    }
}

impl<P: SdkProvider> Drop for Exporting<P> {
    fn drop(&mut self) {
        let Some(provider) = self.provider.take() else {
            return;
        };
        if self.exporting {
            shutdown_on_drop(move || {
                let _ = provider.shutdown_within(FLUSH_TIMEOUT);
            });
        }
    }
}

/// Runs a blocking SDK flush or shutdown on a blocking thread, bounded by [`FLUSH_TIMEOUT`]:
/// the exporters are tokio tasks, so the runtime's own threads must stay free to drive them.
async fn off_runtime(
    work: impl FnOnce() -> OTelSdkResult + Send + 'static,
) -> Result<(), TelemetryError> {
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout(FLUSH_TIMEOUT, task).await {
        Err(_) => Err(TelemetryError::Flush(format!(
            "no answer within {FLUSH_TIMEOUT:?}"
        ))),
        Ok(Err(join)) => Err(TelemetryError::Flush(join.to_string())),
        Ok(Ok(result)) => result.map_err(|e| TelemetryError::Flush(e.to_string())),
    }
}

/// Shuts an exporting provider down from `Drop` without blocking the only thread that may
/// drive its exporter task.
fn shutdown_on_drop(shutdown: impl FnOnce() + Send + 'static) {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(shutdown),
        Ok(_) => {
            std::thread::spawn(shutdown);
        }
        Err(_) => shutdown(),
    }
}

/// Redacts span attributes, event attributes and status text before export.
#[derive(Debug)]
struct Redacting<P>(P);

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
struct RedactingStderr;

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| vars.get(k).cloned()
    }

    #[test]
    fn config_follows_the_otel_environment() {
        let c = TelemetryConfig::from_lookup("svc", lookup(&[])).unwrap();
        assert_eq!(c.otlp, None);
        assert_eq!(c.log_filter, "info");
        let c = TelemetryConfig::from_lookup(
            "svc",
            lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]),
        )
        .unwrap();
        assert_eq!(
            c.otlp,
            Some(OtlpConfig {
                protocol: OtlpProtocol::HttpProtobuf,
                endpoint: None
            })
        );
        let c = TelemetryConfig::from_lookup(
            "svc",
            lookup(&[
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ]),
        )
        .unwrap();
        assert_eq!(c.otlp.unwrap().protocol, OtlpProtocol::Grpc);
        let c = TelemetryConfig::from_lookup("svc", lookup(&[("OTEL_TRACES_EXPORTER", "otlp")]))
            .unwrap();
        assert!(c.otlp.is_some());
        let c = TelemetryConfig::from_lookup(
            "svc",
            lookup(&[
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ]),
        )
        .unwrap();
        assert!(c.otlp.is_none());
        let c = TelemetryConfig::from_lookup(
            "svc",
            lookup(&[("RUST_LOG", "debug"), ("LASTMILE_LOG", "warn")]),
        )
        .unwrap();
        assert_eq!(c.log_filter, "warn");
        assert!(matches!(
            TelemetryConfig::from_lookup(
                "svc",
                lookup(&[
                    ("OTEL_TRACES_EXPORTER", "otlp"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
                ])
            ),
            Err(TelemetryError::Config(_))
        ));
        assert!(matches!(
            TelemetryConfig::from_lookup("svc", lookup(&[("OTEL_TRACES_EXPORTER", "zipkin")])),
            Err(TelemetryError::Config(_))
        ));
    }

    #[test]
    fn a_bad_log_filter_is_a_config_error() {
        let mut c = TelemetryConfig::from_lookup("svc", lookup(&[])).unwrap();
        c.log_filter = "lastmile=notalevel".into();
        assert!(matches!(build(&c), Err(TelemetryError::Config(_))));
    }

    #[test]
    fn trace_context_round_trips_through_headers() {
        let c = TelemetryConfig::from_lookup("svc", lookup(&[("LASTMILE_LOG", "off")])).unwrap();
        let telemetry = build(&c).unwrap();
        tracing::dispatcher::with_default(&telemetry.dispatch, || {
            let producer = tracing::info_span!("producer");
            let mut headers = BTreeMap::new();
            headers.insert("Traceparent".to_owned(), "stale".to_owned());
            producer.in_scope(|| inject_current(&mut headers));
            let tp = headers.get("traceparent").cloned().unwrap();
            assert!(
                !headers.contains_key("Traceparent"),
                "one traceparent header: {headers:?}"
            );
            let trace_id = trace_id_of(&producer).unwrap();
            assert_eq!(trace_id.len(), 32);
            assert!(
                tp.starts_with(&format!("00-{trace_id}-")) && tp.ends_with("-01"),
                "{tp}"
            );

            let consumer = tracing::info_span!("consumer");
            set_parent_from(&consumer, &headers);
            assert_eq!(trace_id_of(&consumer), Some(trace_id.clone()));
            let mut next = BTreeMap::new();
            consumer.in_scope(|| inject_current(&mut next));
            let next_tp = next.get("traceparent").unwrap();
            assert!(
                next_tp.contains(&trace_id) && next_tp != &tp,
                "new span id, same trace: {next_tp} vs {tp}"
            );

            // No or garbage parent: a fresh root trace, never a panic.
            let orphan = tracing::info_span!("orphan");
            let mut junk = BTreeMap::new();
            junk.insert("traceparent".to_owned(), "00-zz-yy-01".to_owned());
            set_parent_from(&orphan, &junk);
            let own = trace_id_of(&orphan).unwrap();
            assert_ne!(own, trace_id);
        });
    }

    #[test]
    fn without_a_subscriber_nothing_is_injected() {
        let mut headers = BTreeMap::new();
        inject_current(&mut headers);
        assert!(headers.is_empty());
        assert_eq!(trace_id_of(&tracing::Span::current()), None);
    }

    #[test]
    fn span_attributes_are_redacted() {
        let mut attrs = vec![
            KeyValue::new("http.request.header.authorization", "Bearer abc"),
            KeyValue::new("url.full", "https://u:hunter2@registry.example.com/v2/"),
            KeyValue::new("k8s.pod.name", "api-0"),
            KeyValue::new("http.response.status_code", 401),
        ];
        redact_attributes(&mut attrs);
        assert_eq!(attrs[0].value.as_str(), redact::REDACTED);
        assert_eq!(
            attrs[1].value.as_str(),
            "https://[REDACTED]@registry.example.com/v2/"
        );
        assert_eq!(attrs[2].value.as_str(), "api-0");
        assert_eq!(attrs[3].value, Value::I64(401));
    }
}
