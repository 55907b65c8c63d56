//! Pipeline benchmark: N recorded incidents through NATS JetStream → the `pending` function
//! → the evidence store (a local directory) → diagnosis and remediation publishes, next to
//! raw JetStream publish → consume for the same N and the same payload on the same server
//! in the same run.
//!
//! ```text
//! cargo bench -p lastmile-e2e --bench pipeline            # N = 2000
//! cargo bench -p lastmile-e2e --bench pipeline -- 5000    # N = 5000
//! ```
//!
//! Latency is per event: from the start of its publish to the moment its diagnosis (or, for
//! the raw run, the message itself) reaches a subscriber. Throughput is N over the time from
//! the first publish to the last arrival.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::StreamExt;
use lastmile_contract::Context;
use lastmile_e2e::nats::NatsServer;
use lastmile_events::{CloudEvent, Diagnosis, Incident, IncidentFamily, subjects};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{Bus, MSG_ID_HEADER, Message, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::nats::{self as host, HostOptions};

/// Publishes in flight at once (both runs).
const PUBLISH_WINDOW: usize = 64;
/// Host workers.
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse())
        .transpose()
        .context("the argument is the number of events")?
        .unwrap_or(2000);
    let server = NatsServer::start().await?;
    let incident = recorded_incident()?;
    let payloads: Vec<Message> = (0..n)
        .map(|i| incident_message(&incident, i))
        .collect::<anyhow::Result<_>>()?;
    let size = payloads.first().map_or(0, |m| m.payload.len());
    println!(
        "lastmile pipeline bench: N = {n}, payload {size} bytes, nats-server {}",
        server.url()
    );

    let raw = raw_jetstream(&server, &payloads).await?;
    let pipeline = pipeline(&server, &payloads).await?;

    println!(
        "{:<42} {:>10} {:>10} {:>10}",
        "", "events/s", "p50 ms", "p99 ms"
    );
    raw.print("raw JetStream publish -> consume");
    pipeline.print(&format!("NATS -> pending -> evidence (c={CONCURRENCY})"));
    println!(
        "pipeline / raw throughput: {:.3} ({:.1}x slower)",
        pipeline.rate / raw.rate,
        raw.rate / pipeline.rate
    );
    Ok(())
}

/// The recorded Pending incident from `events/examples/`.
fn recorded_incident() -> anyhow::Result<Incident> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events/examples/pending-job-insufficient-cpu.json");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    lastmile_intake::incidents_from_json(&bytes)?
        .into_iter()
        .find(|i| i.family == IncidentFamily::Pending)
        .context("the recording holds no pending incident")
}

/// Event `i`: the recorded incident under its own key and event id.
fn incident_message(incident: &Incident, i: usize) -> anyhow::Result<Message> {
    let mut incident = incident.clone();
    incident.key = format!("{}-{i}", incident.key);
    let id = format!("bench-{i}");
    let event = CloudEvent::new(
        id.clone(),
        "/lastmile/bench",
        None,
        incident.last_seen,
        incident,
    );
    let mut headers = std::collections::BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), id);
    Ok(Message {
        subject: subjects::incident(IncidentFamily::Pending),
        headers,
        payload: event.to_vec()?.into(),
    })
}

struct Figures {
    rate: f64,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn new(n: usize, elapsed: Duration, mut latencies: Vec<Duration>) -> Self {
        latencies.sort();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        Self {
            rate: n as f64 / elapsed.as_secs_f64(),
            p50: at(0.50),
            p99: at(0.99),
        }
    }

    fn print(&self, name: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<42} {:>10.0} {:>10.2} {:>10.2}",
            self.rate,
            ms(self.p50),
            ms(self.p99)
        );
    }
}

async fn connect(server: &NatsServer) -> anyhow::Result<NatsBus> {
    let config = NatsConfig {
        pull_batch: 2 * CONCURRENCY,
        ..NatsConfig::with_url(server.url())
    };
    Ok(NatsBus::connect(&config).await?)
}

