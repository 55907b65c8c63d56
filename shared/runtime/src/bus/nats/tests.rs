//! Configuration, stream, header and backoff rules of the NATS bus (no server needed).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use lastmile_events::subjects::STREAMS;

use super::consume::reopen_backoff;
use super::publish::to_header_map;
use super::retry::Backoff;
use super::streams::cluster_not_ready;
use super::*;

#[test]
fn durations_parse_with_units() {
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
    assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration(" 1h "), Ok(Duration::from_secs(3600)));
    for bad in ["", "s", "5 days", "-1s", "1.5s", "99999999999999999999h"] {
        assert!(parse_duration(bad).is_err(), "{bad:?}");
    }
    assert!(matches!(
        parse_duration("5 days"),
        Err(DurationError::UnknownUnit { unit, .. }) if unit == "days"
    ));
    assert!(matches!(
        parse_duration("-1s"),
        Err(DurationError::NotANumber { .. })
    ));
    assert!(matches!(
        parse_duration("9999999999999999h"),
        Err(DurationError::TooLong { .. })
    ));
    assert_eq!(
        parse_duration("2 weeks").unwrap_err().to_string(),
        r#""2 weeks": unknown unit "weeks" (use ms, s, m or h)"#
    );
}

#[test]
fn config_validation_names_the_flag() {
    assert_eq!(NatsConfig::default().validate(), Ok(()));
    let cases = [
        (
            NatsConfig {
                urls: vec![" ".into()],
                ..Default::default()
            },
            "--nats-url",
        ),
        (
            NatsConfig {
                urls: vec!["nats://host:notaport".into()],
                ..Default::default()
            },
            "--nats-url",
        ),
        (
            NatsConfig {
                token: Some("t".into()),
                user: Some("u".into()),
                password: Some("p".into()),
                ..Default::default()
            },
            "choose one",
        ),
        (
            NatsConfig {
                user: Some("u".into()),
                ..Default::default()
            },
            "--nats-password",
        ),
        (
            NatsConfig {
                creds_file: Some("/nonexistent/user.creds".into()),
                ..Default::default()
            },
            "--nats-creds",
        ),
        (
            NatsConfig {
                request_timeout: Duration::ZERO,
                ..Default::default()
            },
            "--nats-request-timeout",
        ),
        (
            NatsConfig {
                pull_batch: 0,
                ..Default::default()
            },
            "--nats-pull-batch",
        ),
    ];
    for (config, flag) in cases {
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains(flag), "{err} should mention {flag}");
    }
}

