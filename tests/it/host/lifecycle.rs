//! The host across time: a nats-server restart, a graceful drain waiting for a slow
//! handler, and a handler running past the ack wait.

use super::*;

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
    let before = SLOW_STARTED.load(Ordering::SeqCst);
    rig.bus
        .publish(incident_message("slow-one", Some("slow")))
        .await?;
    // Wait until the handler runs (a delivery only fetched may still be in the host's
    // buffer, and a stopping host gives those back), then ask the host to stop.
    let mut started = false;
    for _ in 0..300 {
        if SLOW_STARTED.load(Ordering::SeqCst) > before
            && consumer_info(&rig.bus).await?.num_ack_pending == 1
        {
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
