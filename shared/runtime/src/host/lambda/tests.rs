#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn missing_lambda_env_is_a_config_error_not_a_panic() {
    let err = check_env(|_| None).unwrap_err();
    assert!(err.to_string().contains("AWS_LAMBDA_RUNTIME_API"), "{err}");
    let all: BTreeMap<&str, &str> = REQUIRED_ENV.iter().map(|k| (*k, "x")).collect();
    check_env(|k| all.get(k).map(|v| (*v).to_owned())).unwrap();
    let err =
        check_env(|k| (k != "AWS_LAMBDA_FUNCTION_VERSION").then(|| "x".to_owned())).unwrap_err();
    assert!(
        err.to_string().contains("AWS_LAMBDA_FUNCTION_VERSION")
            && !err.to_string().contains("RUNTIME_API")
    );
}

#[test]
fn envelope_trace_context_becomes_message_headers() {
    let payload = serde_json::json!({
        "specversion": "1.0", "id": "e1", "source": "/w", "type": "dev.lastmile.incident.v1",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "tracestate": "vendor=x",
        "data": {"family": "pending"}
    });
    let m = message_from(payload).unwrap();
    assert_eq!(
        m.header("traceparent"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    );
    assert_eq!(m.header("tracestate"), Some("vendor=x"));
    assert_eq!(m.subject, subjects::incident(IncidentFamily::Pending));
    let m = message_from(serde_json::json!({"id": "x"})).unwrap();
    assert!(m.headers.is_empty());
    assert!(matches!(
        message_from(serde_json::json!([1])),
        Err(ProcessError::BadInput(_))
    ));
}

#[test]
fn error_types_say_whether_to_retry_and_messages_are_redacted() {
    let e = InvocationError::from_process(&ProcessError::Retryable(
        "PutObject: https://u:hunter2@s3.example.com timed out".into(),
    ));
    assert_eq!(e.error_type, "lastmile.Retryable");
    assert!(e.is_retryable());
    assert!(!e.message.contains("hunter2"));
    let d: lambda_runtime::Diagnostic =
        InvocationError::from_process(&ProcessError::BadInput("bad".into())).into();
    assert_eq!(d.error_type, "lastmile.BadInput");
    assert_eq!(d.error_message, "bad");
    assert!(!InvocationError::from_process(&ProcessError::Permanent("p".into())).is_retryable());
}

#[test]
fn a_panic_is_a_permanent_error_with_its_redacted_message() {
    let e = InvocationError::panicked(&"index out of bounds: the len is 0 but the index is 0");
    assert_eq!(e.error_type, "lastmile.Permanent");
    assert!(!e.is_retryable());
    assert_eq!(
        e.message,
        "the function panicked: index out of bounds: the len is 0 but the index is 0"
    );
    let formatted = String::from("cannot reach https://ci:hunter2@registry.example.com");
    let e = InvocationError::panicked(&formatted);
    assert!(e.message.starts_with("the function panicked: cannot reach"));
    assert!(!e.message.contains("hunter2"), "{}", e.message);
    let e = InvocationError::panicked(&42_u8);
    assert_eq!(e.message, "the function panicked: (no message)");
}

#[test]
fn only_unreachable_dependencies_make_a_retryable_setup_error() {
    use crate::bus::BusError;
    use crate::evidence::EvidenceError;
    use setup::SetupError;
    let unavailable = || BusError::Unavailable("connection refused".into());
    assert!(SetupError::Nats(unavailable()).is_retryable());
    assert!(SetupError::Streams(unavailable()).is_retryable());
    assert!(SetupError::S3(EvidenceError::Unavailable("timeout".into())).is_retryable());
    assert!(!SetupError::Nats(BusError::Rejected("authorization violation".into())).is_retryable());
    assert!(!SetupError::S3(EvidenceError::Rejected("no such bucket".into())).is_retryable());
    assert!(
        !SetupError::NatsConfig(crate::bus::nats::ConfigError::Invalid("x".into())).is_retryable()
    );
}
