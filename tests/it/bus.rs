//! The JetStream bus on a real nats-server: streams, acknowledged publishing, duplicate
//! dropping, durable pull consumers, nak / term / ack-wait redelivery, restarts.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::stream::RetentionPolicy;
use lastmile_events::subjects::{Retention, STREAMS};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{
    Bus, BusError, ConsumerSpec, Delivery, MSG_ID_HEADER, Message, Publisher, Subscription,
};
use lastmile_tests::nats::NatsServer;

use crate::host::{connect, stored};

fn message(subject: &str, id: &str, body: &str) -> Message {
    let mut headers = BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), id.to_owned());
    headers.insert(
        "traceparent".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    );
    Message {
        subject: subject.to_owned(),
        headers,
        payload: body.as_bytes().to_vec().into(),
    }
}

fn spec(ack_wait: Duration) -> ConsumerSpec {
    ConsumerSpec {
        durable: "bus-test".into(),
        subjects: vec!["lastmile.incident.pending".into()],
        max_deliver: 3,
        ack_wait,
    }
}

async fn next(subscription: &mut Box<dyn Subscription>) -> anyhow::Result<Delivery> {
    // Errors while the server restarts are expected; the subscription recovers by itself.
    for _ in 0..200 {
        match tokio::time::timeout(Duration::from_secs(60), subscription.next()).await? {
            Some(Ok(delivery)) => return Ok(delivery),
            Some(Err(e)) if e.is_retryable() => continue,
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("subscription ended"),
        }
    }
    anyhow::bail!("no delivery after 200 errors")
}

/// True when nothing is delivered within `wait` (used only to check that something does
/// *not* happen; never as a speed assertion).
async fn nothing_within(subscription: &mut Box<dyn Subscription>, wait: Duration) -> bool {
    tokio::time::timeout(wait, subscription.next())
        .await
        .is_err()
}

async fn started() -> anyhow::Result<(NatsServer, NatsBus)> {
    let server = NatsServer::start().await?;
    let bus = connect(&server).await?;
    bus.ensure_streams().await?;
    Ok((server, bus))
}

#[tokio::test]
async fn streams_are_created_idempotently_and_match_the_spec() -> anyhow::Result<()> {
    let (_server, bus) = started().await?;
    // A second run (another replica starting) changes nothing and does not fail.
    bus.ensure_streams().await?;
    for spec in STREAMS {
        let info = bus
            .jetstream()
            .get_stream(spec.name)
            .await?
            .get_info()
            .await?;
        let c = &info.config;
        assert_eq!(c.subjects, spec.subjects, "{}", spec.name);
        assert_eq!(
            c.max_age,
            Duration::from_secs(spec.max_age_secs),
            "{}",
            spec.name
        );
        assert_eq!(
            c.duplicate_window,
            Duration::from_secs(spec.duplicate_window_secs),
            "{}",
            spec.name
        );
        assert_eq!(c.max_message_size, spec.max_msg_size, "{}", spec.name);
        let retention = match spec.retention {
            Retention::Limits => RetentionPolicy::Limits,
            Retention::WorkQueue => RetentionPolicy::WorkQueue,
        };
        assert_eq!(c.retention, retention, "{}", spec.name);
    }
    // Someone changed a stream by hand: the next start puts the spec back.
    let mut drifted = bus
        .jetstream()
        .get_stream("LASTMILE_DLQ")
        .await?
        .get_info()
        .await?
        .config;
    drifted.max_age = Duration::from_secs(2 * 24 * 3600);
    bus.jetstream().update_stream(drifted).await?;
    bus.ensure_streams().await?;
    let info = bus
        .jetstream()
        .get_stream("LASTMILE_DLQ")
        .await?
        .get_info()
        .await?;
    assert_eq!(info.config.max_age, Duration::from_secs(30 * 24 * 3600));
    Ok(())
}

