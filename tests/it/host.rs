//! The consumer host on a real nats-server (and on the memory bus): settle rules,
//! dead-lettering, replicas, at-least-once, restarts, graceful drain.
//!
//! The function under test is a tiny one defined here, so the tests pin the host's
//! behaviour, not a diagnosis rule: it returns one diagnosis with one remediation step, or
//! fails as the incident's `text` asks (`retryable`, `permanent`, `slow`).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::{TimeZone, Utc};
use lastmile_contract::{Context, EvidenceItem, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{
    Class, CloudEvent, Diagnosis, Incident, IncidentFamily, ObjectRef, Remediation, Subject,
    subjects,
};
use lastmile_runtime::bus::memory::MemoryBus;
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{
    Bus, DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER, MSG_ID_HEADER, Message, Publisher,
};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::inprocess;
use lastmile_runtime::host::nats::{self as host, DLQ_ATTEMPTS_HEADER, HostOptions, HostReport};
use lastmile_tests::nats::NatsServer;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The test function's spec: consumes pending incidents as durable `host-test`.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "host-test",
    description: "Test function: one diagnosis per incident, or the failure the incident asks for.",
    families: &[IncidentFamily::Pending],
    deadline: Duration::from_secs(20),
    max_evidence_bytes: 64 * 1024,
};

/// The test function.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};

async fn handle(incident: &Incident, _ctx: &Context) -> Result<Outcome, FunctionError> {
    match incident.text.as_deref() {
        Some("retryable") => return Err(FunctionError::retryable("registry timed out (test)")),
        Some("permanent") => return Err(FunctionError::permanent("bug in the function (test)")),
        Some("slow") => tokio::time::sleep(Duration::from_millis(1500)).await,
        _ => {}
    }
    let subject = Subject {
        kind: incident.subject.kind.clone(),
        namespace: incident.subject.namespace.clone(),
        name: incident.subject.name.clone(),
        container: None,
    };
    let mut diagnosis = Diagnosis::new(
        Class::INSUFFICIENT_RESOURCES,
        0.9,
        "0/3 nodes are available: 3 Insufficient cpu.",
        subject,
    );
    diagnosis.evidence = vec!["0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.".into()];
    diagnosis.remediation = vec![Remediation {
        description: "Lower the CPU request so the pod fits a node.".into(),
        command: Some(format!(
            "kubectl -n {} set resources job/{} --requests=cpu=500m",
            incident.subject.namespace.as_deref().unwrap_or("default"),
            incident.subject.name
        )),
    }];
    let evidence = vec![EvidenceItem::text("incident-key.txt", incident.key.clone())];
    Ok(Outcome {
        diagnoses: vec![diagnosis],
        evidence,
    })
}

/// A pending-pod incident as a structured CloudEvent message, `Nats-Msg-Id` = event id.
pub fn incident_message(name: &str, text: Option<&str>) -> Message {
    let time = Utc.with_ymd_and_hms(2026, 3, 3, 10, 2, 11).unwrap();
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: name.into(),
        uid: None,
        field_path: None,
    };
    let mut incident = Incident::new(IncidentFamily::Pending, pod, None, time);
    incident.text = text.map(str::to_owned);
    let id = format!("incident-{name}");
    let event = CloudEvent::new(
        id.clone(),
        "/lastmile/test",
        Some(format!("pod/ci/{name}")),
        time,
        incident,
    );
    let mut headers = BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), id);
    Message {
        subject: subjects::incident(IncidentFamily::Pending),
        headers,
        payload: event.to_vec().unwrap().into(),
    }
}

/// Options suited to tests: quick retries, short waits.
pub fn test_options() -> HostOptions {
    HostOptions {
        concurrency: 4,
        max_deliver: 3,
        ack_wait: Duration::from_secs(2),
        retry_backoff: Duration::from_millis(100),
        retry_backoff_max: Duration::from_millis(400),
        drain_timeout: Duration::from_secs(20),
    }
}

