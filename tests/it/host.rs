//! The consumer host on a real nats-server (and on the memory bus): settle rules,
//! dead-lettering, replicas, at-least-once, restarts, graceful drain.
//!
//! The function under test is a tiny one defined here, so the tests pin the host's
//! behaviour, not a diagnosis rule: it returns one diagnosis with one remediation step, or
//! fails as the incident's `text` asks (`retryable`, `permanent`, `slow`).

#![allow(clippy::unwrap_used)]

mod delivery;
mod lifecycle;
mod settle;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::{TimeZone, Utc};
use lastmile_contract::{Context, EvidenceItem, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{
    Class, CloudEvent, Diagnosis, Incident, IncidentFamily, ObjectRef, Remediation, Subject,
    subjects,
};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{Bus, MSG_ID_HEADER, Message, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::nats::{self as host, HostOptions, HostReport};
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

/// How many `slow` handlers have started in this test process: a delivery the server
/// counts as pending may still sit in the host's buffer, so tests that need the handler
/// running wait for this instead.
static SLOW_STARTED: AtomicUsize = AtomicUsize::new(0);

async fn handle(incident: &Incident, _ctx: &Context) -> Result<Outcome, FunctionError> {
    match incident.text.as_deref() {
        Some("retryable") => return Err(FunctionError::retryable("registry timed out (test)")),
        Some("permanent") => return Err(FunctionError::permanent("bug in the function (test)")),
        Some("slow") => {
            SLOW_STARTED.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
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
        retry_for: Duration::from_secs(5),
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
