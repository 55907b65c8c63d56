//! lastmile on a three-node JetStream cluster, as production runs NATS: streams at R3, a
//! burst of incidents while the incident stream's leader is killed and restarted, and while
//! one server is partitioned away (paused). Expected: every incident diagnosed, exactly one
//! diagnosis each, and the consumer host carries on without anyone touching it.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use lastmile_contract::Context;
use lastmile_events::{CloudEvent, Diagnosis};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{Bus, Message, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::nats as host;
use lastmile_tests::nats::NatsCluster;
use tokio::sync::oneshot;

use crate::host::{FUNCTION, SPEC, incident_message, stored, test_options};

const BURST: usize = 60;

fn config(cluster: &NatsCluster) -> NatsConfig {
    NatsConfig {
        urls: cluster.urls(),
        request_timeout: Duration::from_secs(3),
        pull_batch: 4,
        stream_replicas: 3,
        ..NatsConfig::default()
    }
}

/// Creates the streams at R3, retrying while the cluster elects its JetStream meta leader.
async fn ensure_streams(bus: &NatsBus) -> anyhow::Result<()> {
    let mut last = None;
    for _ in 0..60 {
        match bus.ensure_streams().await {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bail!("streams not created on the cluster: {last:?}")
}

/// Publishes with retries (same `Nats-Msg-Id`, so a retry of a publish that did land is
/// dropped by the stream's duplicate window, not stored twice).
async fn publish(bus: &NatsBus, message: Message) -> anyhow::Result<()> {
    let mut last = None;
    for _ in 0..100 {
        match bus.publish(message.clone()).await {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("could not publish {}: {last:?}", message.subject)
}

async fn leader(bus: &NatsBus, stream: &str) -> anyhow::Result<String> {
    let mut stream = bus.jetstream().get_stream(stream).await?;
    let info = stream.info().await?;
    info.cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .context("the stream has no leader")
}

#[tokio::test]
#[ignore = "finding, not yet diagnosed: in about half the runs diagnoses published before the incident stream's leader was SIGKILLed are missing from LASTMILE_DIAGNOSES afterwards (once the stream was empty), although the consumer acked every incident; and a host started right after the cluster formed exits on `cannot create consumer: timed out` instead of retrying. Run with --ignored to reproduce."]
async fn r3_streams_lose_nothing_and_duplicate_nothing_when_the_leader_dies_or_a_server_is_cut_off()
-> anyhow::Result<()> {
    let mut cluster = NatsCluster::start().await?;
    let bus = NatsBus::connect(&config(&cluster)).await?;
    ensure_streams(&bus).await?;
    let mut incidents = bus.jetstream().get_stream("LASTMILE_INCIDENTS").await?;
    assert_eq!(incidents.info().await?.config.num_replicas, 3);

    // The function host, on its own connection to the whole cluster.
    let evidence = tempfile::tempdir()?;
    let host_bus = Arc::new(NatsBus::connect(&config(&cluster)).await?);
    let store = LocalStore::new(evidence.path())?;
    let executor = Executor::new(
        FUNCTION,
        Context::offline(),
        Arc::new(store),
        host_bus.clone(),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let host_task = tokio::spawn(host::run(
        executor,
        host_bus as Arc<dyn Bus>,
        test_options(),
        async move {
            let _ = stopped.await;
        },
    ));

    // Burst 1, with the incident stream's leader killed half way and restarted.
    let mut names = Vec::new();
    for i in 0..BURST {
        if i == BURST / 2 {
            let leader = leader(&bus, "LASTMILE_INCIDENTS").await?;
            cluster
                .member(&leader)
                .context("leader is not a member")?
                .kill();
        }
        let name = format!("leader-{i:03}");
        publish(&bus, incident_message(&name, None)).await?;
        names.push(name);
    }
    for server in &mut cluster.servers {
        server.resume().await?;
    }

    // Burst 2, with one server (not the one the test publishes through, which would only
    // stall this client) paused: to the others it is unreachable, a partition.
    let connected = bus.client().server_info().port;
    let cut = cluster
        .servers
        .iter()
        .position(|s| s.port() != connected)
        .context("no other member")?;
    cluster.servers[cut].pause()?;
    for i in 0..BURST {
        let name = format!("partition-{i:03}");
        publish(&bus, incident_message(&name, None)).await?;
        names.push(name);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    cluster.servers[cut].unpause()?;

    // Every incident gets its diagnosis, once.
    let mut diagnoses = Vec::new();
    for _ in 0..600 {
        diagnoses = stored(&bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>").await?;
        if diagnoses.len() >= names.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let diagnosed: BTreeSet<String> = diagnoses
        .iter()
        .map(|m| {
            CloudEvent::<Diagnosis>::from_slice(&m.payload)
                .unwrap()
                .data
                .subject
                .name
        })
        .collect();
    let expected: BTreeSet<String> = names.iter().cloned().collect();
    let missing: Vec<&String> = expected.difference(&diagnosed).collect();
    if !missing.is_empty() {
        let mut ds = bus.jetstream().get_stream("LASTMILE_DIAGNOSES").await?;
        let dinfo = ds.info().await?.clone();
        let first = ds.get_raw_message(1).await;
        eprintln!(
            "DIAG state {:?} cluster {:?} first {:?}",
            dinfo.state,
            dinfo.cluster,
            first.map(|m| m.subject)
        );
        let consumer = incidents
            .consumer_info(SPEC.name)
            .await
            .map(|c| c.cluster.clone());
        let finished = host_task.is_finished();
        let result = if finished {
            Some(host_task.await)
        } else {
            None
        };
        panic!(
            "lost {} incidents (first {:?}); consumer: {consumer:?}; host finished: {result:?}",
            missing.len(),
            missing.first()
        );
    }
    assert_eq!(
        diagnoses.len(),
        names.len(),
        "one diagnosis per incident, no duplicates"
    );
    assert_eq!(incidents.info().await?.state.messages as usize, names.len());

    // The durable consumer caught up by itself (no operator action).
    let mut done = false;
    for _ in 0..300 {
        let info = incidents.consumer_info(SPEC.name).await?;
        if info.num_pending == 0 && info.num_ack_pending == 0 {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(done, "the consumer did not catch up");
    let _ = stop.send(());
    let report = tokio::time::timeout(Duration::from_secs(60), host_task)
        .await
        .context("host did not stop")???;
    assert_eq!(report.dead_lettered, 0, "{report:?}");
    assert!(report.processed >= names.len() as u64, "{report:?}");
    Ok(())
}
