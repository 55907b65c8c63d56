//! Traces over real OTLP/gRPC: producer → bus → function → evidence → publish, one trace.
//!
//! The pipeline is the runtime's own (`telemetry::build`, the OTLP exporter, the batch
//! processor) installed for this test's thread only, exporting to a real OTLP/gRPC receiver
//! built on the official protobuf definitions.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use lastmile_contract::Context;
use lastmile_runtime::bus::memory::MemoryBus;
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::telemetry::{self, OtlpConfig, OtlpProtocol, Telemetry, TelemetryConfig};
use lastmile_tests::otlp::{OtlpReceiver, ReceivedSpan};

use crate::host::{FUNCTION, incident_message};

const WAIT: Duration = Duration::from_secs(30);

fn find<'a>(spans: &'a [ReceivedSpan], name: &str) -> anyhow::Result<&'a ReceivedSpan> {
    spans
        .iter()
        .find(|s| s.name == name)
        .with_context(|| format!("no span {name}"))
}

/// The trace context a message header carries: (trace id, parent span id).
fn traceparent(header: &str) -> anyhow::Result<(String, String)> {
    let parts: Vec<&str> = header.split('-').collect();
    anyhow::ensure!(
        parts.len() == 4 && parts[0] == "00",
        "malformed traceparent {header}"
    );
    Ok((parts[1].to_owned(), parts[2].to_owned()))
}

#[tokio::test]
async fn one_trace_from_producer_through_the_bus_to_function_evidence_and_remediation()
-> anyhow::Result<()> {
    let receiver = OtlpReceiver::start().await?;
    let config = TelemetryConfig {
        service_name: "lastmile-telemetry-test".into(),
        otlp: Some(OtlpConfig {
            protocol: OtlpProtocol::Grpc,
            endpoint: Some(receiver.endpoint()),
            tls: Default::default(),
        }),
        log_filter: "off".into(),
        json_logs: false,
    };
    let Telemetry { dispatch, guard } = telemetry::build(&config)?;
    let _installed = tracing::dispatcher::set_default(&dispatch);

    // Producer: publishes the incident with its trace context in the message headers.
    let mut message = incident_message("api-7c9f8d6b5-x2x9q", None);
    let producer = tracing::info_span!(
        "lastmile.incident.publish",
        otel.kind = "producer",
        messaging.system = "nats",
        messaging.destination.name = %message.subject,
        // A leak a careless producer might record; it must not leave the process.
        url.full = "https://ci-bot:hunter2-Secret@registry.example.com/v2/",
    );
    producer.in_scope(|| {
        tracing::info!("publishing with Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLXg");
        telemetry::inject_current(&mut message.headers);
    });
    let trace_id =
        telemetry::trace_id_of(&producer).context("the producer span has no trace id")?;
    drop(producer);

    // Bus → function: the executor consumes the message as every host does.
    let bus = MemoryBus::new();
    let evidence = tempfile::tempdir()?;
    let executor = Executor::new(
        FUNCTION,
        Context::offline(),
        Arc::new(LocalStore::new(evidence.path())?),
        Arc::new(bus.clone()),
    );
    let processed = executor.process(&message).await?;
    assert_eq!(processed.diagnoses.len(), 1);
    assert_eq!(
        processed.diagnoses[0].trace_id.as_deref(),
        Some(trace_id.as_str()),
        "the diagnosis names its trace"
    );

    guard.flush().await?;
    let spans = receiver
        .wait_for_trace(
            &trace_id,
            &[
                "lastmile.incident.publish",
                "diagnose host-test",
                "lastmile.evidence.store",
                "lastmile.diagnosis.publish",
                "lastmile.remediation.publish",
            ],
            WAIT,
        )
        .await?;

    let root = find(&spans, "lastmile.incident.publish")?;
    let function = find(&spans, "diagnose host-test")?;
    let store = find(&spans, "lastmile.evidence.store")?;
    let diagnosis = find(&spans, "lastmile.diagnosis.publish")?;
    let remediation = find(&spans, "lastmile.remediation.publish")?;
    assert_eq!(root.parent_span_id, "", "the producer span is the root");
    assert_eq!(
        function.parent_span_id, root.span_id,
        "function is a child of the producer across the bus"
    );
    for child in [store, diagnosis, remediation] {
        assert_eq!(
            child.parent_span_id, function.span_id,
            "{} is a child of the function span",
            child.name
        );
    }
    let ids: std::collections::BTreeSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(ids.len(), spans.len(), "distinct span ids");

    // Semantic-convention attributes and span kinds.
    assert_eq!(root.kind, 4, "producer");
    assert_eq!(function.kind, 5, "consumer");
    assert_eq!(function.attr("faas.name"), Some("host-test"));
    assert_eq!(function.attr("messaging.system"), Some("nats"));
    assert_eq!(function.attr("k8s.namespace.name"), Some("ci"));
    assert_eq!(function.attr("k8s.pod.name"), Some("api-7c9f8d6b5-x2x9q"));
    assert_eq!(
        function.attr("lastmile.diagnosis.class"),
        Some("scheduling.insufficient_resources")
    );
    let expected_service =
        std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "lastmile-telemetry-test".into());
    assert_eq!(
        function.resource.get("service.name"),
        Some(&expected_service)
    );

    // Nothing secret left the process.
    assert_eq!(
        root.attr("url.full"),
        Some("https://[REDACTED]@registry.example.com/v2/")
    );
    for span in &spans {
        let all = format!("{span:?}");
        assert!(
            !all.contains("hunter2-Secret") && !all.contains("c2lnbmF0dXJlLXg"),
            "secret in {}: {all}",
            span.name
        );
    }
    assert!(
        root.events
            .iter()
            .any(|e| e.contains("Authorization: Bearer [REDACTED]")),
        "{:?}",
        root.events
    );

    // The trace continues on the bus: what the function published carries it onward.
    let published = bus.published("lastmile.remediation.>");
    assert_eq!(published.len(), 1);
    let (tid, parent) = traceparent(
        published[0]
            .header("traceparent")
            .context("remediation without traceparent")?,
    )?;
    assert_eq!(
        (tid.as_str(), parent.as_str()),
        (trace_id.as_str(), remediation.span_id.as_str())
    );
    let published = bus.published("lastmile.diagnosis.>");
    let (tid, parent) = traceparent(
        published[0]
            .header("traceparent")
            .context("diagnosis without traceparent")?,
    )?;
    assert_eq!(
        (tid.as_str(), parent.as_str()),
        (trace_id.as_str(), diagnosis.span_id.as_str())
    );
    Ok(())
}

