//! Settle rules: poison messages and permanent failures dead-lettered at once, retryable
//! ones after `max_deliver`, on the NATS host and on the in-process host alike.

use lastmile_runtime::bus::memory::MemoryBus;
use lastmile_runtime::bus::{DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER};
use lastmile_runtime::host::inprocess;
use lastmile_runtime::host::nats::DLQ_ATTEMPTS_HEADER;

use super::*;

fn header<'a>(
    message: &'a async_nats::jetstream::message::StreamMessage,
    name: &str,
) -> Option<&'a str> {
    message.headers.get(name).map(|v| v.as_str())
}

#[tokio::test]
async fn poison_message_is_dead_lettered_with_the_parse_error_and_the_next_is_processed()
-> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let replica = rig.spawn_host(test_options()).await?;
    // A truncated envelope, as a crashed producer might leave it.
    let mut headers = BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), "poison-1".to_owned());
    headers.insert(
        "traceparent".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    );
    let poison = Message {
        subject: subjects::incident(IncidentFamily::Pending),
        headers,
        payload:
            br#"{"specversion":"1.0","id":"x","type":"dev.lastmile.incident.v1","data":{"key":"#
                .to_vec()
                .into(),
    };
    rig.bus.publish(poison.clone()).await?;
    rig.bus
        .publish(incident_message("after-the-poison", None))
        .await?;

    let dead = wait_stored(&rig.bus, "LASTMILE_DLQ", "lastmile.dlq.host-test", 1).await?;
    let diagnoses = wait_stored(&rig.bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", 1).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;

    assert_eq!(dead.len(), 1);
    let letter = &dead[0];
    assert_eq!(
        letter.payload, poison.payload,
        "the original bytes are kept"
    );
    let reason = header(letter, DLQ_REASON_HEADER).unwrap();
    assert!(
        reason.contains("malformed CloudEvent") && reason.contains("EOF"),
        "{reason}"
    );
    assert_eq!(
        header(letter, DLQ_SUBJECT_HEADER),
        Some("lastmile.incident.pending")
    );
    assert_eq!(
        header(letter, DLQ_ATTEMPTS_HEADER),
        Some("1"),
        "bad input is not retried"
    );
    assert_eq!(header(letter, "traceparent"), poison.header("traceparent"));
    assert_eq!(diagnoses.len(), 1);
    let diagnosis = CloudEvent::<Diagnosis>::from_slice(&diagnoses[0].payload)?;
    assert_eq!(diagnosis.data.subject.name, "after-the-poison");
    assert_eq!(
        (report.processed, report.dead_lettered, report.retried),
        (1, 1, 0)
    );
    Ok(())
}

#[tokio::test]
async fn retryable_failures_are_naked_then_dead_lettered_after_max_deliver() -> anyhow::Result<()> {
    let rig = Rig::start().await?;
    let replica = rig.spawn_host(test_options()).await?;
    rig.bus
        .publish(incident_message("flaky-registry", Some("retryable")))
        .await?;
    rig.bus
        .publish(incident_message("buggy", Some("permanent")))
        .await?;

    let dead = wait_stored(&rig.bus, "LASTMILE_DLQ", "lastmile.dlq.>", 2).await?;
    wait_consumer_done(&rig.bus).await?;
    let report = replica.stop().await?;

    let by_reason = |needle: &str| {
        dead.iter()
            .find(|m| header(m, DLQ_REASON_HEADER).is_some_and(|r| r.contains(needle)))
    };
    let retried = by_reason("registry timed out").context("retryable message not dead-lettered")?;
    assert_eq!(
        header(retried, DLQ_ATTEMPTS_HEADER),
        Some("3"),
        "dead-lettered at max_deliver"
    );
    assert!(
        header(retried, DLQ_REASON_HEADER)
            .unwrap()
            .starts_with("retryable:")
    );
    let permanent =
        by_reason("bug in the function").context("permanent failure not dead-lettered")?;
    assert_eq!(
        header(permanent, DLQ_ATTEMPTS_HEADER),
        Some("1"),
        "permanent errors are not retried"
    );
    assert_eq!(
        (report.retried, report.dead_lettered, report.processed),
        (2, 2, 0)
    );
    assert!(
        stored(&rig.bus, "LASTMILE_DIAGNOSES", ">")
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn in_process_host_settles_like_the_nats_host() -> anyhow::Result<()> {
    let bus = MemoryBus::new();
    let evidence = tempfile::tempdir()?;
    let executor = Executor::new(
        FUNCTION,
        Context::offline(),
        Arc::new(LocalStore::new(evidence.path())?),
        Arc::new(bus.clone()),
    );
    bus.publish(incident_message("ok-1", None)).await?;
    bus.publish(Message {
        payload: b"not json".to_vec().into(),
        ..incident_message("poison", None)
    })
    .await?;
    bus.publish(incident_message("flaky", Some("retryable")))
        .await?;
    bus.publish(incident_message("ok-2", None)).await?;
    // A redelivered publish of the same incident is dropped by its Nats-Msg-Id.
    bus.publish(incident_message("ok-2", None)).await?;

    let report = tokio::time::timeout(
        Duration::from_secs(60),
        inprocess::run_until_idle(executor, &bus, test_options()),
    )
    .await??;
    assert_eq!(
        (report.processed, report.retried, report.dead_lettered),
        (2, 2, 2),
        "{report:?}"
    );
    assert_eq!(bus.published("lastmile.diagnosis.>").len(), 2);
    assert_eq!(bus.published("lastmile.remediation.>").len(), 2);
    let dead = bus.published("lastmile.dlq.host-test");
    let reasons: Vec<&str> = dead
        .iter()
        .filter_map(|m| m.header(DLQ_REASON_HEADER))
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("malformed CloudEvent")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("registry timed out")),
        "{reasons:?}"
    );
    Ok(())
}