/// A server with lastmile's streams, a connected bus and an evidence directory.
pub struct Rig {
    /// The server.
    pub server: NatsServer,
    /// A bus for the test's own publishing and inspection.
    pub bus: NatsBus,
    /// Evidence directory.
    pub evidence: tempfile::TempDir,
}

impl Rig {
    /// Starts everything.
    pub async fn start() -> anyhow::Result<Self> {
        let server = NatsServer::start().await?;
        let bus = connect(&server).await?;
        bus.ensure_streams().await?;
        let evidence = tempfile::tempdir()?;
        Ok(Self {
            server,
            bus,
            evidence,
        })
    }

    /// An executor for the test function publishing on `bus`.
    pub fn executor(&self, bus: Arc<dyn Publisher>) -> Executor {
        let store = LocalStore::new(self.evidence.path()).unwrap();
        Executor::new(FUNCTION, Context::offline(), Arc::new(store), bus)
    }

    /// Starts a host replica on its own connection.
    pub async fn spawn_host(&self, opts: HostOptions) -> anyhow::Result<Replica> {
        let bus: Arc<NatsBus> = Arc::new(connect(&self.server).await?);
        let executor = self.executor(bus.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(host::run(executor, bus as Arc<dyn Bus>, opts, shutdown));
        Ok(Replica { stop, task })
    }

    /// Manifests written for the test function.
    pub fn manifests(&self) -> Vec<std::path::PathBuf> {
        let dir = self.evidence.path().join("manifests").join(SPEC.name);
        std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    }
}

/// A running host.
pub struct Replica {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<HostReport, host::HostError>>,
}

impl Replica {
    /// Signals shutdown and waits for `run` to return.
    pub async fn stop(self) -> anyhow::Result<HostReport> {
        let _ = self.stop.send(());
        let report = tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .context("host did not stop")???;
        Ok(report)
    }
}

/// Connects a bus with short timeouts.
pub async fn connect(server: &NatsServer) -> anyhow::Result<NatsBus> {
    let config = NatsConfig {
        request_timeout: Duration::from_secs(3),
        pull_batch: 4,
        ..NatsConfig::with_url(server.url())
    };
    Ok(NatsBus::connect(&config).await?)
}

/// Every message stored on `stream` whose subject matches `filter`.
pub async fn stored(
    bus: &NatsBus,
    stream: &str,
    filter: &str,
) -> anyhow::Result<Vec<async_nats::jetstream::message::StreamMessage>> {
    let stream = bus.jetstream().get_stream(stream).await?;
    let last = stream.get_info().await?.state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        // A sequence can be missing (deleted or expired); skip it.
        if let Ok(message) = stream.get_raw_message(seq).await
            && lastmile_runtime::bus::memory::subject_matches(filter, &message.subject)
        {
            out.push(message);
        }
    }
    Ok(out)
}

