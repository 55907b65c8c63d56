#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use opentelemetry::{KeyValue, Value};

use super::*;
use crate::redact;

fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| vars.get(k).cloned()
}

#[test]
fn config_follows_the_otel_environment() {
    let c = TelemetryConfig::from_lookup("svc", lookup(&[])).unwrap();
    assert_eq!(c.otlp, None);
    assert_eq!(c.log_filter, "info");
    let c = TelemetryConfig::from_lookup(
        "svc",
        lookup(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]),
    )
    .unwrap();
    assert_eq!(
        c.otlp,
        Some(OtlpConfig {
            protocol: OtlpProtocol::HttpProtobuf,
            endpoint: None,
            tls: Default::default(),
        })
    );
    let c = TelemetryConfig::from_lookup(
        "svc",
        lookup(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]),
    )
    .unwrap();
    assert_eq!(c.otlp.unwrap().protocol, OtlpProtocol::Grpc);
    let c =
        TelemetryConfig::from_lookup("svc", lookup(&[("OTEL_TRACES_EXPORTER", "otlp")])).unwrap();
    assert!(c.otlp.is_some());
    let c = TelemetryConfig::from_lookup(
        "svc",
        lookup(&[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ]),
    )
    .unwrap();
    assert!(c.otlp.is_none());
    let c = TelemetryConfig::from_lookup(
        "svc",
        lookup(&[("RUST_LOG", "debug"), ("LASTMILE_LOG", "warn")]),
    )
    .unwrap();
    assert_eq!(c.log_filter, "warn");
    assert!(matches!(
        TelemetryConfig::from_lookup(
            "svc",
            lookup(&[
                ("OTEL_TRACES_EXPORTER", "otlp"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
            ])
        ),
        Err(TelemetryError::Config(_))
    ));
    assert!(matches!(
        TelemetryConfig::from_lookup("svc", lookup(&[("OTEL_TRACES_EXPORTER", "zipkin")])),
        Err(TelemetryError::Config(_))
    ));
}

#[test]
fn a_bad_log_filter_is_a_config_error() {
    let mut c = TelemetryConfig::from_lookup("svc", lookup(&[])).unwrap();
    c.log_filter = "lastmile=notalevel".into();
    assert!(matches!(build(&c), Err(TelemetryError::Config(_))));
}

#[test]
fn a_bad_log_filter_keeps_the_parse_error_as_its_source() {
    let mut c = TelemetryConfig::from_lookup("svc", lookup(&[])).unwrap();
    c.log_filter = "lastmile=notalevel".into();
    let err = build(&c).err().unwrap();
    assert!(err.to_string().contains("lastmile=notalevel"), "{err}");
    let parse = std::error::Error::source(&err)
        .and_then(std::error::Error::source)
        .and_then(|s| s.downcast_ref::<tracing_subscriber::filter::ParseError>());
    assert!(parse.is_some(), "{err:?}");
}

#[test]
fn trace_context_round_trips_through_headers() {
    let c = TelemetryConfig::from_lookup("svc", lookup(&[("LASTMILE_LOG", "off")])).unwrap();
    let telemetry = build(&c).unwrap();
    tracing::dispatcher::with_default(&telemetry.dispatch, || {
        let producer = tracing::info_span!("producer");
        let mut headers = BTreeMap::new();
        headers.insert("Traceparent".to_owned(), "stale".to_owned());
        producer.in_scope(|| inject_current(&mut headers));
        let tp = headers.get("traceparent").cloned().unwrap();
        assert!(
            !headers.contains_key("Traceparent"),
            "one traceparent header: {headers:?}"
        );
        let trace_id = trace_id_of(&producer).unwrap();
        assert_eq!(trace_id.len(), 32);
        assert!(
            tp.starts_with(&format!("00-{trace_id}-")) && tp.ends_with("-01"),
            "{tp}"
        );

        let consumer = tracing::info_span!("consumer");
        set_parent_from(&consumer, &headers);
        assert_eq!(trace_id_of(&consumer), Some(trace_id.clone()));
        let mut next = BTreeMap::new();
        consumer.in_scope(|| inject_current(&mut next));
        let next_tp = next.get("traceparent").unwrap();
        assert!(
            next_tp.contains(&trace_id) && next_tp != &tp,
            "new span id, same trace: {next_tp} vs {tp}"
        );

        // No or garbage parent: a fresh root trace, never a panic.
        let orphan = tracing::info_span!("orphan");
        let mut junk = BTreeMap::new();
        junk.insert("traceparent".to_owned(), "00-zz-yy-01".to_owned());
        set_parent_from(&orphan, &junk);
        let own = trace_id_of(&orphan).unwrap();
        assert_ne!(own, trace_id);
    });
}

#[test]
fn without_a_subscriber_nothing_is_injected() {
    let mut headers = BTreeMap::new();
    inject_current(&mut headers);
    assert!(headers.is_empty());
    assert_eq!(trace_id_of(&tracing::Span::current()), None);
}

#[test]
fn span_attributes_are_redacted() {
    let mut attrs = vec![
        KeyValue::new("http.request.header.authorization", "Bearer abc"),
        KeyValue::new("url.full", "https://u:hunter2@registry.example.com/v2/"),
        KeyValue::new("k8s.pod.name", "api-0"),
        KeyValue::new("http.response.status_code", 401),
    ];
    redact_attributes(&mut attrs);
    assert_eq!(attrs[0].value.as_str(), redact::REDACTED);
    assert_eq!(
        attrs[1].value.as_str(),
        "https://[REDACTED]@registry.example.com/v2/"
    );
    assert_eq!(attrs[2].value.as_str(), "api-0");
    assert_eq!(attrs[3].value, Value::I64(401));
}
