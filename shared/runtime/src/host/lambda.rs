//! The AWS Lambda host: one function behind the Lambda Runtime API, via `lambda_runtime`.
//!
//! The invocation payload is the structured-mode CloudEvent (the same bytes a NATS message
//! carries). It is wrapped into a bus [`Message`] — with the envelope's `traceparent` /
//! `tracestate` as headers, since Lambda has no transport headers of its own — and handed
//! to the same [`Executor::process`] every host uses, so evidence and publishing behave
//! exactly as on NATS. The response is the diagnoses in the taxonomy's JSON shape plus the
//! incident key; a [`ProcessError`] becomes a Lambda error whose `errorType` says whether
//! a retry can help (`lastmile.BadInput`, `lastmile.Permanent`, `lastmile.Retryable`).
//! Spans are flushed at the end of every invocation: the execution environment may be
//! frozen as soon as the response is posted.
//!
//! A panic inside one invocation (a function bug on one input) is caught here and reported
//! as that invocation's `lastmile.Permanent` error, so the dispatcher dead-letters the event
//! with the panic's message, the spans are still flushed and the process keeps serving. This
//! needs `panic = "unwind"`, which is why the `ship` profile keeps it (see the root
//! `Cargo.toml`): with `abort` the process would die mid-invocation and Lambda would report
//! only `Runtime.ExitError`, without the cause, and start a cold environment for the next one.
//!
//! [`setup`] is the start-up every function binary shares (configuration, clients); a binary
//! that cannot start reports why with [`report_init_error`] before exiting, so Lambda shows
//! the cause instead of a bare exit status.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt as _;
use lastmile_events::{Diagnosis, IncidentFamily, subjects};
use serde::Serialize;
use serde_json::Value;

use crate::bus::{Message, TRACEPARENT_HEADER};
use crate::executor::{Executor, ProcessError};
use crate::redact;
use crate::telemetry::TelemetryGuard;

pub mod setup;

/// Environment variables the Lambda runtime needs (it panics without them; we check first).
pub const REQUIRED_ENV: &[&str] = &[
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// `errorType` prefix of the errors this host reports.
pub const ERROR_TYPE_PREFIX: &str = "lastmile.";

/// Lambda host failures (the host itself, not one invocation).
#[derive(Debug, thiserror::Error)]
pub enum LambdaHostError {
    /// The Lambda environment is incomplete: not running on Lambda, or misconfigured.
    #[error("not a Lambda environment: {0}")]
    Config(String),
    /// The runtime loop ended with an error (the Runtime API went away).
    #[error("lambda runtime: {0}")]
    Runtime(#[source] lambda_runtime::Error),
    /// The init error could not be reported to the Runtime API.
    #[error("cannot report the init error to the Lambda Runtime API")]
    InitReport(#[source] reqwest::Error),
}

/// What one successful invocation returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvocationResponse {
    /// The incident key.
    pub incident: String,
    /// The diagnoses as published, most likely first.
    pub diagnoses: Vec<Diagnosis>,
}

/// A failed invocation, reported to the Runtime API's error endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct InvocationError {
    /// `lastmile.BadInput`, `lastmile.Permanent` or `lastmile.Retryable`.
    pub error_type: String,
    /// Why (redacted).
    pub message: String,
}

impl InvocationError {
    fn from_process(e: &ProcessError) -> Self {
        let (kind, message) = match e {
            ProcessError::BadInput(m) => ("BadInput", m),
            ProcessError::Permanent(m) => ("Permanent", m),
            ProcessError::Retryable(m) => ("Retryable", m),
        };
        Self {
            error_type: format!("{ERROR_TYPE_PREFIX}{kind}"),
            message: redact::text(message).into_owned(),
        }
    }

    /// The error for an invocation whose function panicked: permanent (the same input
    /// panics again), with the panic's message.
    fn panicked(panic: &(dyn std::any::Any + Send)) -> Self {
        let what = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        Self {
            error_type: format!("{ERROR_TYPE_PREFIX}Permanent"),
            message: redact::text(&format!("the function panicked: {what}")).into_owned(),
        }
    }

    /// True when invoking again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.error_type.ends_with("Retryable")
    }
}

impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(e: InvocationError) -> Self {
        Self {
            error_type: e.error_type,
            error_message: e.message,
        }
    }
}

