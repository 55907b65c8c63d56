//! Incidents from recorded objects, through a 410 Gone, an API server restart, a NATS outage
//! and a watcher restart: nothing lost, nothing duplicated.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use lastmile_events::{IncidentFamily, IncidentStatus};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::nats::NatsServer;

use super::{bus, config, find, fixture, incidents, start_watcher, stored, wait_for};

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
