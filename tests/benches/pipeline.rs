//! Pipeline benchmark: N recorded incidents through NATS JetStream → the `pending` function
//! → the evidence store (a local directory) → diagnosis and remediation publishes, next to
//! raw JetStream publish → consume for the same N and the same payload on the same server
//! in the same run.
//!
//! ```text
//! cargo bench -p lastmile-tests --bench pipeline            # N = 2000
//! cargo bench -p lastmile-tests --bench pipeline -- 5000    # N = 5000
//! TMPDIR=/dev/shm cargo bench -p lastmile-tests --bench pipeline   # evidence on tmpfs
//! ```
//!
//! The evidence directory is a temp dir. On a VM disk, creating files gets slower run after
//! run (the inode allocator scans the previous runs' deleted inodes), so two runs of the
//! same build can differ by 2x; with `TMPDIR=/dev/shm` the figures measure lastmile's own
//! cost and A/B comparisons between builds are repeatable.
//!
//! Two phases per path:
//! - **burst**: all N published at once (64 publish acks in flight); throughput is N over
//!   the time from the first publish to the last arrival, and latency (publish start →
//!   arrival) is mostly queueing;
//! - **one at a time**: 200 more events, each published only after the previous one
//!   arrived; the latency is the service time of one event on an idle pipeline.
//!
//! "Arrival" is the diagnosis reaching a subscriber of `lastmile.diagnosis.>` for the
//! pipeline, and the message reaching a pull consumer (which acks it) for raw JetStream.
//!
//! Then, in process (no NATS), where the time of one event goes: each stage of the
//! executor timed alone, one at a time, in steady state (each stage cycles over 64 of the
//! incidents and drops each result, as the executor does: parsing the envelope, the
//! function's own work, the output boundary, the evidence bundle, serialising the diagnosis
//! and remediation envelopes), the whole executor with a publisher that discards (the
//! in-process bus would keep every message in this process, as NATS does in the server),
//! one at a time and with the host's concurrency, and the function alone with the same
//! concurrency: the runtime's own cost is the difference.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::StreamExt;
use lastmile_contract::Context;
use lastmile_events::{CloudEvent, Incident, IncidentFamily, subjects};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{Bus, MSG_ID_HEADER, Message, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::nats::{self as host, HostOptions};
use lastmile_tests::cpu;
use lastmile_tests::nats::NatsServer;
use tokio::sync::mpsc;

#[path = "pipeline/breakdown.rs"]
mod breakdown;

/// Publishes in flight at once during a burst (both paths).
const PUBLISH_WINDOW: usize = 64;
/// Host workers.
const CONCURRENCY: usize = 16;
/// Events of the one-at-a-time phase.
const SINGLE: usize = 200;
/// Bound on any wait.
const PATIENCE: Duration = Duration::from_secs(600);

/// The allocator the shipped binaries use (`lastmile`, `lastmile-lambda`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let events: Vec<(String, Message)> = (0..n + SINGLE)
        .map(|i| incident_message(&incident, i))
        .collect::<anyhow::Result<_>>()?;
    let size = events.first().map_or(0, |(_, m)| m.payload.len());
    println!(
        "lastmile pipeline bench: N = {n} (+{SINGLE} one at a time), payload {size} bytes, 2 cores, nats-server 2.15 (file storage)"
    );

    let raw = raw_jetstream(&server, &events, n).await?;
    let pipeline = pipeline(&server, &events, n).await?;

    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>11} {:>11} {:>10} {:>10}",
        "", "events/s", "p50 ms", "p99 ms", "1-by-1 p50", "1-by-1 p99", "server us", "here us"
    );
    println!(
        "(server us / here us: CPU per event during the burst, in nats-server and in this process)"
    );
    raw.print("raw JetStream publish -> consume");
    pipeline.print(&format!("NATS -> pending -> evidence (c={CONCURRENCY})"));
    println!(
        "pipeline / raw throughput: {:.3} (raw is {:.1}x faster)",
        pipeline.rate / raw.rate,
        raw.rate / pipeline.rate
    );
    drop(server);
    breakdown::print(&events[..n.min(breakdown::EVENTS)], CONCURRENCY).await
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

/// Event `i`: the recorded incident under its own key and event id; returns (key, message).
fn incident_message(incident: &Incident, i: usize) -> anyhow::Result<(String, Message)> {
    let mut incident = incident.clone();
    incident.key = format!("{}-{i}", incident.key);
    let key = incident.key.clone();
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
    let message = Message {
        subject: subjects::incident(IncidentFamily::Pending),
        headers,
        payload: event.to_vec()?.into(),
    };
    Ok((key, message))
}