/// Checks that the Lambda environment is complete (without it `lambda_runtime` panics).
pub fn check_env(var: impl Fn(&str) -> Option<String>) -> Result<(), LambdaHostError> {
    let missing: Vec<&str> = REQUIRED_ENV
        .iter()
        .copied()
        .filter(|k| var(k).is_none_or(|v| v.trim().is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(LambdaHostError::Config(format!(
            "missing {}",
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Serves invocations until the Runtime API goes away. `AWS_LAMBDA_RUNTIME_API` and the
/// other `AWS_LAMBDA_*` variables come from the environment, as Lambda sets them.
pub async fn run(executor: Executor, telemetry: TelemetryGuard) -> Result<(), LambdaHostError> {
    let executor = executor.on_host(crate::executor::HostKind::Lambda);
    check_env(|k| std::env::var(k).ok())?;
    let telemetry = Arc::new(telemetry);
    tracing::info!(
        function = executor.function().spec.name,
        "Lambda host started."
    );
    let handler = lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<Value>| {
        let executor = executor.clone();
        let telemetry = telemetry.clone();
        async move {
            let (payload, context) = event.into_parts();
            let result = invoke(&executor, payload, &context.request_id).await;
            if let Err(e) = telemetry.flush().await {
                tracing::warn!(error = %e, "Spans not flushed after the invocation.");
            }
            result
        }
    });
    lambda_runtime::run(handler)
        .await
        .map_err(LambdaHostError::Runtime)
}

/// Processes one invocation payload (the structured CloudEvent). The testable core of [`run`].
/// A panic while processing becomes a `lastmile.Permanent` error (see the module docs).
pub async fn invoke(
    executor: &Executor,
    payload: Value,
    request_id: &str,
) -> Result<InvocationResponse, InvocationError> {
    match AssertUnwindSafe(process(executor, payload, request_id))
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(panic) => {
            let err = InvocationError::panicked(panic.as_ref());
            tracing::error!(request_id, error_type = %err.error_type, error = %err.message, "Invocation panicked.");
            Err(err)
        }
    }
}

async fn process(
    executor: &Executor,
    payload: Value,
    request_id: &str,
) -> Result<InvocationResponse, InvocationError> {
    let message = message_from(payload).map_err(|e| InvocationError::from_process(&e))?;
    match executor.process(&message).await {
        Ok(processed) => {
            tracing::info!(
                request_id,
                incident = %processed.incident,
                diagnoses = processed.diagnoses.len(),
                "Invocation processed."
            );
            Ok(InvocationResponse {
                incident: processed.incident,
                diagnoses: processed.diagnoses,
            })
        }
        Err(e) => {
            let err = InvocationError::from_process(&e);
            tracing::warn!(request_id, error_type = %err.error_type, error = %err.message, "Invocation failed.");
            Err(err)
        }
    }
}

/// How long reporting an init error may take: the process exits right after.
const INIT_REPORT_TIMEOUT: Duration = Duration::from_secs(2);

/// Reports a start-up failure to the Runtime API (`POST /runtime/init/error`), as a custom
/// runtime should before exiting: Lambda then fails the pending invocation with this
/// `errorType` (`lastmile.Retryable` when a dependency was unreachable, else
/// `lastmile.Permanent`) and the (redacted) cause. `runtime_api` is `AWS_LAMBDA_RUNTIME_API`.
pub async fn report_init_error(
    runtime_api: &str,
    retryable: bool,
    message: &str,
) -> Result<(), LambdaHostError> {
    let kind = if retryable { "Retryable" } else { "Permanent" };
    let error_type = format!("{ERROR_TYPE_PREFIX}{kind}");
    let body = serde_json::json!({
        "errorType": error_type,
        "errorMessage": redact::text(message),
        "stackTrace": [],
    });
    reqwest::Client::new()
        .post(format!(
            "http://{runtime_api}/2018-06-01/runtime/init/error"
        ))
        .header("Lambda-Runtime-Function-Error-Type", &error_type)
        .json(&body)
        .timeout(INIT_REPORT_TIMEOUT)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(LambdaHostError::InitReport)?;
    Ok(())
}

/// Wraps a CloudEvent payload into the bus message the executor consumes.
fn message_from(payload: Value) -> Result<Message, ProcessError> {
    if !payload.is_object() {
        return Err(ProcessError::BadInput(format!(
            "the invocation payload must be a structured CloudEvent JSON object, got {}",
            kind_of(&payload)
        )));
    }
    let mut headers = BTreeMap::new();
    for (attr, header) in [
        ("traceparent", TRACEPARENT_HEADER),
        ("tracestate", "tracestate"),
    ] {
        if let Some(v) = payload.get(attr).and_then(Value::as_str) {
            headers.insert(header.to_owned(), v.to_owned());
        }
    }
    let subject = payload
        .pointer("/data/family")
        .cloned()
        .and_then(|f| serde_json::from_value::<IncidentFamily>(f).ok())
        .map(subjects::incident)
        .unwrap_or_else(|| "lambda.invocation".to_owned());
    let bytes = serde_json::to_vec(&payload).map_err(|e| ProcessError::BadInput(e.to_string()))?;
    Ok(Message {
        subject,
        headers,
        payload: Bytes::from(bytes),
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