/// Waits (bounded) until `stored` holds at least `n` messages, and returns them.
pub async fn wait_stored(
    bus: &NatsBus,
    stream: &str,
    filter: &str,
    n: usize,
) -> anyhow::Result<Vec<async_nats::jetstream::message::StreamMessage>> {
    for _ in 0..600 {
        let got = stored(bus, stream, filter).await?;
        if got.len() >= n {
            return Ok(got);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("fewer than {n} messages on {filter} after 60s")
}

/// The consumer's state on the server.
pub async fn consumer_info(bus: &NatsBus) -> anyhow::Result<async_nats::jetstream::consumer::Info> {
    let stream = bus.jetstream().get_stream("LASTMILE_INCIDENTS").await?;
    Ok(stream.consumer_info(SPEC.name).await?)
}

/// Waits (bounded) until the consumer has nothing pending and nothing unacknowledged.
pub async fn wait_consumer_done(bus: &NatsBus) -> anyhow::Result<()> {
    for _ in 0..600 {
        let info = consumer_info(bus).await?;
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("consumer still has work after 60s")
}

fn header<'a>(
    message: &'a async_nats::jetstream::message::StreamMessage,
    name: &str,
) -> Option<&'a str> {
    message.headers.get(name).map(|v| v.as_str())
}

fn diagnosis_ids(
    messages: &[async_nats::jetstream::message::StreamMessage],
) -> std::collections::BTreeSet<String> {
    messages
        .iter()
        .map(|m| CloudEvent::<Diagnosis>::from_slice(&m.payload).unwrap().id)
        .collect()
}

#[tokio::test]
async fn two_replicas_share_one_durable_and_process_each_message_once() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let one = rig.spawn_host(test_options()).await?;
    let two = rig.spawn_host(test_options()).await?;
    let n = 30;
    for i in 0..n {
        rig.bus
            .publish(incident_message(&format!("integration-tests-{i}"), None))
            .await?;
    }
    let diagnoses = wait_stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", n).await?;
    wait_consumer_done(&rig.bus).await?;
    let (a, b) = (one.stop().await?, two.stop().await?);
    assert_eq!(a.processed + b.processed, n as u64, "{a:?} {b:?}");
    assert_eq!(a.dead_lettered + b.dead_lettered + a.retried + b.retried, 0);
    let deliveries = consumer_info(&rig.bus).await?.delivered.consumer_sequence;
    assert_eq!(deliveries, n as u64, "no message was delivered twice");
    assert_eq!(diagnosis_ids(&diagnoses).len(), n);
    let remediations = stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.remediation.>").await?;
    assert_eq!(remediations.len(), n);
    assert_eq!(rig.manifests().len(), n);
    Ok(())
}

#[tokio::test]
async fn poison_message_is_dead_lettered_with_the_parse_error_and_the_next_is_processed()
-> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let replica = rig.spawn_host(test_options()).await?;
    // A truncated envelope, as a crashed producer might leave it.
    let mut headers = BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), "poison-1".to_owned());
    headers.insert(
        "traceparent".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    );
    let poison = Message {
        subject: subjects::incident(IncidentFamily::Pending),
        headers,
        payload:
            br#"{"specversion":"1.0","id":"x","type":"dev.lastmile.incident.v1","data":{"key":"#
                .to_vec()
                .into(),
    };
    rig.bus.publish(poison.clone()).await?;
    rig.bus
        .publish(incident_message("after-the-poison", None))
        .await?;

    let dead = wait_stored(&rig.bus, "LASTMILE_DLQ", "lastmile.dlq.host-test", 1).await?;
    let diagnoses = wait_stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", 1).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;

    assert_eq!(dead.len(), 1);
    let letter = &dead[0];
    assert_eq!(
        letter.payload, poison.payload,
        "the original bytes are kept"
    );
    let reason = header(letter, DLQ_REASON_HEADER).unwrap();
    assert!(
        reason.contains("malformed CloudEvent") && reason.contains("EOF"),
        "{reason}"
    );
    assert_eq!(
        header(letter, DLQ_SUBJECT_HEADER),
        Some("lastmile.incident.pending")
    );
    assert_eq!(
        header(letter, DLQ_ATTEMPTS_HEADER),
        Some("1"),
        "bad input is not retried"
    );
    assert_eq!(header(letter, "traceparent"), poison.header("traceparent"));
    assert_eq!(diagnoses.len(), 1);
    let diagnosis = CloudEvent::<Diagnosis>::from_slice(&diagnoses[0].payload)?;
    assert_eq!(diagnosis.data.subject.name, "after-the-poison");
    assert_eq!(
        (report.processed, report.dead_lettered, report.retried),
        (1, 1, 0)
    );
    Ok(())
}

