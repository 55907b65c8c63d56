#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use bytes::Bytes;
use lastmile_contract::FunctionSpec;

use super::dead_letter::{MAX_REASON_BYTES, header_value};
use super::*;
use crate::bus::{DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER, MSG_ID_HEADER};

/// How a binary embeds the bus and host options.
#[derive(Debug, clap::Parser)]
struct Cli {
    #[command(flatten)]
    nats: crate::bus::nats::NatsConfig,
    #[command(flatten)]
    host: HostOptions,
}

#[test]
fn flags_parse_with_defaults_and_durations() {
    use clap::{CommandFactory, Parser};
    Cli::command().debug_assert();
    let cli = Cli::try_parse_from([
        "lastmile",
        "--nats-url",
        "nats://a:4222,nats://b:4222",
        "--ack-wait",
        "45s",
        "--concurrency",
        "8",
    ])
    .unwrap();
    assert_eq!(cli.nats.urls, ["nats://a:4222", "nats://b:4222"]);
    assert_eq!(cli.host.ack_wait, Duration::from_secs(45));
    assert_eq!(cli.host.concurrency, 8);
    assert_eq!(cli.host.drain_timeout, HostOptions::default().drain_timeout);
    assert_eq!(
        cli.host.retry_backoff_max,
        HostOptions::default().retry_backoff_max
    );
    assert!(cli.host.validate().is_ok() && cli.nats.validate().is_ok());
    let err = Cli::try_parse_from(["lastmile", "--ack-wait", "soon"]).unwrap_err();
    assert!(err.to_string().contains("not a duration"), "{err}");
}

#[test]
fn retry_delay_doubles_and_is_capped() {
    let opts = HostOptions {
        retry_backoff: Duration::from_secs(1),
        retry_backoff_max: Duration::from_secs(10),
        ..Default::default()
    };
    let delays: Vec<u64> = (1..=6).map(|a| opts.retry_delay(a).as_secs()).collect();
    assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
    assert_eq!(opts.retry_delay(u64::MAX), Duration::from_secs(10));
}

#[test]
fn options_validation_names_the_flag() {
    assert!(HostOptions::default().validate().is_ok());
    let cases = [
        (
            HostOptions {
                concurrency: 0,
                ..Default::default()
            },
            "--concurrency",
        ),
        (
            HostOptions {
                max_deliver: 0,
                ..Default::default()
            },
            "--max-deliver",
        ),
        (
            HostOptions {
                ack_wait: Duration::ZERO,
                ..Default::default()
            },
            "--ack-wait",
        ),
        (
            HostOptions {
                retry_backoff: Duration::from_secs(120),
                ..Default::default()
            },
            "--retry-backoff",
        ),
    ];
    for (opts, flag) in cases {
        let err = opts.validate().unwrap_err().to_string();
        assert!(err.contains(flag), "{err}");
    }
}

#[test]
fn dead_letter_keeps_the_bytes_and_headers_and_gets_a_stable_id() {
    let mut headers = BTreeMap::new();
    headers.insert("Nats-Msg-Id".to_owned(), "incident-42".to_owned());
    headers.insert("Nats-Expected-Stream".to_owned(), "X".to_owned());
    headers.insert(
        "traceparent".to_owned(),
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_owned(),
    );
    let original = Message {
        subject: "lastmile.incident.pending".to_owned(),
        headers,
        payload: Bytes::from_static(b"{not json"),
    };
    let reason =
        "bad input: malformed CloudEvent: key must be a string at line 1 column 2\nsecond line";
    let letter = dead_letter_message("pending", &original, 3, reason);
    assert_eq!(letter.subject, "lastmile.dlq.pending");
    assert_eq!(letter.payload, original.payload);
    assert_eq!(letter.header("traceparent"), original.header("traceparent"));
    assert_eq!(
        letter.header(DLQ_SUBJECT_HEADER),
        Some("lastmile.incident.pending")
    );
    assert_eq!(letter.header(DLQ_ATTEMPTS_HEADER), Some("3"));
    assert_eq!(letter.header("Nats-Expected-Stream"), None);
    let shown = letter.header(DLQ_REASON_HEADER).unwrap();
    assert!(
        shown.contains("malformed CloudEvent") && !shown.contains('\n'),
        "{shown}"
    );
    let id = letter.header(MSG_ID_HEADER).unwrap();
    assert_ne!(id, "incident-42");
    // Same message, later attempt and other reason: same id, so JetStream drops the repeat.
    let again = dead_letter_message("pending", &original, 5, "other");
    assert_eq!(again.header(MSG_ID_HEADER), Some(id));
}

#[test]
fn dead_letter_reason_is_redacted() {
    let original = Message {
        subject: "lastmile.incident.image-pull".to_owned(),
        ..Message::default()
    };
    let reason = "retryable: GET https://ci-bot:hunter2-token@registry.example.com/v2/ failed; Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl";
    let letter = dead_letter_message("image-pull", &original, 1, reason);
    let shown = letter.header(DLQ_REASON_HEADER).unwrap();
    assert!(
        !shown.contains("hunter2") && !shown.contains("eyJzdWIi"),
        "{shown}"
    );
    assert!(shown.contains("registry.example.com"), "{shown}");
}

#[test]
fn long_reasons_are_cut_on_a_char_boundary() {
    let reason = "é".repeat(2000);
    let value = header_value(&reason);
    assert!(value.len() <= MAX_REASON_BYTES + "…".len());
    assert!(value.ends_with('…'));
}

#[test]
fn consumer_spec_is_named_after_the_function_and_its_families() {
    let spec = FunctionSpec {
        name: "image-pull",
        description: "test",
        families: &[lastmile_events::IncidentFamily::ImagePull],
        deadline: Duration::from_secs(5),
        max_evidence_bytes: 1024,
    };
    let consumer = HostOptions::default().consumer_spec(&spec);
    assert_eq!(consumer.durable, "image-pull");
    assert_eq!(consumer.subjects, ["lastmile.incident.image-pull"]);
    assert_eq!(consumer.delivery_limit(), 6);
}