#[test]
fn config_from_json_rejects_unknown_fields_and_reads_durations() {
    let ok: NatsConfig =
        serde_json::from_str(r#"{"urls":["nats://a:4222"],"request_timeout":"2s"}"#).unwrap();
    assert_eq!(ok.request_timeout, Duration::from_secs(2));
    assert_eq!(ok.connect_timeout, Duration::from_secs(5));
    let err = serde_json::from_str::<NatsConfig>(r#"{"url":"nats://a:4222"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn debug_hides_secrets() {
    let config = NatsConfig {
        user: Some("ci".into()),
        password: Some("hunter2-secret".into()),
        ..Default::default()
    };
    let shown = format!("{config:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    let config = NatsConfig::with_url("nats://ci:url-s3cr3t@nats.example.com:4222");
    assert!(!format!("{config:?}").contains("url-s3cr3t"));
    let config = NatsConfig {
        token: Some("s3cr3t-token".into()),
        ..Default::default()
    };
    assert!(!format!("{config:?}").contains("s3cr3t"));
}

#[test]
fn stream_config_follows_the_spec() {
    for spec in STREAMS {
        let c = stream_config(spec, 1);
        assert_eq!(c.name, spec.name);
        assert_eq!(c.subjects, spec.subjects);
        assert_eq!(c.max_age, Duration::from_secs(spec.max_age_secs));
        assert_eq!(
            c.duplicate_window,
            Duration::from_secs(spec.duplicate_window_secs)
        );
        assert_eq!(c.max_message_size, spec.max_msg_size);
    }
}

#[test]
fn header_values_with_newlines_are_rejected_not_panicking() {
    let mut headers = BTreeMap::new();
    headers.insert(
        "Lastmile-Dlq-Reason".to_owned(),
        "line one\r\nline two".to_owned(),
    );
    assert!(matches!(
        to_header_map(&headers),
        Err(BusError::Rejected(_))
    ));
    let mut headers = BTreeMap::new();
    headers.insert("bad:name".to_owned(), "v".to_owned());
    assert!(matches!(
        to_header_map(&headers),
        Err(BusError::Rejected(_))
    ));
}

#[test]
fn reopen_backoff_grows_and_is_capped() {
    assert!(reopen_backoff(1) < reopen_backoff(2));
    let capped = reopen_backoff(40);
    assert!(capped >= Duration::from_millis(2500) && capped <= Duration::from_secs(5));
}

#[test]
fn backoff_is_jittered_within_half_to_full_of_the_capped_exponential() {
    let backoff = Backoff::CLUSTER;
    for attempt in 1..=20u32 {
        let full = (Duration::from_millis(100) * 2u32.pow(attempt.min(17) - 1))
            .min(Duration::from_secs(5));
        let delays: Vec<Duration> = (0..50).map(|_| backoff.delay(attempt)).collect();
        for d in &delays {
            assert!(
                *d >= full / 2 && *d <= full,
                "attempt {attempt}: {d:?} vs {full:?}"
            );
        }
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(
            distinct.len() > 1,
            "attempt {attempt}: no jitter in {delays:?}"
        );
    }
}

#[test]
fn only_cluster_not_ready_codes_are_transient() {
    use async_nats::jetstream::ErrorCode;
    assert!(cluster_not_ready(ErrorCode::CLUSTER_NOT_AVAILABLE));
    assert!(cluster_not_ready(ErrorCode::CLUSTER_NOT_LEADER));
    assert!(cluster_not_ready(ErrorCode::INSUFFICIENT_RESOURCES));
    assert!(!cluster_not_ready(ErrorCode::STREAM_SUBJECT_OVERLAP));
    assert!(!cluster_not_ready(ErrorCode::BAD_REQUEST));
}

#[tokio::test]
async fn a_retried_call_stops_at_the_first_refusal_and_when_the_budget_is_spent() {
    // `from_client` needs a client; an unconnected one is enough (no call goes out).
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect("nats://127.0.0.1:1")
        .await
        .unwrap();
    let bus = NatsBus::from_client(client, Duration::from_millis(100), 1)
        .with_retry_for(Duration::from_millis(400));
    let calls = std::sync::atomic::AtomicU32::new(0);
    let refused = bus
        .retrying("refused", || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err::<(), _>(BusError::Rejected("no".into()))
        })
        .await;
    assert!(matches!(refused, Err(BusError::Rejected(_))));
    assert_eq!(calls.swap(0, std::sync::atomic::Ordering::Relaxed), 1);

    let started = std::time::Instant::now();
    let unavailable = bus
        .retrying("unavailable", || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err::<(), _>(BusError::Unavailable("later".into()))
        })
        .await;
    assert!(matches!(unavailable, Err(BusError::Unavailable(_))));
    assert!(calls.load(std::sync::atomic::Ordering::Relaxed) > 1);
    assert!(started.elapsed() <= Duration::from_millis(400));

    let mut left = 2;
    let recovered = bus
        .retrying("recovers", || {
            left -= 1;
            let ok = left < 0;
            async move {
                if ok {
                    Ok(7)
                } else {
                    Err(BusError::Unavailable("electing".into()))
                }
            }
        })
        .await;
    assert_eq!(recovered.unwrap(), 7);
}

#[tokio::test]
async fn a_missing_credentials_file_is_rejected_with_the_config_error_as_source() {
    let config = NatsConfig {
        creds_file: Some("/nonexistent/lastmile.creds".into()),
        ..NatsConfig::with_url("nats://127.0.0.1:1")
    };
    let err = NatsBus::connect(&config).await.err().unwrap();
    assert!(matches!(err, BusError::Rejected(_)), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/lastmile.creds"),
        "{err}"
    );
    let config_error = std::error::Error::source(&err)
        .and_then(std::error::Error::source)
        .and_then(|s| s.downcast_ref::<ConfigError>());
    assert!(
        matches!(config_error, Some(ConfigError::Invalid(m)) if m.contains("--nats-creds")),
        "{err:?}"
    );
}
