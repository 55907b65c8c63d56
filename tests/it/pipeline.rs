//! Issue-2 end to end, as production runs it: the real `lastmile function pending` binary
//! consumes from a real nats-server, writes evidence to a real S3 server (s3s-fs), exports
//! spans over OTLP/gRPC to a real receiver; the test is the producer.
//!
//! One recorded incident → one diagnosis on `lastmile.diagnosis.<class>` → its evidence
//! manifest and objects in S3 → its remediation commands on `lastmile.remediation.<class>` →
//! all spans in ONE trace rooted at the publisher's span. Then SIGTERM drains and exits 0.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt;
use lastmile_events::{CloudEvent, Diagnosis, Incident, RemediationCommand, subjects};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher};
use lastmile_runtime::evidence::EvidenceStore;
use lastmile_runtime::telemetry::{self, OtlpConfig, OtlpProtocol, Telemetry, TelemetryConfig};
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::otlp::OtlpReceiver;
use lastmile_tests::s3::S3Server;
use sha2::{Digest, Sha256};

const WAIT: Duration = Duration::from_secs(60);
const BUCKET: &str = "lastmile-evidence";
/// An env value planted in the incident's pod; no stored evidence object may hold it.
const PLANTED_SECRET: &str = "e2e-Db-Pa55word-4c8";

/// The recorded Pending Job incident shipped for `lastmile replay`.
fn recorded_incident() -> anyhow::Result<Incident> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/examples/pending-job-insufficient-cpu.json"
    );
    let mut incidents = lastmile_intake::incidents_from_json(&std::fs::read(path)?)?;
    anyhow::ensure!(incidents.len() == 1, "expected one incident in {path}");
    Ok(incidents.remove(0))
}

struct FunctionProcess(tokio::process::Child);

impl FunctionProcess {
    async fn terminate(mut self) -> anyhow::Result<std::process::ExitStatus> {
        let pid = self.0.id().context("function already exited")?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        Ok(tokio::time::timeout(WAIT, self.0.wait()).await??)
    }
}

