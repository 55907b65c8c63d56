//! lastmile on a three-node JetStream cluster, as production runs NATS: streams at R3, the
//! function host started the moment the cluster formed, a burst of incidents while the
//! incident stream's leader is killed (SIGKILL) and restarted, and another while one server
//! is partitioned away (SIGSTOP: its sockets stay open, it just stops answering). Expected:
//! every incident diagnosed, exactly one diagnosis (and one remediation) each, nothing
//! dead-lettered, and the consumer host carries on without anyone touching it.
//!
//! The test publishes through the runtime's own [`Publisher`] and creates streams with
//! [`NatsBus::ensure_streams`], without retry loops of its own: the runtime retries what
//! the cluster cannot answer yet, and re-sends unacknowledged publishes under the same
//! `Nats-Msg-Id`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use lastmile_contract::Context;
use lastmile_events::{CloudEvent, Diagnosis, RemediationCommand};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{Bus, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::nats::{self as host, HostOptions};
use lastmile_tests::nats::NatsCluster;
use tokio::sync::oneshot;

use crate::host::{FUNCTION, SPEC, incident_message, stored, test_options};

/// Incidents per burst.
const BURST: usize = 60;
/// How long the partitioned server stays cut off: longer than JetStream's election timeout,
/// so its streams and consumers elect new leaders without it.
const PARTITION: Duration = Duration::from_secs(6);

fn config(cluster: &NatsCluster) -> NatsConfig {
    NatsConfig {
        urls: cluster.urls(),
        request_timeout: Duration::from_secs(2),
        pull_batch: 4,
        stream_replicas: 3,
        retry_for: Duration::from_secs(30),
        ..NatsConfig::default()
    }
}

/// The host's options: production's shape (an ack wait well above a leader election, five
/// deliveries) with the test's short retry backoff.
fn options() -> HostOptions {
    HostOptions {
        ack_wait: Duration::from_secs(10),
        max_deliver: 5,
        ..test_options()
    }
}

async fn leader(bus: &NatsBus, stream: &str) -> anyhow::Result<String> {
    let mut stream = bus.jetstream().get_stream(stream).await?;
    let info = stream.info().await?;
    info.cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .context("the stream has no leader")
}

/// Subject name → how many times it appears in `LASTMILE_DIAGNOSES` under `filter`.
async fn counts<T: lastmile_events::envelope::EventType>(
    bus: &NatsBus,
    filter: &str,
    name: impl Fn(&T) -> String,
) -> anyhow::Result<BTreeMap<String, usize>> {
    let mut out = BTreeMap::new();
    for message in stored(bus, "LASTMILE_DIAGNOSES", filter).await? {
        let event = CloudEvent::<T>::from_slice(&message.payload)?;
        *out.entry(name(&event.data)).or_default() += 1;
    }
    Ok(out)
}

#[tokio::test]
async fn r3_streams_lose_nothing_and_duplicate_nothing_when_the_leader_dies_or_a_server_is_cut_off()
-> anyhow::Result<()> {
    let started = Instant::now();
    let mut cluster = NatsCluster::start().await?;
    // Right after the cluster forms: no meta leader yet, the runtime retries.
    let bus = NatsBus::connect(&config(&cluster)).await?;
    bus.ensure_streams().await?;
    let mut incidents = bus.jetstream().get_stream("LASTMILE_INCIDENTS").await?;
    assert_eq!(incidents.info().await?.config.num_replicas, 3);

    // The function host, on its own connection to the whole cluster, started at once (its
    // consumer creation may time out while the stream elects its leader: it retries).
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
    let mut host_task = tokio::spawn(host::run(
        executor,
        host_bus.clone() as Arc<dyn Bus>,
        options(),
        async move {
            let _ = stopped.await;
        },
    ));

    // Burst 1: the incident stream's leader is killed a third of the way in and restarted
    // two thirds in, while publishes keep coming.
    let mut names = Vec::new();
    let mut killed = None;
    for i in 0..BURST {
        if i == BURST / 3 {
            let leader = leader(&bus, "LASTMILE_INCIDENTS").await?;
            cluster
                .member(&leader)
                .context("leader is not a member")?
                .kill();
            killed = Some(leader);
        }
        if i == 2 * BURST / 3 {
            let name = killed.as_deref().context("nobody was killed")?;
            cluster
                .member(name)
                .context("no such member")?
                .resume()
                .await?;
        }
        let name = format!("leader-{i:03}");
        bus.publish(incident_message(&name, None)).await?;
        names.push(name);
    }

    // Burst 2: one server paused (not the one the test publishes through, which would only
    // stall this client): to the others and to its clients it is unreachable, a partition.
    // Preferably the one the host is connected to, so the host has to move.
    let publisher = bus.client().server_info().port;
    let consumer_host = host_bus.client().server_info().port;
    let cut = cluster
        .servers
        .iter()
        .position(|s| s.port() == consumer_host && s.port() != publisher)
        .or_else(|| cluster.servers.iter().position(|s| s.port() != publisher))
        .context("no other member")?;
    cluster.servers[cut].pause()?;
    let paused_at = Instant::now();
    for i in 0..BURST {
        let name = format!("partition-{i:03}");
        bus.publish(incident_message(&name, None)).await?;
        names.push(name);
    }
    tokio::time::sleep(PARTITION.saturating_sub(paused_at.elapsed())).await;
    cluster.servers[cut].unpause()?;

    // Every incident gets its diagnosis.
    let diagnosis_name = |d: &Diagnosis| d.subject.name.clone();
    let mut diagnosed = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if host_task.is_finished() {
            bail!("the host stopped by itself: {:?}", (&mut host_task).await);
        }
        // The test's own read may time out while the cluster elects a leader: that is the
        // poll's problem, not the system's; it reads again until the deadline.
        match counts(&bus, "lastmile.diagnosis.>", diagnosis_name).await {
            Ok(found) => diagnosed = found,
            Err(e) => eprintln!("reading the diagnoses (will retry): {e:#}"),
        }
        if diagnosed.len() >= names.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !diagnosed.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "lost {} of {} incidents: {missing:?}",
        missing.len(),
        names.len()
    );

    // The durable consumer caught up by itself (no operator action).
    let mut caught_up = false;
    for _ in 0..120 {
        match incidents.consumer_info(SPEC.name).await {
            Ok(info) if info.num_pending == 0 && info.num_ack_pending == 0 => {
                caught_up = true;
                break;
            }
            Ok(_) => {}
            Err(e) => eprintln!("reading the consumer (will retry): {e}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(caught_up, "the consumer did not catch up");

    // Exactly once: no incident stored twice, no diagnosis or remediation published twice
    // (redeliveries and re-sent publishes were dropped as duplicates).
    assert_eq!(
        incidents.info().await?.state.messages as usize,
        names.len(),
        "every incident stored once"
    );
    let diagnosed = counts(&bus, "lastmile.diagnosis.>", diagnosis_name).await?;
    let twice: Vec<_> = diagnosed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "duplicate diagnoses: {twice:?}");
    assert_eq!(diagnosed.len(), names.len());
    let remediated = counts(&bus, "lastmile.remediation.>", |r: &RemediationCommand| {
        r.subject.name.clone()
    })
    .await?;
    let twice: Vec<_> = remediated.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "duplicate remediations: {twice:?}");
    assert_eq!(remediated.len(), names.len());

    let _ = stop.send(());
    let report = tokio::time::timeout(Duration::from_secs(30), host_task)
        .await
        .context("host did not stop")???;
    assert_eq!(report.dead_lettered, 0, "{report:?}");
    // An ack whose confirmation was lost in a leader change counts as unsettled even when the
    // server recorded it (the consumer caught up above, so it did, or the redelivery was).
    assert!(
        report.processed + report.unsettled >= names.len() as u64,
        "{report:?}"
    );
    eprintln!(
        "cluster test: {} incidents, killed {killed:?}, paused n{cut}, {report:?}, {:.1}s",
        names.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