/// Publishes every message (a window of acks in flight), recording when each publish started.
async fn publish_all(
    bus: &NatsBus,
    messages: &[Message],
    key: impl Fn(usize) -> String,
) -> anyhow::Result<HashMap<String, Instant>> {
    let mut started = HashMap::with_capacity(messages.len());
    let mut acks = futures::stream::iter(messages.iter().enumerate().map(|(i, m)| {
        let at = Instant::now();
        async move { bus.publish(m.clone()).await.map(|()| (i, at)) }
    }))
    .buffer_unordered(PUBLISH_WINDOW);
    while let Some(done) = acks.next().await {
        let (i, at) = done?;
        started.insert(key(i), at);
    }
    Ok(started)
}

/// Raw JetStream: a file stream and a durable pull consumer with explicit acks.
async fn raw_jetstream(server: &NatsServer, messages: &[Message]) -> anyhow::Result<Figures> {
    let bus = connect(server).await?;
    let js = bus.jetstream().clone();
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "BENCH_RAW".into(),
        subjects: vec!["bench.raw".into()],
        duplicate_window: Duration::from_secs(600),
        ..Default::default()
    })
    .await?;
    let raw: Vec<Message> = messages
        .iter()
        .map(|m| Message {
            subject: "bench.raw".into(),
            ..m.clone()
        })
        .collect();
    let consumer = js
        .get_stream("BENCH_RAW")
        .await?
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("bench".into()),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    let n = raw.len();
    let consume = tokio::spawn(async move {
        let mut arrived = HashMap::with_capacity(n);
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(2 * CONCURRENCY)
            .messages()
            .await?;
        while arrived.len() < n {
            let Some(message) = messages.next().await else {
                bail!("raw consumer ended")
            };
            let message = message.map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get(MSG_ID_HEADER))
                .map(|v| v.as_str().to_owned());
            message.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            arrived.insert(id.unwrap_or_default(), Instant::now());
        }
        Ok(arrived)
    });
    let start = Instant::now();
    let started = publish_all(&bus, &raw, |i| format!("bench-{i}")).await?;
    let arrived = tokio::time::timeout(Duration::from_secs(600), consume).await???;
    Ok(figures(start, &started, &arrived))
}

/// The full pipeline: the consumer host running `pending`, evidence in a temp dir.
async fn pipeline(server: &NatsServer, messages: &[Message]) -> anyhow::Result<Figures> {
    let bus = connect(server).await?;
    bus.ensure_streams().await?;
    let evidence = tempfile::tempdir()?;
    let host_bus = Arc::new(connect(server).await?);
    let executor = Executor::new(
        lastmile_fn_pending::FUNCTION,
        Context::offline(),
        Arc::new(LocalStore::new(evidence.path())?),
        host_bus.clone(),
    );
    let opts = HostOptions {
        concurrency: CONCURRENCY,
        ..HostOptions::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let host = tokio::spawn(host::run(
        executor,
        host_bus as Arc<dyn Bus>,
        opts,
        async move {
            let _ = stopped.await;
        },
    ));

    // Diagnoses arrive on lastmile.diagnosis.>; a core subscription sees each as it is stored.
    let mut diagnoses = bus.client().subscribe("lastmile.diagnosis.>").await?;
    let n = messages.len();
    let watch = tokio::spawn(async move {
        let mut arrived = HashMap::with_capacity(n);
        while arrived.len() < n {
            let Some(message) = diagnoses.next().await else {
                bail!("diagnosis subscription ended")
            };
            let event = CloudEvent::<Diagnosis>::from_slice(&message.payload)?;
            let key = event.data.incident.unwrap_or_default();
            arrived.entry(key).or_insert_with(Instant::now);
        }
        Ok(arrived)
    });
    let keys: Vec<String> = messages
        .iter()
        .map(|m| CloudEvent::<Incident>::from_slice(&m.payload).map(|e| e.data.key))
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let started = publish_all(&bus, messages, |i| keys[i].clone()).await?;
    let arrived = tokio::time::timeout(Duration::from_secs(600), watch).await???;
    let _ = stop.send(());
    let report = host.await??;
    eprintln!("host: {report:?}");
    Ok(figures(start, &started, &arrived))
}

fn figures(
    start: Instant,
    started: &HashMap<String, Instant>,
    arrived: &HashMap<String, Instant>,
) -> Figures {
    let last = arrived.values().max().copied().unwrap_or(start);
    let latencies = arrived
        .iter()
        .filter_map(|(k, end)| started.get(k).map(|s| end.saturating_duration_since(*s)))
        .collect();
    Figures::new(arrived.len(), last - start, latencies)
}