#[tokio::test]
async fn traceparent_in_the_cloudevent_envelope_continues_the_trace() -> anyhow::Result<()> {
    // Lambda invocations carry no transport headers: the envelope's extension attribute is
    // the parent. Spans are not exported here; ids are still generated and propagated.
    let config = TelemetryConfig {
        service_name: "t".into(),
        otlp: None,
        log_filter: "off".into(),
        json_logs: false,
    };
    let Telemetry { dispatch, guard } = telemetry::build(&config)?;
    let _installed = tracing::dispatcher::set_default(&dispatch);
    assert!(!guard.is_exporting());

    let message = incident_message("web-0", None);
    let mut event: serde_json::Value = serde_json::from_slice(&message.payload)?;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    event["traceparent"] = format!("00-{trace_id}-00f067aa0ba902b7-01").into();
    let mut bare = message.clone();
    bare.headers
        .retain(|k, _| !k.eq_ignore_ascii_case("traceparent"));
    bare.payload = serde_json::to_vec(&event)?.into();

    let bus = MemoryBus::new();
    let evidence = tempfile::tempdir()?;
    let executor = Executor::new(
        FUNCTION,
        Context::offline(),
        Arc::new(LocalStore::new(evidence.path())?),
        Arc::new(bus.clone()),
    );
    let processed = executor.process(&bare).await?;
    assert_eq!(processed.diagnoses[0].trace_id.as_deref(), Some(trace_id));
    let published = bus.published("lastmile.diagnosis.>");
    let (tid, parent) = traceparent(
        published[0]
            .header("traceparent")
            .context("no traceparent")?,
    )?;
    assert_eq!(tid, trace_id);
    assert_ne!(parent, "00f067aa0ba902b7", "a new span in the same trace");
    guard.flush().await?;
    Ok(())
}

#[tokio::test]
async fn otlp_http_protobuf_export_carries_a_parent_child_chain_across_headers()
-> anyhow::Result<()> {
    let receiver = OtlpReceiver::start().await?;
    let config = TelemetryConfig {
        service_name: "lastmile-http-test".into(),
        otlp: Some(OtlpConfig {
            protocol: OtlpProtocol::HttpProtobuf,
            endpoint: Some(receiver.http_traces_url()),
            tls: Default::default(),
        }),
        log_filter: "off".into(),
        json_logs: false,
    };
    let Telemetry { dispatch, guard } = telemetry::build(&config)?;
    let _installed = tracing::dispatcher::set_default(&dispatch);

    // producer → (headers on the bus) → consumer → its child: three processes' worth of spans.
    let mut headers = std::collections::BTreeMap::new();
    let producer = tracing::info_span!(
        "ci.deploy.publish",
        otel.kind = "producer",
        cicd.pipeline.name = "deploy-api"
    );
    producer.in_scope(|| telemetry::inject_current(&mut headers));
    let trace_id = telemetry::trace_id_of(&producer).context("no trace id")?;
    drop(producer);
    let consumer = tracing::info_span!(
        "watcher.consume",
        otel.kind = "consumer",
        messaging.system = "nats"
    );
    telemetry::set_parent_from(&consumer, &headers);
    consumer.in_scope(|| {
        let write = tracing::info_span!("evidence.write");
        drop(write);
    });
    drop(consumer);

    guard.flush().await?;
    let spans = receiver
        .wait_for_trace(
            &trace_id,
            &["ci.deploy.publish", "watcher.consume", "evidence.write"],
            WAIT,
        )
        .await?;
    let producer = find(&spans, "ci.deploy.publish")?;
    let consumer = find(&spans, "watcher.consume")?;
    let write = find(&spans, "evidence.write")?;
    assert_eq!(producer.parent_span_id, "");
    assert_eq!(consumer.parent_span_id, producer.span_id);
    assert_eq!(write.parent_span_id, consumer.span_id);
    assert_eq!(producer.attr("cicd.pipeline.name"), Some("deploy-api"));
    assert!(receiver.requests() >= 1);
    Ok(())
}
