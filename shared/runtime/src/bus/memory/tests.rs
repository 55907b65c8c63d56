#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use bytes::Bytes;

use super::*;

fn msg(subject: &str, id: Option<&str>, body: &str) -> Message {
    let mut headers = BTreeMap::new();
    if let Some(id) = id {
        headers.insert(MSG_ID_HEADER.to_owned(), id.to_owned());
    }
    Message {
        subject: subject.to_owned(),
        headers,
        payload: Bytes::from(body.to_owned()),
    }
}

fn spec(durable: &str, subjects: &[&str], max_deliver: u64) -> ConsumerSpec {
    ConsumerSpec {
        durable: durable.to_owned(),
        subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
        max_deliver,
        ack_wait: Duration::from_secs(30),
    }
}

async fn next(sub: &mut Box<dyn Subscription>) -> Delivery {
    let got = tokio::time::timeout(Duration::from_secs(60), sub.next()).await;
    match got {
        Ok(Some(Ok(d))) => d,
        other => panic!(
            "expected a delivery, got {:?}",
            other.map(|o| o.map(|r| r.map(|d| d.attempt)))
        ),
    }
}

async fn nothing_due(sub: &mut Box<dyn Subscription>) -> bool {
    tokio::time::timeout(Duration::from_millis(50), sub.next())
        .await
        .is_err()
}

#[test]
fn wildcards_follow_nats_rules() {
    let cases = [
        (
            "lastmile.diagnosis.>",
            "lastmile.diagnosis.image.auth",
            true,
        ),
        (
            "lastmile.diagnosis.>",
            "lastmile.diagnosis.scheduling",
            true,
        ),
        ("lastmile.diagnosis.>", "lastmile.diagnosis", false),
        (
            "lastmile.diagnosis.*",
            "lastmile.diagnosis.image.auth",
            false,
        ),
        ("lastmile.diagnosis.*", "lastmile.diagnosis.image", true),
        ("lastmile.*.image.>", "lastmile.remediation.image.tls", true),
        (
            "lastmile.*.image.>",
            "lastmile.remediation.scheduling.tls",
            false,
        ),
        (
            "lastmile.incident.pending",
            "lastmile.incident.pending",
            true,
        ),
        (
            "lastmile.incident.pending",
            "lastmile.incident.pending.x",
            false,
        ),
        (
            "lastmile.incident.pending.x",
            "lastmile.incident.pending",
            false,
        ),
        ("*", "lastmile", true),
        ("*", "lastmile.x", false),
        (">", "a.b.c", true),
        // `>` is only a wildcard as the last token.
        ("a.>.c", "a.b.c", false),
        ("lastmile.*", "lastmile.", false),
        ("lastmile..x", "lastmile..x", false),
    ];
    for (pattern, subject, want) in cases {
        assert_eq!(
            subject_matches(pattern, subject),
            want,
            "{pattern} vs {subject}"
        );
    }
}

#[test]
fn publish_subjects_reject_wildcards_and_empty_tokens() {
    assert!(is_publish_subject("lastmile.diagnosis.image.auth"));
    for bad in [
        "lastmile.*",
        "lastmile.>",
        "lastmile..x",
        "",
        "lastmile.a b",
        ".lastmile",
    ] {
        assert!(!is_publish_subject(bad), "{bad:?}");
    }
}

#[tokio::test]
async fn duplicate_msg_id_is_dropped_within_its_stream() {
    let bus = MemoryBus::new();
    bus.publish(msg("lastmile.diagnosis.image.auth", Some("d1"), "first"))
        .await
        .unwrap();
    bus.publish(msg("lastmile.diagnosis.image.auth", Some("d1"), "second"))
        .await
        .unwrap();
    bus.publish(msg("lastmile.diagnosis.image.auth", None, "no id 1"))
        .await
        .unwrap();
    bus.publish(msg("lastmile.diagnosis.image.auth", None, "no id 2"))
        .await
        .unwrap();
    // Same id in another stream is another message.
    bus.publish(msg("lastmile.dlq.pending", Some("d1"), "dlq"))
        .await
        .unwrap();
    let bodies: Vec<Bytes> = bus
        .published("lastmile.diagnosis.>")
        .into_iter()
        .map(|m| m.payload)
        .collect();
    assert_eq!(bodies, ["first", "no id 1", "no id 2"]);
    assert_eq!(bus.published(">").len(), 4);
}

