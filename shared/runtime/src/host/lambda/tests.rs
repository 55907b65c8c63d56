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