struct Figures {
    rate: f64,
    /// CPU per event during the burst: nats-server, and this process (publisher, consumer
    /// or host, and the arrivals watcher).
    cpu_server: Duration,
    cpu_here: Duration,
    p50: Duration,
    p99: Duration,
    single_p50: Duration,
    single_p99: Duration,
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

impl Figures {
    fn print(&self, name: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{name:<40} {:>9.0} {:>9.2} {:>9.2} {:>11.2} {:>11.2} {:>10.0} {:>10.0}",
            self.rate,
            ms(self.p50),
            ms(self.p99),
            ms(self.single_p50),
            ms(self.single_p99),
            us(self.cpu_server),
            us(self.cpu_here),
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

/// Runs both phases: `events[..n]` as a burst, the rest one at a time. `arrivals` yields the
/// key of each event as it arrives at the far end.
async fn measure(
    server: &NatsServer,
    bus: &NatsBus,
    events: &[(String, Message)],
    n: usize,
    arrivals: &mut mpsc::UnboundedReceiver<(String, Instant)>,
) -> anyhow::Result<Figures> {
    let (burst, single) = events.split_at(n.min(events.len()));

    let server_pid = server.pid().map(|p| p.to_string()).unwrap_or_default();
    let cpu_at_start = (cpu::of(&server_pid), cpu::this_process());
    let start = Instant::now();
    let mut started = HashMap::with_capacity(burst.len());
    let mut acks = futures::stream::iter(burst.iter().map(|(key, message)| async move {
        let at = Instant::now();
        bus.publish(message.clone())
            .await
            .map(|()| (key.as_str(), at))
    }))
    .buffer_unordered(PUBLISH_WINDOW);
    while let Some(done) = acks.next().await {
        let (key, at) = done?;
        started.insert(key, at);
    }
    let mut arrived = HashMap::with_capacity(burst.len());
    while arrived.len() < burst.len() {
        let (key, at) = tokio::time::timeout(PATIENCE, arrivals.recv())
            .await?
            .context("arrivals ended")?;
        arrived.entry(key).or_insert(at);
    }
    let last = arrived.values().max().copied().unwrap_or(start);
    let per_event = |spent: Duration| spent / burst.len().max(1) as u32;
    let cpu_server = per_event(cpu::of(&server_pid).saturating_sub(cpu_at_start.0));
    let cpu_here = per_event(cpu::this_process().saturating_sub(cpu_at_start.1));
    let mut latencies: Vec<Duration> = arrived
        .iter()
        .filter_map(|(k, end)| {
            started
                .get(k.as_str())
                .map(|s| end.saturating_duration_since(*s))
        })
        .collect();
    latencies.sort();

    let mut single_latencies = Vec::with_capacity(single.len());
    for (key, message) in single {
        let at = Instant::now();
        bus.publish(message.clone()).await?;
        loop {
            let (arrived_key, end) = tokio::time::timeout(PATIENCE, arrivals.recv())
                .await?
                .context("arrivals ended")?;
            if &arrived_key == key {
                single_latencies.push(end.saturating_duration_since(at));
                break;
            }
        }
    }
    single_latencies.sort();

    Ok(Figures {
        rate: burst.len() as f64 / (last - start).as_secs_f64(),
        cpu_server,
        cpu_here,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        single_p50: percentile(&single_latencies, 0.50),
        single_p99: percentile(&single_latencies, 0.99),
    })
}

/// Raw JetStream: a file stream, a durable pull consumer with explicit acks.
async fn raw_jetstream(
    server: &NatsServer,
    events: &[(String, Message)],
    n: usize,
) -> anyhow::Result<Figures> {
    let bus = connect(server).await?;
    let js = bus.jetstream().clone();
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "BENCH_RAW".into(),
        subjects: vec!["bench.raw".into()],
        duplicate_window: Duration::from_secs(600),
        ..Default::default()
    })
    .await?;
    let consumer = js
        .get_stream("BENCH_RAW")
        .await?
        .create_consumer(async_nats::jetstream::consumer::pull::Config {
            durable_name: Some("bench".into()),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await?;
    // Same bytes and headers, on the raw stream; keyed by Nats-Msg-Id.
    let raw: Vec<(String, Message)> = events
        .iter()
        .map(|(_, m)| {
            let id = m.header(MSG_ID_HEADER).unwrap_or_default().to_owned();
            (
                id,
                Message {
                    subject: "bench.raw".into(),
                    ..m.clone()
                },
            )
        })
        .collect();
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let consume = tokio::spawn(async move {
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(2 * CONCURRENCY)
            .messages()
            .await?;
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get(MSG_ID_HEADER))
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            message.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            if tx.send((id, Instant::now())).is_err() {
                break;
            }
        }
        anyhow::Ok(())
    });
    let figures = measure(server, &bus, &raw, n, &mut arrivals).await;
    consume.abort();
    figures
}

/// What the arrivals watcher reads of a diagnosis envelope: the incident it answers. (Parsing
/// the whole diagnosis would spend the bench's CPU, on the same two cores, on the watcher.)
#[derive(serde::Deserialize)]
struct Arrival {
    data: ArrivalData,
}

#[derive(serde::Deserialize)]
struct ArrivalData {
    incident: Option<String>,
}

/// The full pipeline: the consumer host running `pending`, evidence in a temp dir.
async fn pipeline(
    server: &NatsServer,
    events: &[(String, Message)],
    n: usize,
) -> anyhow::Result<Figures> {
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

    // A core subscription sees each diagnosis as JetStream stores it.
    let mut diagnoses = bus.client().subscribe("lastmile.diagnosis.>").await?;
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let watch = tokio::spawn(async move {
        while let Some(message) = diagnoses.next().await {
            let key = serde_json::from_slice::<Arrival>(&message.payload)?
                .data
                .incident
                .unwrap_or_default();
            if tx.send((key, Instant::now())).is_err() {
                break;
            }
        }
        anyhow::Ok(())
    });
    let figures = measure(server, &bus, events, n, &mut arrivals).await;
    watch.abort();
    let _ = stop.send(());
    let report = host.await??;
    if report.processed != events.len() as u64 {
        bail!(
            "the host processed {} of {} events: {report:?}",
            report.processed,
            events.len()
        );
    }
    figures
}