#[tokio::test]
async fn publish_is_acknowledged_and_a_repeated_msg_id_is_dropped() -> anyhow::Result<()> {
    let (_server, bus) = started().await?;
    let subject = "lastmile.diagnosis.image.auth";
    bus.publish(message(subject, "diag-1", "first")).await?;
    bus.publish(message(subject, "diag-1", "re-sent after a crash"))
        .await?;
    bus.publish(message(subject, "diag-2", "second")).await?;
    // publish returned after the ack: the messages are stored now, no waiting needed.
    let stored = stored(&bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>").await?;
    let bodies: Vec<&[u8]> = stored.iter().map(|m| m.payload.as_ref()).collect();
    assert_eq!(bodies, [b"first".as_slice(), b"second".as_slice()]);
    assert_eq!(
        stored[0].headers.get("traceparent").map(|v| v.as_str()),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        "headers travel with the message"
    );
    Ok(())
}

#[tokio::test]
async fn publishing_to_a_dead_server_fails_as_unavailable_within_the_timeout() -> anyhow::Result<()>
{
    let (mut server, bus) = started().await?;
    server.kill();
    let err = bus
        .publish(message("lastmile.diagnosis.image.auth", "d", "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, BusError::Unavailable(_)), "{err}");
    assert!(err.is_retryable());

    let nobody = NatsConfig {
        connect_timeout: Duration::from_millis(500),
        ..NatsConfig::with_url(format!("nats://127.0.0.1:{}", server.port()))
    };
    let err = NatsBus::connect(&nobody).await.unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("127.0.0.1:{}", server.port())),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn nak_redelivers_with_the_attempt_count_and_term_stops_redelivery() -> anyhow::Result<()> {
    let (_server, bus) = started().await?;
    let mut subscription = bus.subscribe(&spec(Duration::from_secs(30))).await?;
    bus.publish(message("lastmile.incident.pending", "i-1", "incident"))
        .await?;

    let first = next(&mut subscription).await?;
    assert_eq!(
        (first.attempt, first.message.payload.as_ref()),
        (1, b"incident".as_slice())
    );
    assert_eq!(first.message.header(MSG_ID_HEADER), Some("i-1"));
    first.settle.nak(Duration::from_millis(200)).await?;

    let second = next(&mut subscription).await?;
    assert_eq!(second.attempt, 2);
    second.settle.term().await?;
    assert!(
        nothing_within(&mut subscription, Duration::from_secs(2)).await,
        "terminated message came back"
    );
    Ok(())
}

#[tokio::test]
async fn an_unsettled_delivery_comes_back_after_ack_wait_and_in_progress_holds_it()
-> anyhow::Result<()> {
    let (_server, bus) = started().await?;
    let ack_wait = Duration::from_secs(1);
    let mut subscription = bus.subscribe(&spec(ack_wait)).await?;
    bus.publish(message("lastmile.incident.pending", "i-1", "incident"))
        .await?;

    let first = next(&mut subscription).await?;
    drop(first); // the consumer died holding it
    let mut second = next(&mut subscription)
        .await
        .context("no redelivery after ack wait")?;
    assert_eq!(second.attempt, 2);

    // Working longer than ack_wait while reporting progress keeps the delivery.
    for _ in 0..4 {
        tokio::time::sleep(ack_wait / 2).await;
        second.settle.in_progress().await?;
    }
    second.settle.ack().await?;
    assert!(
        nothing_within(&mut subscription, Duration::from_secs(2)).await,
        "acked message came back"
    );
    let stream = bus.jetstream().get_stream("LASTMILE_INCIDENTS").await?;
    let info = stream.consumer_info("bus-test").await?;
    assert_eq!(info.num_ack_pending, 0);
    assert_eq!(
        info.delivered.consumer_sequence, 2,
        "one delivery and one redelivery"
    );
    Ok(())
}

#[tokio::test]
async fn the_consumer_limits_deliveries_to_max_deliver_plus_one() -> anyhow::Result<()> {
    let (_server, bus) = started().await?;
    let mut subscription = bus.subscribe(&spec(Duration::from_secs(30))).await?;
    bus.publish(message("lastmile.incident.pending", "i-1", "incident"))
        .await?;
    for attempt in 1..=4 {
        let delivery = next(&mut subscription).await?;
        assert_eq!(delivery.attempt, attempt);
        delivery.settle.nak(Duration::ZERO).await?;
    }
    assert!(
        nothing_within(&mut subscription, Duration::from_secs(2)).await,
        "delivered past the limit"
    );
    Ok(())
}

#[tokio::test]
async fn a_subscription_survives_a_server_restart() -> anyhow::Result<()> {
    let (mut server, bus) = started().await?;
    let mut subscription = bus.subscribe(&spec(Duration::from_secs(30))).await?;
    bus.publish(message("lastmile.incident.pending", "before", "before"))
        .await?;
    next(&mut subscription).await?.settle.ack().await?;

    server.restart().await?;
    let mut published = false;
    for _ in 0..100 {
        if bus
            .publish(message("lastmile.incident.pending", "after", "after"))
            .await
            .is_ok()
        {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(published, "could not publish after the restart");
    let delivery = next(&mut subscription).await?;
    assert_eq!(
        delivery.message.payload.as_ref(),
        b"after",
        "the acked message was not redelivered"
    );
    delivery.settle.ack().await?;
    Ok(())
}

#[tokio::test]
async fn a_subscription_survives_an_outage_longer_than_the_heartbeat() -> anyhow::Result<()> {
    let (mut server, bus) = started().await?;
    let mut subscription = bus.subscribe(&spec(Duration::from_secs(30))).await?;
    server.kill();
    // Long enough for the pull's idle heartbeat to be missed: the stream of messages fails
    // and the subscription has to re-open it (and its consumer) once the server is back.
    let outage = tokio::time::timeout(Duration::from_secs(8), subscription.next()).await;
    assert!(
        matches!(outage, Err(_) | Ok(Some(Err(_)))),
        "no delivery can happen while the server is down"
    );
    server.resume().await?;
    let mut published = false;
    for _ in 0..100 {
        if bus
            .publish(message("lastmile.incident.pending", "after", "after"))
            .await
            .is_ok()
        {
            published = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(published, "could not publish after the outage");
    let delivery = next(&mut subscription).await?;
    assert_eq!(delivery.message.payload.as_ref(), b"after");
    delivery.settle.ack().await?;
    Ok(())
}

#[tokio::test]
async fn a_deleted_consumer_is_recreated_by_the_subscription() -> anyhow::Result<()> {
    let (_server, bus) = started().await?;
    let mut subscription = bus.subscribe(&spec(Duration::from_secs(30))).await?;
    let stream = bus.jetstream().get_stream("LASTMILE_INCIDENTS").await?;
    stream.delete_consumer("bus-test").await?;
    bus.publish(message("lastmile.incident.pending", "i-1", "incident"))
        .await?;
    let delivery = next(&mut subscription).await?;
    assert_eq!(delivery.message.payload.as_ref(), b"incident");
    delivery.settle.ack().await?;
    assert_eq!(stream.consumer_info("bus-test").await?.num_ack_pending, 0);
    Ok(())
}
