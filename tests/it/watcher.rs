//! The watcher against the fake API server (real list/watch protocol, recorded objects) and
//! a real nats-server with JetStream.

mod init_trace;
mod job_done;
mod paging;
mod recovery;

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use futures::StreamExt;
use lastmile_events::{CloudEvent, Incident, IncidentFamily, IncidentStatus};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::nats::NatsServer;
use lastmile_watcher::{TrackerConfig, WatchConfig};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../events/watcher/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// A stored message: (Nats-Msg-Id, subject, payload).
pub type Stored = (String, String, Vec<u8>);

/// Every message JetStream stored in `stream`, in order.
pub async fn stored(
    js: &async_nats::jetstream::Context,
    stream: &str,
) -> anyhow::Result<Vec<Stored>> {
    let mut s = js.get_stream(stream).await?;
    let last = s.info().await?.state.last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        let Ok(m) = s.get_raw_message(seq).await else {
            continue;
        };
        let id = m
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        out.push((id, m.subject.to_string(), m.payload.to_vec()));
    }
    Ok(out)
}

pub fn incidents(stored: &[Stored]) -> Vec<Incident> {
    stored
        .iter()
        .filter_map(|(_, _, p)| CloudEvent::<Incident>::from_slice(p).ok())
        .map(|c| c.data)
        .collect()
}

/// Polls `stream` until `done` holds (bounded), returning what was stored.
pub async fn wait_for(
    js: &async_nats::jetstream::Context,
    stream: &str,
    what: &str,
    done: impl Fn(&[Stored]) -> bool,
) -> anyhow::Result<Vec<Stored>> {
    let mut last = Vec::new();
    for _ in 0..300 {
        if let Ok(s) = stored(js, stream).await {
            if done(&s) {
                return Ok(s);
            }
            last = s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let summary: Vec<String> = incidents(&last)
        .iter()
        .map(|i| format!("{} {:?} x{}", i.key, i.status, i.count))
        .collect();
    bail!("timed out waiting for {what}; stream {stream} holds {summary:#?}")
}

pub async fn bus(nats: &NatsServer) -> anyhow::Result<Arc<NatsBus>> {
    let bus = NatsBus::connect(&NatsConfig::with_url(nats.url())).await?;
    bus.ensure_streams().await?;
    Ok(Arc::new(bus))
}

pub fn config() -> WatchConfig {
    WatchConfig {
        tick: Duration::from_millis(200),
        tracker: TrackerConfig {
            pending_after: Duration::from_secs(1),
            update_interval: Duration::from_millis(300),
            ..Default::default()
        },
        outbox: lastmile_watcher::OutboxConfig {
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(500),
            publish_timeout: Duration::from_secs(2),
            ..Default::default()
        },
        source: "/lastmile/watcher/test".into(),
        ..Default::default()
    }
}

pub struct Running {
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<lastmile_watcher::watch::LoopStats>,
}

pub async fn start_watcher(
    api: &FakeApiServer,
    bus: Arc<NatsBus>,
    cfg: WatchConfig,
) -> anyhow::Result<Running> {
    let stop = CancellationToken::new();
    start_watcher_with_ci(api, bus, cfg, futures::stream::pending().boxed(), stop).await
}

/// [`start_watcher`] reading CI deploy events from `ci`, stopped by `stop`.
pub async fn start_watcher_with_ci(
    api: &FakeApiServer,
    bus: Arc<NatsBus>,
    cfg: WatchConfig,
    ci: futures::stream::BoxStream<'static, lastmile_events::CiEvent>,
    stop: CancellationToken,
) -> anyhow::Result<Running> {
    let kubeconfig = api.kubeconfig()?;
    let client = lastmile_watcher::watch::client(Some(&kubeconfig), None).await?;
    let task = tokio::spawn(lastmile_watcher::run(client, cfg, bus, ci, stop.clone()));
    Ok(Running { stop, task })
}

fn find<'a>(
    incs: &'a [Incident],
    family: IncidentFamily,
    owner: &str,
    status: IncidentStatus,
) -> Option<&'a Incident> {
    incs.iter().rev().find(|i| {
        i.family == family
            && i.status == status
            && i.owner.as_ref().is_some_and(|o| o.name == owner)
    })
}