#[tokio::test]
async fn retryable_failures_are_naked_then_dead_lettered_after_max_deliver() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let replica = rig.spawn_host(test_options()).await?;
    rig.bus
        .publish(incident_message("flaky-registry", Some("retryable")))
        .await?;
    rig.bus
        .publish(incident_message("buggy", Some("permanent")))
        .await?;

    let dead = wait_stored(&rig.bus, "LASTMILE_DLQ", "lastmile.dlq.>", 2).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;

    let by_reason = |needle: &str| {
        dead.iter()
            .find(|m| header(m, DLQ_REASON_HEADER).is_some_and(|r| r.contains(needle)))
    };
    let retried = by_reason("registry timed out").context("retryable message not dead-lettered")?;
    assert_eq!(
        header(retried, DLQ_ATTEMPTS_HEADER),
        Some("3"),
        "dead-lettered at max_deliver"
    );
    assert!(
        header(retried, DLQ_REASON_HEADER)
            .unwrap()
            .starts_with("retryable:")
    );
    let permanent =
        by_reason("bug in the function").context("permanent failure not dead-lettered")?;
    assert_eq!(
        header(permanent, DLQ_ATTEMPTS_HEADER),
        Some("1"),
        "permanent errors are not retried"
    );
    assert_eq!(
        (report.retried, report.dead_lettered, report.processed),
        (2, 2, 0)
    );
    assert!(
        stored(&rig.bus, "LASTMILE_DIAGNOSES", ">")
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn consumer_dying_after_side_effects_before_ack_yields_one_diagnosis_and_one_manifest()
-> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let opts = test_options();
    rig.bus
        .publish(incident_message("migrate-x7k2p", None))
        .await?;

    // The first consumer: pulls, does all the work (evidence, diagnosis, remediation)…
    {
        let crashing: Arc<NatsBus> = Arc::new(connect(&rig.server).await?);
        let executor = rig.executor(crashing.clone());
        let mut subscription = crashing.subscribe(&opts.consumer_spec(&SPEC)).await?;
        let delivery = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await?
            .context("subscription ended")??;
        assert_eq!(delivery.attempt, 1);
        let processed = executor.process(&delivery.message).await?;
        assert_eq!(processed.diagnoses.len(), 1);
        // …and dies before acknowledging: delivery, subscription and connection are dropped.
    }
    assert_eq!(rig.manifests().len(), 1);

    // The replacement gets the redelivery once the ack wait passes, and redoes the work.
    let replica = rig.spawn_host(opts).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;
    assert_eq!(report.processed, 1, "{report:?}");
    let deliveries = consumer_info(&rig.bus).await?.delivered.consumer_sequence;
    assert_eq!(
        deliveries, 2,
        "one delivery to the crashed consumer, one redelivery"
    );

    let diagnoses = stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>").await?;
    assert_eq!(
        diagnoses.len(),
        1,
        "the redelivery's diagnosis is dropped as a duplicate"
    );
    assert_eq!(
        stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.remediation.>")
            .await?
            .len(),
        1
    );
    assert_eq!(
        rig.manifests().len(),
        1,
        "the manifest is rewritten in place"
    );
    Ok(())
}

