//! Work shared and delivered at least once: two replicas on one durable, and a consumer
//! that dies after its side effects but before its ack.

use super::*;

fn diagnosis_ids(
    messages: &[async_nats::jetstream::message::StreamMessage],
) -> std::collections::BTreeSet<String> {
    messages
        .iter()
        .map(|m| CloudEvent::<Diagnosis>::from_slice(&m.payload).unwrap().id)
        .collect()
}

#[tokio::test]
async fn two_replicas_share_one_durable_and_process_each_message_once() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let one = rig.spawn_host(test_options()).await?;
    let two = rig.spawn_host(test_options()).await?;
    let n = 30;
    for i in 0..n {
        rig.bus
            .publish(incident_message(&format!("integration-tests-{i}"), None))
            .await?;
    }
    let diagnoses = wait_stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", n).await?;
    wait_consumer_done(&rig.bus).await?;
    let (a, b) = (one.stop().await?, two.stop().await?);
    assert_eq!(a.processed + b.processed, n as u64, "{a:?} {b:?}");
    assert_eq!(a.dead_lettered + b.dead_lettered + a.retried + b.retried, 0);
    let deliveries = consumer_info(&rig.bus).await?.delivered.consumer_sequence;
    assert_eq!(deliveries, n as u64, "no message was delivered twice");
    assert_eq!(diagnosis_ids(&diagnoses).len(), n);
    let remediations = stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.remediation.>").await?;
    assert_eq!(remediations.len(), n);
    assert_eq!(rig.manifests().len(), n);
    Ok(())
}

#[tokio::test]
async fn consumer_dying_after_side_effects_before_ack_yields_one_diagnosis_and_one_manifest()
-> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let opts = test_options();
    rig.bus
        .publish(incident_message("migrate-x7k2p", None))
        .await?;

    // The first consumer: pulls, does all the work (evidence, diagnosis, remediation)…
    {
        let crashing: Arc<NatsBus> = Arc::new(connect(&rig.server).await?);
        let executor = rig.executor(crashing.clone());
        let mut subscription = crashing.subscribe(&opts.consumer_spec(&SPEC)).await?;
        let delivery = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await?
            .context("subscription ended")??;
        assert_eq!(delivery.attempt, 1);
        let processed = executor.process(&delivery.message).await?;
        assert_eq!(processed.diagnoses.len(), 1);
        // …and dies before acknowledging: delivery, subscription and connection are dropped.
    }
    assert_eq!(rig.manifests().len(), 1);

    // The replacement gets the redelivery once the ack wait passes, and redoes the work.
    let replica = rig.spawn_host(opts).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;
    assert_eq!(report.processed, 1, "{report:?}");
    let deliveries = consumer_info(&rig.bus).await?.delivered.consumer_sequence;
    assert_eq!(
        deliveries, 2,
        "one delivery to the crashed consumer, one redelivery"
    );

    let diagnoses = stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>").await?;
    assert_eq!(
        diagnoses.len(),
        1,
        "the redelivery's diagnosis is dropped as a duplicate"
    );
    assert_eq!(
        stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.remediation.>")
            .await?
            .len(),
        1
    );
    assert_eq!(
        rig.manifests().len(),
        1,
        "the manifest is rewritten in place"
    );
    Ok(())
}
