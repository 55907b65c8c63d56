//! The pipeline: the subscriber (redacted log lines to stderr, spans to the tracer) and the
//! OTLP span exporter behind the redacting processor.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::{Resource, runtime};
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

use super::lifecycle::Exporting;
use super::redacting::{Redacting, RedactingStderr};
use super::{OtlpConfig, OtlpProtocol, TelemetryConfig, TelemetryError, TelemetryGuard};
use crate::error::Detail;

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
        .map_err(|e| {
            TelemetryError::Config(Detail::caused_by(
                format!("log filter {:?}: {e}", config.log_filter),
                e,
            ))
        })?;
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
pub(crate) fn resource(default: &str) -> Resource {
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
            let mut b = SpanExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc);
            if otlp.tls.applies_to(otlp.endpoint.as_deref()) {
                use opentelemetry_otlp::WithTonicConfig;
                b = b.with_tls_config(otlp.tls.client_config()?);
            }
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
    built.map_err(TelemetryError::Exporter)
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