#[tokio::test]
async fn host_resumes_after_a_nats_restart_without_losing_acknowledged_work() -> anyhow::Result<()>
{
    let mut rig = Rig::start().await?;
    let replica = rig.spawn_host(test_options()).await?;
    for i in 0..5 {
        rig.bus
            .publish(incident_message(&format!("before-{i}"), None))
            .await?;
    }
    wait_stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", 5).await?;
    wait_consumer_done(&rig.bus).await?;

    rig.server.restart().await?;

    for i in 0..5 {
        let message = incident_message(&format!("after-{i}"), None);
        // The test's own client reconnects too; retry while it does.
        let mut sent = false;
        for _ in 0..100 {
            if rig.bus.publish(message.clone()).await.is_ok() {
                sent = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(sent, "could not publish after the restart");
    }
    let diagnoses = wait_stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", 10).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;

    let names: std::collections::BTreeSet<String> = diagnoses
        .iter()
        .map(|m| {
            CloudEvent::<Diagnosis>::from_slice(&m.payload)
                .unwrap()
                .data
                .subject
                .name
        })
        .collect();
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(diagnoses.len(), 10, "no duplicate diagnoses");
    assert!(names.contains("before-0") && names.contains("after-4"));
    // Every event was processed. An ack racing the SIGKILL may be lost from the server's
    // consumer state and that message processed twice, which the dedupe above absorbs.
    assert!(report.processed >= 10, "{report:?}");
    assert_eq!(report.dead_lettered, 0);
    Ok(())
}

#[tokio::test]
async fn shutdown_waits_for_a_slow_handler_to_finish_and_ack() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let replica = rig.spawn_host(test_options()).await?;
    rig.bus
        .publish(incident_message("slow-one", Some("slow")))
        .await?;
    // Wait until the handler holds the delivery, then ask the host to stop.
    let mut started = false;
    for _ in 0..300 {
        if consumer_info(&rig.bus).await?.num_ack_pending == 1 {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(started, "the handler never started");
    let report = replica.stop().await?;

    assert_eq!((report.processed, report.abandoned), (1, 0), "{report:?}");
    let info = consumer_info(&rig.bus).await?;
    assert_eq!(
        (info.num_ack_pending, info.num_pending),
        (0, 0),
        "acked before run() returned"
    );
    assert_eq!(
        stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>")
            .await?
            .len(),
        1
    );
    Ok(())
}

#[tokio::test]
async fn in_process_host_settles_like_the_nats_host() -> anyhow::Result<()> {
    let bus = MemoryBus::new();
    let evidence = tempfile::tempdir()?;
    let executor = Executor::new(
        FUNCTION,
        Context::offline(),
        Arc::new(LocalStore::new(evidence.path())?),
        Arc::new(bus.clone()),
    );
    bus.publish(incident_message("ok-1", None)).await?;
    bus.publish(Message {
        payload: b"not json".to_vec().into(),
        ..incident_message("poison", None)
    })
    .await?;
    bus.publish(incident_message("flaky", Some("retryable")))
        .await?;
    bus.publish(incident_message("ok-2", None)).await?;
    // A redelivered publish of the same incident is dropped by its Nats-Msg-Id.
    bus.publish(incident_message("ok-2", None)).await?;

    let report = tokio::time::timeout(
        Duration::from_secs(60),
        inprocess::run_until_idle(executor, &bus, test_options()),
    )
    .await??;
    assert_eq!(
        (report.processed, report.retried, report.dead_lettered),
        (2, 2, 2),
        "{report:?}"
    );
    assert_eq!(bus.published("lastmile.diagnosis.>").len(), 2);
    assert_eq!(bus.published("lastmile.remediation.>").len(), 2);
    let dead = bus.published("lastmile.dlq.host-test");
    let reasons: Vec<&str> = dead
        .iter()
        .filter_map(|m| m.header(DLQ_REASON_HEADER))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("malformed CloudEvent")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("registry timed out")),
        "{reasons:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_handler_running_past_ack_wait_keeps_its_delivery() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    // The handler sleeps 1.5 s; the host reports progress every 0.5 s.
    let opts = HostOptions {
        ack_wait: Duration::from_secs(1),
        ..test_options()
    };
    let replica = rig.spawn_host(opts).await?;
    rig.bus
        .publish(incident_message("slower-than-ack-wait", Some("slow")))
        .await?;
    wait_stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", 1).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;
    assert_eq!(report.processed, 1, "{report:?}");
    let deliveries = consumer_info(&rig.bus).await?.delivered.consumer_sequence;
    assert_eq!(
        deliveries, 1,
        "the server redelivered a message still being worked on"
    );
    Ok(())
}
