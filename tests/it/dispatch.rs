//! The Lambda dispatch chain, every part real: nats-server → `lastmile dispatch` (the binary)
//! → the test kit's Lambda Invoke endpoint → `lastmile function pending` (the binary) under
//! the Runtime API emulator → its diagnosis on NATS.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use lastmile_events::{IncidentFamily, subjects};
use lastmile_runtime::bus::Publisher;
use lastmile_runtime::bus::nats::NatsBus;
use lastmile_runtime::bus::{DLQ_REASON_HEADER, MSG_ID_HEADER, Message, TRACEPARENT_HEADER};
use lastmile_tests::lambda_invoke::{FunctionProcess, InvokeApi};
use lastmile_tests::nats::NatsServer;

use crate::host::{connect, stored, wait_stored};
use crate::lambda::pending_incident;

/// The Lambda the dispatcher invokes for `pending` (its default name, as SAM deploys it).
const LAMBDA: &str = "lastmile-fn-pending";
const BURST: usize = 16;

/// `lastmile dispatch --function pending` against `nats` and `lambda`; killed on drop.
struct Dispatcher(Child);

impl Dispatcher {
    fn spawn(nats: &NatsServer, lambda: &InvokeApi) -> anyhow::Result<Self> {
        let child = Command::new(lastmile_tests::bin::lastmile_bin()?)
            .args([
                "dispatch",
                "--function",
                "pending",
                "--nats-url",
                &nats.url(),
            ])
            .args(["--lambda-endpoint", &lambda.endpoint()])
            .args(["--lambda-region", "us-east-1", "--invoke-timeout", "20s"])
            // Quick retries; the ack wait is above the invoke timeout (as in the manifest).
            .args(["--retry-backoff", "100ms", "--retry-backoff-max", "400ms"])
            .args(["--ack-wait", "25s", "--max-deliver", "5"])
            .env("AWS_ACCESS_KEY_ID", "AKIDLASTMILETEST")
            .env("AWS_SECRET_ACCESS_KEY", "lastmile-test-secret")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env("RUST_LOG", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting lastmile dispatch")?;
        Ok(Self(child))
    }

    /// SIGKILL: no drain, in-flight deliveries unacknowledged.
    fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The real `lastmile function pending`, as Lambda runs it, publishing on `nats`.
async fn pending_on_lambda(
    nats: &NatsServer,
    evidence: &std::path::Path,
) -> anyhow::Result<FunctionProcess> {
    let mut command = Command::new(lastmile_tests::bin::lastmile_bin()?);
    command
        .args(["function", "pending", "--nats-url", &nats.url()])
        .arg("--evidence-dir")
        .arg(evidence)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    FunctionProcess::spawn(command).await
}

fn trace_id(i: usize) -> String {
    format!("{:032x}", 0x4bf9_0000 + i)
}

/// Publishes incident `i` of the burst (Job `burst-<i>`) as the watcher does.
async fn publish_incident(bus: &NatsBus, i: usize) -> anyhow::Result<String> {
    let traceparent = format!("00-{}-00f067aa0ba902b7-01", trace_id(i));
    let event = pending_incident(&format!("burst-{i:02}"), &traceparent);
    let headers = BTreeMap::from([
        (MSG_ID_HEADER.to_owned(), event.id.clone()),
        (TRACEPARENT_HEADER.to_owned(), traceparent),
    ]);
    bus.publish(Message {
        subject: subjects::incident(IncidentFamily::Pending),
        headers,
        payload: event.to_vec()?.into(),
    })
    .await?;
    Ok(event.data.key)
}

/// The diagnoses on the bus: incident key → (diagnosis id, traceparent), failing on a
/// second diagnosis for one incident.
async fn diagnoses(bus: &NatsBus) -> anyhow::Result<BTreeMap<String, (String, String)>> {
    let mut out = BTreeMap::new();
    for message in stored(bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>").await? {
        let body: serde_json::Value = serde_json::from_slice(&message.payload)?;
        let incident = body["data"]["incident"]
            .as_str()
            .context("diagnosis without incident")?
            .to_owned();
        let id = body["data"]["id"].as_str().unwrap_or_default().to_owned();
        let traceparent = body["traceparent"].as_str().unwrap_or_default().to_owned();
        if let Some((first, _)) = out.insert(incident.clone(), (id.clone(), traceparent)) {
            bail!("two diagnoses for {incident}: {first} and {id}");
        }
    }
    Ok(out)
}

async fn wait_diagnoses(
    bus: &NatsBus,
    n: usize,
) -> anyhow::Result<BTreeMap<String, (String, String)>> {
    for _ in 0..900 {
        let got = diagnoses(bus).await?;
        if got.len() >= n {
            return Ok(got);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "fewer than {n} diagnoses after 90s: {:?}",
        diagnoses(bus).await?.keys()
    )
}

/// Waits (bounded) until the dispatcher's durable consumer has nothing left to do.
async fn wait_dispatched(bus: &NatsBus) -> anyhow::Result<()> {
    let stream = bus.jetstream().get_stream("LASTMILE_INCIDENTS").await?;
    for _ in 0..900 {
        let info = stream.consumer_info("lambda-pending").await?;
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("lambda-pending still has work after 90s")
}

#[tokio::test]
async fn dispatch_to_lambda_survives_a_kill_mid_burst_with_one_diagnosis_per_incident()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = connect(&nats).await?;
    bus.ensure_streams().await?;
    let evidence = tempfile::tempdir()?;
    let function = pending_on_lambda(&nats, evidence.path()).await?;
    let lambda = InvokeApi::start([(LAMBDA.to_owned(), function)]).await?;
    // The first two invocations are throttled: they must be retried, not lost.
    lambda.throttle(LAMBDA, 2);
    // Each invocation takes at least 100 ms, so the kill below lands mid-burst however fast
    // the machine is (the function serves one invocation at a time, as one Lambda
    // environment does).
    lambda.set_latency(Duration::from_millis(100));

    let mut keys = Vec::new();
    for i in 0..BURST {
        keys.push(publish_incident(&bus, i).await?);
    }
    // A function error: an event of the wrong type on the incident subject.
    let mut wrong = serde_json::to_value(pending_incident("wrong-type", ""))?;
    wrong["type"] = "dev.lastmile.diagnosis.v1".into();
    wrong
        .as_object_mut()
        .context("object")?
        .remove("traceparent");
    bus.publish(Message {
        subject: subjects::incident(IncidentFamily::Pending),
        headers: BTreeMap::from([(MSG_ID_HEADER.to_owned(), "evt-wrong-type".to_owned())]),
        payload: serde_json::to_vec(&wrong)?.into(),
    })
    .await?;

    // Kill the dispatcher once a few diagnoses are out, then start it again.
    let first = Dispatcher::spawn(&nats, &lambda)?;
    let before_kill = wait_diagnoses(&bus, 3).await?.len();
    first.kill();
    assert!(
        before_kill < BURST,
        "the kill must come mid-burst ({before_kill} of {BURST} done)"
    );
    let _second = Dispatcher::spawn(&nats, &lambda)?;

    // No loss: every incident diagnosed.
    let found = wait_diagnoses(&bus, BURST).await?;
    wait_dispatched(&bus).await?;
    // No duplicate: still one per incident once everything is settled (`diagnoses` fails
    // on a second one), and no diagnosis for the bad event.
    let settled = diagnoses(&bus).await?;
    assert_eq!(settled, found);
    assert_eq!(
        settled.keys().cloned().collect::<BTreeSet<_>>(),
        keys.iter().cloned().collect::<BTreeSet<_>>()
    );

    // The trace context reached the function: each diagnosis is in its incident's trace, and
    // the payload Lambda got carried the dispatcher's span as the parent.
    let calls = lambda.calls();
    for (i, key) in keys.iter().enumerate() {
        let (_, traceparent) = &settled[key];
        assert!(
            traceparent.starts_with(&format!("00-{}-", trace_id(i))),
            "{key}: {traceparent}"
        );
        let event_id = format!("evt-burst-{i:02}-x7k2p-1");
        let sent = calls
            .iter()
            .find(|c| c.event_id.as_deref() == Some(&event_id) && c.status == 200)
            .with_context(|| format!("{event_id} never invoked successfully: {calls:#?}"))?;
        let tp = sent.traceparent.as_deref().unwrap_or_default();
        assert!(tp.starts_with(&format!("00-{}-", trace_id(i))), "{tp}");
        assert!(
            !tp.contains("00f067aa0ba902b7"),
            "the dispatcher's span, not the producer's, is the parent: {tp}"
        );
    }

    // Throttled invocations were retried.
    let throttled: Vec<_> = calls.iter().filter(|c| c.status == 429).collect();
    assert_eq!(throttled.len(), 2, "{calls:#?}");
    for t in throttled {
        assert!(
            calls
                .iter()
                .any(|c| c.event_id == t.event_id && c.status == 200),
            "{:?} was throttled and never retried",
            t.event_id
        );
    }

    // The function error went to the dead-letter subject with the function's reason, once.
    let letters = wait_stored(&bus, "LASTMILE_DLQ", "lastmile.dlq.pending", 1).await?;
    assert_eq!(letters.len(), 1, "one dead letter");
    let reason = letters[0]
        .headers
        .get(DLQ_REASON_HEADER)
        .map(|v| v.as_str().to_owned())
        .context("no reason header")?;
    assert!(
        reason.contains(LAMBDA)
            && reason.contains("lastmile.BadInput")
            && reason.contains("dev.lastmile.diagnosis.v1"),
        "{reason}"
    );
    let wrong_call = calls
        .iter()
        .find(|c| c.event_id.as_deref() == Some("evt-wrong-type-x7k2p-1"))
        .context("the bad event was not invoked")?;
    assert_eq!(wrong_call.function_error.as_deref(), Some("Unhandled"));
    Ok(())
}
