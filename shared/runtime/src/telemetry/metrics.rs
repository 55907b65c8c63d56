//! Metrics over OTLP: a meter provider whose periodic reader exports on tokio, configured by
//! the same standard environment as spans.
//!
//! Export is on when `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is
//! set or `OTEL_METRICS_EXPORTER=otlp`, and off with `OTEL_METRICS_EXPORTER=none`; the
//! protocol comes from `OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL` (`grpc` | `http/protobuf`,
//! default `http/protobuf`). The SDK reads the rest itself: endpoint, headers, timeout,
//! `OTEL_METRIC_EXPORT_INTERVAL` (default 60 s), temporality preference (default cumulative).
//!
//! Design choices:
//! - The meter provider is separate from the tracing pipeline ([`super::build`]): only the
//!   commands that measure something build one, so no other process opens a metrics
//!   connection.
//! - Like the span batch processor, the periodic reader is a tokio task driving tonic or the
//!   async reqwest client; [`Metrics::flush`] exports now (a probe round, a Lambda invocation)
//!   and runs the blocking part off the runtime's threads.
//! - A provider exists even when nothing is exported, so instruments always work and cost
//!   almost nothing.

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader;
use opentelemetry_sdk::runtime;

use super::{
    Exporting, FLUSH_TIMEOUT, OtlpConfig, OtlpProtocol, Signal, TelemetryError, otlp_from_lookup,
    resource,
};

/// What [`build`] sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `service.name` used when neither `OTEL_SERVICE_NAME` nor `OTEL_RESOURCE_ATTRIBUTES`
    /// names the service.
    pub service_name: String,
    /// Metric export; `None` keeps measurements in-process.
    pub otlp: Option<OtlpConfig>,
}

impl MetricsConfig {
    /// Reads the process environment (see the module docs).
    pub fn from_env(service_name: &str) -> Result<Self, TelemetryError> {
        Self::from_lookup(service_name, |k| std::env::var(k).ok())
    }

    /// Like [`Self::from_env`] with an explicit variable lookup (tests, embedding).
    pub fn from_lookup(
        service_name: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, TelemetryError> {
        Ok(Self {
            service_name: service_name.to_owned(),
            otlp: otlp_from_lookup(Signal::Metrics, var)?,
        })
    }
}

/// A meter provider and its exporter; shuts the exporter down (exporting what is left) on
/// drop, or explicitly with [`Metrics::shutdown`].
#[derive(Debug)]
pub struct Metrics(Exporting<SdkMeterProvider>);

/// Builds the meter provider. Must run inside a tokio runtime when metrics are exported
/// (the periodic reader is a tokio task).
pub fn build(config: &MetricsConfig) -> Result<Metrics, TelemetryError> {
    let mut builder = SdkMeterProvider::builder().with_resource(resource(&config.service_name));
    if let Some(otlp) = &config.otlp {
        let reader = PeriodicReader::builder(exporter(otlp)?, runtime::Tokio)
            .with_timeout(FLUSH_TIMEOUT)
            .build();
        builder = builder.with_reader(reader);
    }
    Ok(Metrics(Exporting::new(
        Some(builder.build()),
        config.otlp.is_some(),
    )))
}

fn exporter(otlp: &OtlpConfig) -> Result<opentelemetry_otlp::MetricExporter, TelemetryError> {
    use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig};
    let built = match otlp.protocol {
        OtlpProtocol::Grpc => {
            let mut b = MetricExporter::builder()
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
            let b = MetricExporter::builder()
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

impl Metrics {
    /// A provider that exports nothing (tests, metrics set up elsewhere).
    pub fn disabled() -> Self {
        Self(Exporting::new(
            Some(SdkMeterProvider::builder().build()),
            false,
        ))
    }

    /// True when metrics are exported over OTLP.
    pub fn is_exporting(&self) -> bool {
        self.0.is_exporting()
    }

    /// A meter for instruments of the instrumentation scope `scope` (e.g. `lastmile.registry`).
    pub fn meter(&self, scope: &'static str) -> Meter {
        match self.0.provider() {
            Some(p) => p.meter(scope),
            None => opentelemetry::global::meter(scope),
        }
    }

    /// Collects and exports every instrument now.
    pub async fn flush(&self) -> Result<(), TelemetryError> {
        self.0.flush().await
    }

    /// Exports what is left and stops the exporter.
    pub async fn shutdown(self) -> Result<(), TelemetryError> {
        self.0.shutdown().await
    }
}

#[cfg(test)]
mod tests;