#[tokio::test]
async fn subjects_outside_every_stream_are_rejected() {
    let bus = MemoryBus::new();
    let err = bus
        .publish(msg("other.subject", None, "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, BusError::Rejected(_)), "{err}");
    let err = bus
        .publish(msg("lastmile.diagnosis.*", None, "x"))
        .await
        .unwrap_err();
    assert!(matches!(err, BusError::Rejected(_)), "{err}");
    let big = "x".repeat((1 << 20) + 1);
    let err = bus
        .publish(msg("lastmile.diagnosis.image.auth", None, &big))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exceeds"), "{err}");
}

#[tokio::test]
async fn a_durable_delivers_each_message_to_one_subscription_from_the_start() {
    let bus = MemoryBus::new();
    // Published before anyone subscribed: still delivered (DeliverPolicy::All).
    bus.publish(msg("lastmile.incident.pending", Some("a"), "a"))
        .await
        .unwrap();
    bus.publish(msg("lastmile.incident.image-pull", Some("b"), "b"))
        .await
        .unwrap();
    bus.publish(msg("lastmile.incident.pending", Some("c"), "c"))
        .await
        .unwrap();
    let pending = spec("pending", &["lastmile.incident.pending"], 3);
    let mut one = bus.subscribe(&pending).await.unwrap();
    let mut two = bus.subscribe(&pending).await.unwrap();
    let first = next(&mut one).await;
    let second = next(&mut two).await;
    assert_eq!(first.message.payload, "a");
    assert_eq!(second.message.payload, "c");
    assert_eq!((first.attempt, second.attempt), (1, 1));
    first.settle.ack().await.unwrap();
    second.settle.ack().await.unwrap();
    assert!(nothing_due(&mut one).await);
    assert!(nothing_due(&mut two).await);
    // Another durable has its own cursor.
    let mut other = bus
        .subscribe(&spec("all", &["lastmile.incident.>"], 3))
        .await
        .unwrap();
    let bodies = [
        next(&mut other).await,
        next(&mut other).await,
        next(&mut other).await,
    ]
    .map(|d| d.message.payload);
    assert_eq!(bodies, ["a", "b", "c"]);
}

#[tokio::test(start_paused = true)]
async fn nak_redelivers_after_the_delay_with_the_attempt_count() {
    let bus = MemoryBus::new();
    bus.publish(msg("lastmile.incident.pending", Some("a"), "a"))
        .await
        .unwrap();
    let mut sub = bus
        .subscribe(&spec("pending", &["lastmile.incident.pending"], 2))
        .await
        .unwrap();
    let d = next(&mut sub).await;
    assert_eq!(d.attempt, 1);
    let naked_at = Instant::now();
    d.settle.nak(Duration::from_secs(5)).await.unwrap();
    let d = next(&mut sub).await;
    assert!(naked_at.elapsed() >= Duration::from_secs(5));
    assert_eq!(d.attempt, 2);
    d.settle.nak(Duration::ZERO).await.unwrap();
    // The limit is max_deliver + 1: one extra delivery lets the host dead-letter it.
    let d = next(&mut sub).await;
    assert_eq!(d.attempt, 3);
    d.settle.nak(Duration::ZERO).await.unwrap();
    assert!(nothing_due(&mut sub).await);
    bus.wait_idle("pending").await;
}

#[tokio::test(start_paused = true)]
async fn unsettled_delivery_comes_back_after_ack_wait_and_term_stops_it() {
    let bus = MemoryBus::new();
    bus.publish(msg("lastmile.incident.pending", Some("a"), "a"))
        .await
        .unwrap();
    let mut sub = bus
        .subscribe(&spec("pending", &["lastmile.incident.pending"], 5))
        .await
        .unwrap();
    let dropped = next(&mut sub).await;
    drop(dropped); // the consumer "died"
    let d = next(&mut sub).await;
    assert_eq!(d.attempt, 2);
    let mut settle = d.settle;
    settle.in_progress().await.unwrap();
    settle.term().await.unwrap();
    assert!(nothing_due(&mut sub).await);
    bus.wait_idle("pending").await;
}

#[tokio::test]
async fn wait_idle_waits_for_settlement() {
    let bus = MemoryBus::new();
    bus.publish(msg("lastmile.incident.pending", Some("a"), "a"))
        .await
        .unwrap();
    let mut sub = bus
        .subscribe(&spec("pending", &["lastmile.incident.pending"], 5))
        .await
        .unwrap();
    let d = next(&mut sub).await;
    let idle = bus.wait_idle("pending");
    tokio::pin!(idle);
    assert!(
        tokio::time::timeout(Duration::from_millis(50), &mut idle)
            .await
            .is_err()
    );
    d.settle.ack().await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), idle)
        .await
        .unwrap();
}