#[tokio::test]
async fn recorded_incident_through_nats_function_s3_and_otlp_in_one_trace() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let s3 = S3Server::start().await?;
    s3.create_bucket(BUCKET)?;
    let receiver = OtlpReceiver::start().await?;

    let mut child = tokio::process::Command::new(lastmile_bin()?)
        .args(["function", "pending", "--nats-url", &nats.url()])
        .args([
            "--s3-bucket",
            BUCKET,
            "--s3-prefix",
            "e2e",
            "--s3-endpoint",
            &s3.endpoint(),
        ])
        .args(["--s3-force-path-style", "--s3-region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", s3.access_key())
        .env("AWS_SECRET_ACCESS_KEY", s3.secret_key())
        .env_remove("AWS_PROFILE")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_SERVICE_NAME", "lastmile-fn-pending-e2e")
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("LASTMILE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stderr = child.stderr.take().context("no stderr")?;
    let log = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut s = String::new();
        let mut stderr = stderr;
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let function = FunctionProcess(child);

    // Watch what the function publishes (core subscription sees JetStream publishes too).
    let client = async_nats::connect(nats.url()).await?;
    let mut diagnoses = client.subscribe("lastmile.diagnosis.>").await?;
    let mut remediations = client.subscribe("lastmile.remediation.>").await?;

    // The producer: its own telemetry pipeline, exporting to the same receiver.
    let Telemetry { dispatch, guard } = telemetry::build(&TelemetryConfig {
        service_name: "e2e-producer".into(),
        otlp: Some(OtlpConfig {
            protocol: OtlpProtocol::Grpc,
            endpoint: Some(receiver.endpoint()),
            tls: Default::default(),
        }),
        log_filter: "off".into(),
        json_logs: false,
    })?;
    // A secret in the pod's env, as real manifests carry them: the function puts the pod in
    // its evidence and leaves redaction to the host's output boundary, so the stored object
    // must name the variable but not hold its value.
    let mut incident = recorded_incident()?;
    let pod = incident.pod.as_mut().context("the recording has a pod")?;
    let spec = pod.spec.as_mut().context("the pod has a spec")?;
    spec.containers[0].env = Some(vec![k8s_openapi::api::core::v1::EnvVar {
        name: "DB_PASSWORD".into(),
        value: Some(PLANTED_SECRET.into()),
        ..Default::default()
    }]);
    let envelope = CloudEvent::new(
        "e2e-incident-1",
        "/e2e/producer",
        Some(incident.subject.to_string()),
        incident.last_seen,
        incident.clone(),
    );
    let mut headers = BTreeMap::from([(MSG_ID_HEADER.to_owned(), envelope.id.clone())]);
    let trace_id = {
        let _installed = tracing::dispatcher::set_default(&dispatch);
        let producer = tracing::info_span!("e2e.publish incident", otel.kind = "producer");
        producer.in_scope(|| telemetry::inject_current(&mut headers));
        telemetry::trace_id_of(&producer).context("producer span has no trace id")?
    };
    guard.flush().await?;

    // The function may still be creating its consumer; the stream keeps the message anyway.
    let bus = NatsBus::connect(&NatsConfig::with_url(nats.url())).await?;
    bus.ensure_streams().await?;
    bus.publish(Message {
        subject: subjects::incident(incident.family),
        headers,
        payload: Bytes::from(envelope.to_vec()?),
    })
    .await?;

    // One diagnosis, the insufficient-resources one first.
    let msg = tokio::time::timeout(WAIT, diagnoses.next())
        .await?
        .context("diagnosis subscription ended")?;
    let diagnosis = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
    assert_eq!(
        msg.subject.as_str(),
        "lastmile.diagnosis.scheduling.insufficient_resources"
    );
    assert_eq!(
        diagnosis.class.as_str(),
        "scheduling.insufficient_resources"
    );
    assert_eq!(diagnosis.incident.as_deref(), Some(incident.key.as_str()));
    assert_eq!(
        diagnosis.trace_id.as_deref(),
        Some(trace_id.as_str()),
        "the diagnosis names the trace"
    );
    let tp = msg
        .headers
        .as_ref()
        .and_then(|h| h.get("traceparent"))
        .context("diagnosis without traceparent header")?;
    assert!(
        tp.as_str().contains(&trace_id),
        "diagnosis message continues the trace: {tp}"
    );

    // Its evidence: a manifest in S3 listing content-addressed objects that are all there.
    let evidence_ref = diagnosis
        .evidence_ref
        .clone()
        .context("diagnosis without evidence")?;
    assert!(
        evidence_ref
            .store
            .starts_with(&format!("s3://{BUCKET}/e2e")),
        "{}",
        evidence_ref.store
    );
    let store = crate::support::s3_store(&s3, BUCKET, "e2e")?;
    // The stored manifest is the one the diagnosis carries.
    let manifest = crate::support::stored_manifest(&store, &evidence_ref).await?;
    let names: BTreeSet<&str> = manifest.objects.iter().map(|o| o.name.as_str()).collect();
    assert!(
        names.iter().any(|n| n.contains("pod")),
        "pod in evidence: {names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains("event")),
        "events in evidence: {names:?}"
    );
    let mut pod_seen = false;
    for object in &manifest.objects {
        let bytes = store
            .get(&object.key)
            .await?
            .with_context(|| format!("{} missing", object.key))?;
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            object.sha256,
            "{} is content-addressed",
            object.name
        );
        assert_eq!(object.key, format!("objects/sha256/{}", object.sha256));
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(PLANTED_SECRET),
            "{} holds the pod's env value",
            object.name
        );
        if object.name == "pod.json" {
            assert!(
                text.contains("DB_PASSWORD"),
                "the pod evidence lost its env"
            );
            pod_seen = true;
        }
    }
    assert!(pod_seen, "no pod.json in {names:?}");

    // Remediation commands on their subject, pointing back at the diagnosis: every step of
    // the diagnosis received above arrives, on its class's subject, with its command.
    let diagnosis_id = diagnosis.id.clone().context("diagnosis without id")?;
    let expected = diagnosis.remediation.len();
    assert!(expected > 0, "the diagnosis proposes a fix");
    let mut steps = Vec::new();
    while steps.len() < expected {
        let msg = tokio::time::timeout(WAIT, remediations.next())
            .await?
            .context("remediation subscription ended")?;
        let command = CloudEvent::<RemediationCommand>::from_slice(&msg.payload)?.data;
        if command.diagnosis_id != diagnosis_id {
            continue; // a step of another diagnosis of the same incident
        }
        assert_eq!(
            msg.subject.as_str(),
            "lastmile.remediation.scheduling.insufficient_resources"
        );
        assert_eq!(command.class, diagnosis.class);
        assert_eq!(command.incident, incident.key);
        steps.push(command.remediation);
    }
    assert_eq!(
        steps, diagnosis.remediation,
        "the published steps are the diagnosis's"
    );
    assert!(
        steps
            .iter()
            .any(|r| r.command.as_deref().is_some_and(|c| c.contains("kubectl"))),
        "{steps:?}"
    );

    // SIGTERM: drains and exits cleanly (and flushes its spans on the way out).
    let status = function.terminate().await?;
    let log = log.await?;
    assert!(
        status.success(),
        "function exited with {status}; log:\n{log}"
    );

    // One trace: producer (root) → function span → evidence store + publish spans.
    let spans = receiver
        .wait_for_trace(
            &trace_id,
            &[
                "e2e.publish incident",
                "diagnose pending",
                "lastmile.evidence.store",
                "lastmile.diagnosis.publish",
                "lastmile.remediation.publish",
            ],
            WAIT,
        )
        .await?;
    let by_name = |n: &str| {
        spans
            .iter()
            .find(|s| s.name == n)
            .with_context(|| format!("no {n}"))
    };
    let root = by_name("e2e.publish incident")?;
    let func = by_name("diagnose pending")?;
    assert_eq!(root.parent_span_id, "", "the publisher's span is the root");
    assert_eq!(
        func.parent_span_id, root.span_id,
        "the function continues the publisher's trace"
    );
    assert_eq!(
        func.resource.get("service.name").map(String::as_str),
        Some("lastmile-fn-pending-e2e")
    );
    assert_eq!(func.attr("k8s.namespace.name"), Some("ci"));
    assert_eq!(func.attr("k8s.job.name"), Some("integration-tests"));
    assert_eq!(
        func.attr("lastmile.diagnosis.class")
            .map(|c| c.starts_with("scheduling.")),
        Some(true)
    );
    for s in spans.iter().filter(|s| s.name != root.name) {
        assert_eq!(s.trace_id, trace_id);
    }
    for n in [
        "lastmile.evidence.store",
        "lastmile.diagnosis.publish",
        "lastmile.remediation.publish",
    ] {
        assert_eq!(
            by_name(n)?.parent_span_id,
            func.span_id,
            "{n} is a child of the function span"
        );
    }
    Ok(())
}
