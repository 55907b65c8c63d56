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
            let b = MetricExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc);
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
    built.map_err(|e| TelemetryError::Exporter(e.to_string()))
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
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| vars.get(k).cloned()
    }

    fn otlp(vars: &[(&str, &str)]) -> Result<Option<OtlpConfig>, TelemetryError> {
        MetricsConfig::from_lookup("svc", lookup(vars)).map(|c| c.otlp)
    }

    #[test]
    fn metrics_config_follows_the_otel_environment() {
        assert_eq!(otlp(&[]).unwrap(), None);
        // The shared endpoint turns metrics on, with the spec's default protocol.
        assert_eq!(
            otlp(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap(),
            Some(OtlpConfig {
                protocol: OtlpProtocol::HttpProtobuf,
                endpoint: None
            })
        );
        // So does the metrics endpoint alone; the traces endpoint does not.
        assert!(
            otlp(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://c:4317")])
                .unwrap()
                .is_some()
        );
        assert_eq!(
            otlp(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4317")]).unwrap(),
            None
        );
        assert!(
            otlp(&[("OTEL_METRICS_EXPORTER", "otlp")])
                .unwrap()
                .is_some()
        );
        // The metrics protocol wins over the shared one; the traces one is ignored.
        let c = otlp(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(c.unwrap().protocol, OtlpProtocol::Grpc);
        let c = otlp(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ])
        .unwrap();
        assert_eq!(c.unwrap().protocol, OtlpProtocol::Grpc);
        // `none` for metrics wins over an endpoint, and leaves traces alone.
        let vars = [
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ];
        assert_eq!(otlp(&vars).unwrap(), None);
        assert!(
            crate::telemetry::TelemetryConfig::from_lookup("svc", lookup(&vars))
                .unwrap()
                .otlp
                .is_some()
        );
        // Traces off does not turn metrics off.
        assert!(
            otlp(&[
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ])
            .unwrap()
            .is_some()
        );
    }

    #[test]
    fn bad_metrics_settings_are_config_errors_that_name_the_variable() {
        let e = otlp(&[("OTEL_METRICS_EXPORTER", "prometheus")]).unwrap_err();
        assert!(matches!(&e, TelemetryError::Config(m) if m.contains("OTEL_METRICS_EXPORTER")));
        let e = otlp(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
        ])
        .unwrap_err();
        assert!(matches!(e, TelemetryError::Config(_)));
    }

    #[tokio::test]
    async fn a_disabled_provider_measures_and_flushes_without_a_collector() {
        let metrics = build(&MetricsConfig::from_lookup("svc", lookup(&[])).unwrap()).unwrap();
        assert!(!metrics.is_exporting());
        let gauge = metrics.meter("test").u64_gauge("g").build();
        gauge.record(1, &[]);
        metrics.flush().await.unwrap();
        metrics.shutdown().await.unwrap();
    }
}
