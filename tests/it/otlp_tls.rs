//! Spans exported over OTLP/gRPC with TLS, configured by the standard variables
//! (`OTEL_EXPORTER_OTLP_CERTIFICATE`, `…_CLIENT_CERTIFICATE`, `…_CLIENT_KEY`): a collector
//! behind a private CA, and one that requires a client certificate. The receiver is the real
//! OTLP/gRPC server of the test kit, serving TLS.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use lastmile_runtime::telemetry::{self, Telemetry, TelemetryConfig};
use lastmile_tests::otlp::OtlpReceiver;
use lastmile_tests::registry::TestCa;

/// Builds the telemetry config from `vars` as a process would from its environment, exports
/// one span, flushes, and returns its trace id.
async fn export_one_span(vars: &BTreeMap<&str, String>, endpoint: &str) -> anyhow::Result<String> {
    let mut config =
        TelemetryConfig::from_lookup("lastmile-otlp-tls-test", |k| vars.get(k).cloned())?;
    let otlp = config.otlp.as_mut().expect("OTLP export is configured");
    otlp.endpoint = Some(endpoint.to_owned());
    config.log_filter = "off".into();
    let Telemetry { dispatch, guard } = telemetry::build(&config)?;
    let trace_id = {
        let _installed = tracing::dispatcher::set_default(&dispatch);
        let span = tracing::info_span!("lastmile.tls.check");
        let id = telemetry::trace_id_of(&span).expect("a trace id");
        drop(span);
        id
    };
    let _ = guard.flush().await;
    Ok(trace_id)
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<String> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path.display().to_string())
}

#[tokio::test]
async fn spans_reach_a_collector_with_a_private_ca_over_grpc_tls() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("lastmile test collector CA")?;
    let (cert, key) = ca.issue(&["127.0.0.1"])?;
    let receiver = OtlpReceiver::start_tls(&cert, &key, None).await?;
    assert!(receiver.endpoint().starts_with("https://"));
    let vars = BTreeMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            write(dir.path(), "ca.pem", &ca.pem())?,
        ),
    ]);
    let trace_id = export_one_span(&vars, &receiver.endpoint()).await?;
    let spans = receiver
        .wait_for_trace(&trace_id, &["lastmile.tls.check"], Duration::from_secs(20))
        .await?;
    assert_eq!(spans.len(), 1);
    Ok(())
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("lastmile test collector CA")?;
    let (cert, key) = ca.issue(&["127.0.0.1"])?;
    let (client_cert, client_key) = ca.issue(&["lastmile-function"])?;
    let receiver = OtlpReceiver::start_tls(&cert, &key, Some(&ca.pem())).await?;
    let ca_path = write(dir.path(), "ca.pem", &ca.pem())?;

    // Without a client certificate the collector refuses the export: nothing arrives.
    let anonymous = BTreeMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca_path.clone()),
    ]);
    export_one_span(&anonymous, &receiver.endpoint()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.spans().len(),
        0,
        "an export without a client certificate"
    );

    let mutual = BTreeMap::from([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca_path),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            write(dir.path(), "client.pem", &client_cert)?,
        ),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            write(dir.path(), "client-key.pem", &client_key)?,
        ),
    ]);
    let trace_id = export_one_span(&mutual, &receiver.endpoint()).await?;
    receiver
        .wait_for_trace(&trace_id, &["lastmile.tls.check"], Duration::from_secs(20))
        .await?;
    Ok(())
}

#[test]
fn a_client_certificate_without_its_key_is_a_configuration_error() {
    let vars = BTreeMap::from([
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector:4317".to_owned(),
        ),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            "/nonexistent.pem".to_owned(),
        ),
    ]);
    let config = TelemetryConfig::from_lookup("t", |k| vars.get(k).cloned()).unwrap();
    let Err(err) = telemetry::build(&config) else {
        panic!("a client certificate without a key must be refused");
    };
    assert!(err.to_string().contains("CLIENT_KEY"), "{err}");
}

#[test]
fn certificates_with_http_protobuf_are_refused_not_ignored() {
    let vars = BTreeMap::from([
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector:4318".to_owned(),
        ),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem".to_owned()),
    ]);
    let err = TelemetryConfig::from_lookup("t", |k| vars.get(k).cloned()).unwrap_err();
    assert!(err.to_string().contains("grpc"), "{err}");
}
