//! The watcher against the fake API server (real list/watch protocol, recorded objects) and
//! a real nats-server with JetStream.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use lastmile_events::{CloudEvent, Incident, IncidentFamily, IncidentStatus, K8sObservation};
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

fn load_cluster(api: &FakeApiServer) -> anyhow::Result<()> {
    for f in [
        "nodes.json",
        "job-migrate-active.json",
        "job-report-deadline.json",
        "job-seed-quota.json",
        "pods-job-pending.json",
        "pod-image-pull-backoff.json",
        "events.json",
    ] {
        api.apply_all(fixture(f)).with_context(|| f.to_owned())?;
    }
    Ok(())
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

#[tokio::test]
async fn watcher_publishes_incidents_from_recorded_objects_and_recovers_from_410_and_apiserver_restart()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let mut api = FakeApiServer::start().await?;
    load_cluster(&api)?;
    let w = start_watcher(&api, bus, config()).await?;

    let s = wait_for(&js, "LASTMILE_INCIDENTS", "the four incidents", |s| {
        let incs = incidents(s);
        find(
            &incs,
            IncidentFamily::Pending,
            "migrate",
            IncidentStatus::Open,
        )
        .is_some_and(|i| i.count == 3)
            && find(
                &incs,
                IncidentFamily::ImagePull,
                "api",
                IncidentStatus::Open,
            )
            .is_some()
            && find(
                &incs,
                IncidentFamily::Pending,
                "seed-quota",
                IncidentStatus::Open,
            )
            .is_some()
            && find(&incs, IncidentFamily::Job, "report", IncidentStatus::Open).is_some()
    })
    .await?;
    let incs = incidents(&s);
    let pending = find(
        &incs,
        IncidentFamily::Pending,
        "migrate",
        IncidentStatus::Open,
    )
    .context("pending")?;
    assert_eq!(
        pending.snapshot.nodes.len(),
        3,
        "nodes for the scheduling function"
    );
    assert!(
        pending
            .snapshot
            .nodes
            .iter()
            .all(|n| n.status.as_ref().is_some_and(|s| s.images.is_none())),
        "node image lists trimmed"
    );
    assert!(
        pending
            .events
            .iter()
            .any(|e| e.reason == "FailedScheduling" && e.message.contains("Insufficient cpu"))
    );
    assert_eq!(
        pending.ci.as_ref().map(|c| c.run_id.as_str()),
        Some("9876543210")
    );
    let pull = find(
        &incs,
        IncidentFamily::ImagePull,
        "api",
        IncidentStatus::Open,
    )
    .context("image pull")?;
    assert!(
        pull.events.iter().any(|e| e.message.contains("not found")),
        "{:#?}",
        pull.events
    );
    for (_, subject, payload) in &s {
        let text = String::from_utf8_lossy(payload);
        assert!(
            !text.contains("s3cr3t") && !text.contains("tok-123"),
            "secret leaked on {subject}"
        );
        assert!(subject.starts_with("lastmile.incident."));
    }
    // Every message carries a Nats-Msg-Id.
    assert!(s.iter().all(|(id, _, _)| id.len() == 32));

    // etcd compacts and the API server restarts; meanwhile the pods get scheduled and the
    // image-pull pod is deleted. The watcher must relist (410 Gone) and notice both.
    let lists_before = api.list_count("/pods");
    // Something else changes first, so the compaction point is newer than what the pod
    // watch has seen.
    let mut node = fixture("nodes.json")["items"][1].clone();
    node["metadata"]["labels"]["topology.kubernetes.io/zone"] = "eu-1b".into();
    api.apply(node)?;
    api.compact();
    api.restart(Duration::from_millis(700)).await?;
    for mut pod in fixture("pods-job-pending.json")["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        pod["spec"]["nodeName"] = "node-a".into();
        pod["status"] = serde_json::json!({"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}]});
        api.apply(pod)?;
    }
    api.delete("v1", "Pod", "shop", "api-7d9f8b6c5d-kq2xv")?;
    api.bookmark();

    let s = wait_for(&js, "LASTMILE_INCIDENTS", "both resolutions", |s| {
        let incs = incidents(s);
        find(
            &incs,
            IncidentFamily::Pending,
            "migrate",
            IncidentStatus::Resolved,
        )
        .is_some()
            && find(
                &incs,
                IncidentFamily::ImagePull,
                "api",
                IncidentStatus::Resolved,
            )
            .is_some()
    })
    .await?;
    let incs = incidents(&s);
    let resolved = find(
        &incs,
        IncidentFamily::Pending,
        "migrate",
        IncidentStatus::Resolved,
    )
    .context("resolved")?;
    assert!(
        resolved
            .resolution
            .as_deref()
            .unwrap_or("")
            .contains("scheduled on node node-a"),
        "{:?}",
        resolved.resolution
    );
    assert!(
        api.list_count("/pods") > lists_before,
        "the watcher relisted pods after 410 Gone"
    );
    assert!(
        api.requests()
            .iter()
            .any(|r| r.contains("watch=true") && r.contains("allowWatchBookmarks=true"))
    );

    w.stop.cancel();
    let stats = w.task.await?;
    assert!(
        stats.watch_errors >= 1,
        "the restart was seen as a watch error: {stats:?}"
    );
    Ok(())
}

#[tokio::test]
async fn nats_outage_and_watcher_restart_lose_nothing_and_duplicate_nothing() -> anyhow::Result<()>
{
    let mut nats = NatsServer::start().await?;
    let bus1 = bus(&nats).await?;
    let js = bus1.jetstream().clone();
    let api = FakeApiServer::start().await?;
    load_cluster(&api)?;
    let w = start_watcher(&api, bus1.clone(), config()).await?;
    let before = wait_for(&js, "LASTMILE_INCIDENTS", "first incidents", |s| {
        incidents(s).len() >= 4
    })
    .await?;

    // NATS goes down; a new image-pull failure happens while it is down.
    nats.kill();
    let mut pod = fixture("pod-image-pull-backoff.json");
    pod["metadata"]["name"] = "web-5c6d7e8f9a-zz9yy".into();
    pod["metadata"]["labels"]["pod-template-hash"] = "5c6d7e8f9a".into();
    pod["metadata"]["ownerReferences"][0]["name"] = "web-5c6d7e8f9a".into();
    api.apply(pod)?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    nats.restart().await?;

    let after = wait_for(
        &js,
        "LASTMILE_INCIDENTS",
        "the incident raised during the outage",
        |s| {
            find(
                &incidents(s),
                IncidentFamily::ImagePull,
                "web",
                IncidentStatus::Open,
            )
            .is_some()
        },
    )
    .await?;
    // Acknowledged before the outage: still there.
    for (id, _, _) in &before {
        assert!(
            after.iter().any(|(a, _, _)| a == id),
            "message {id} acknowledged before the outage was lost"
        );
    }
    w.stop.cancel();
    w.task.await?;

    // A second watcher (a restart) re-derives the same open incidents: same ids, deduplicated.
    let count_before_restart = stored(&js, "LASTMILE_INCIDENTS").await?.len();
    let w2 = start_watcher(&api, bus(&nats).await?, config()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    w2.stop.cancel();
    w2.task.await?;
    let all = stored(&js, "LASTMILE_INCIDENTS").await?;
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (id, _, _) in &all {
        *ids.entry(id.as_str()).or_default() += 1;
    }
    assert!(
        ids.values().all(|n| *n == 1),
        "duplicate ids in the stream: {ids:?}"
    );
    assert_eq!(
        all.len(),
        count_before_restart,
        "a watcher restart duplicated incidents downstream"
    );
    let web = incidents(&all)
        .into_iter()
        .filter(|i| i.owner.as_ref().is_some_and(|o| o.name == "web"))
        .count();
    assert_eq!(web, 1);
    Ok(())
}

#[tokio::test]
async fn finished_job_is_announced_for_the_gate() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let api = FakeApiServer::start().await?;
    api.apply(fixture("job-migrate-active.json"))?;
    let w = start_watcher(&api, bus, config()).await?;
    let mut done = fixture("job-migrate-complete.json");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for c in done["status"]["conditions"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        c["lastTransitionTime"] = now.clone().into();
    }
    api.apply(done)?;
    let s = wait_for(&js, "LASTMILE_K8S", "the Job completion", |s| !s.is_empty()).await?;
    let (_, subject, payload) = &s[0];
    assert_eq!(subject, "lastmile.k8s.job.ci");
    let ce = CloudEvent::<K8sObservation>::from_slice(payload)?;
    assert_eq!(ce.subject.as_deref(), Some("job/ci/migrate"));
    assert!(matches!(ce.data, K8sObservation::Job(_)));
    w.stop.cancel();
    w.task.await?;
    Ok(())
}

/// Lists come in pages (`limit` + `continue`), and what the watcher assembles from them is
/// the whole set: bound pods from every page reach the Pending incident's snapshot.
#[tokio::test]
async fn lists_are_paged_and_every_page_reaches_the_snapshot() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let api = FakeApiServer::start().await?;
    for f in [
        "nodes.json",
        "job-migrate-active.json",
        "pods-job-pending.json",
    ] {
        api.apply_all(fixture(f)).with_context(|| f.to_owned())?;
    }
    let template = fixture("pods-job-pending.json")["items"][0].clone();
    const BOUND: usize = 250;
    for i in 0..BOUND {
        let mut pod = template.clone();
        pod["metadata"]["name"] = format!("bound-{i:03}").into();
        pod["metadata"]["ownerReferences"] = Value::Null;
        pod["metadata"]["uid"] = format!("00000000-0000-0000-0000-{i:012}").into();
        pod["spec"]["nodeName"] = "node-a".into();
        pod["status"] = serde_json::json!({"phase": "Running"});
        api.apply(pod)?;
    }
    let cfg = WatchConfig {
        list_page_size: 100,
        ..config()
    };
    let w = start_watcher(&api, bus, cfg).await?;

    let s = wait_for(&js, "LASTMILE_INCIDENTS", "the migrate incident", |s| {
        find(
            &incidents(s),
            IncidentFamily::Pending,
            "migrate",
            IncidentStatus::Open,
        )
        .is_some()
    })
    .await?;
    let incs = incidents(&s);
    let pending = find(
        &incs,
        IncidentFamily::Pending,
        "migrate",
        IncidentStatus::Open,
    )
    .context("incident")?;
    let bound: Vec<&str> = pending
        .snapshot
        .pods
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .filter(|n| n.starts_with("bound-"))
        .collect();
    assert_eq!(bound.len(), BOUND, "bound pods from every page");
    assert!(
        bound.contains(&"bound-000") && bound.contains(&format!("bound-{:03}", BOUND - 1).as_str())
    );

    let pod_lists: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.contains("/pods") && !r.contains("watch=true"))
        .collect();
    assert!(
        pod_lists.iter().all(|r| r.contains("limit=100")),
        "{pod_lists:#?}"
    );
    assert!(
        pod_lists.iter().filter(|r| r.contains("continue=")).count() >= 2,
        "253 pods in pages of 100 take at least three requests: {pod_lists:#?}"
    );
    w.stop.cancel();
    w.task.await?;
    Ok(())
}
