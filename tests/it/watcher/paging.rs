//! Paged lists (`limit` + `continue`) assembled whole.

use anyhow::Context as _;
use lastmile_events::{IncidentFamily, IncidentStatus};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::nats::NatsServer;
use lastmile_watcher::WatchConfig;
use serde_json::Value;

use super::{bus, config, find, fixture, incidents, start_watcher, wait_for};

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
