#![allow(clippy::unwrap_used)]

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
            endpoint: None,
            tls: Default::default(),
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
    assert!(
        matches!(&e, TelemetryError::Config(m) if m.as_str().contains("OTEL_METRICS_EXPORTER"))
    );
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
