#![allow(clippy::unwrap_used)]

use opentelemetry::Value;

use super::*;

fn keys(kvs: &[KeyValue]) -> Vec<&str> {
    kvs.iter().map(|kv| kv.key.as_str()).collect()
}

#[test]
fn the_gauge_is_keyed_by_endpoint_operation_and_manifest_only() {
    let o = Observation {
        endpoint: "registry.example.com:5000",
        operation: Operation::Manifest,
        manifest: Some("team/app:1.0"),
        healthy: false,
        status: Some(404),
        error: Some("image.not_found"),
        latency: Duration::from_millis(12),
    };
    assert_eq!(
        keys(&status_attributes(&o)),
        ["endpoint", "operation", "manifest"]
    );
    let latency = latency_attributes(&o);
    assert_eq!(
        keys(&latency),
        [
            "endpoint",
            "operation",
            "manifest",
            "http.response.status_code",
            "error.type"
        ]
    );
    assert_eq!(latency[1].value.as_str(), "manifest");
    assert_eq!(latency[3].value, Value::I64(404));
}

#[test]
fn a_healthy_check_carries_no_error_type_and_no_manifest_when_none_was_checked() {
    let o = Observation {
        endpoint: "localhost:5000",
        operation: Operation::ApiVersion,
        manifest: None,
        healthy: true,
        status: Some(200),
        error: Some("ignored"),
        latency: Duration::ZERO,
    };
    assert_eq!(
        keys(&latency_attributes(&o)),
        ["endpoint", "operation", "http.response.status_code"]
    );
    assert_eq!(status_attributes(&o)[1].value.as_str(), "api_version");
}

#[test]
fn credentials_in_an_endpoint_never_reach_the_attributes() {
    let o = Observation {
        endpoint: "https://robot:hunter2@registry.example.com",
        operation: Operation::Catalog,
        manifest: None,
        healthy: true,
        status: None,
        error: None,
        latency: Duration::ZERO,
    };
    let rendered = format!("{:?}", latency_attributes(&o));
    assert!(!rendered.contains("hunter2"), "{rendered}");
}

#[test]
fn operations_serialise_as_their_attribute_values() {
    for op in [
        Operation::ApiVersion,
        Operation::Manifest,
        Operation::Catalog,
    ] {
        assert_eq!(
            serde_json::to_value(op).unwrap(),
            serde_json::Value::from(op.as_str())
        );
    }
}
