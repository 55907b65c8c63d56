//! What one `Invoke` means for the delivery (pure; the dispatcher does the I/O).
//!
//! | Invoke returned | delivery |
//! |---|---|
//! | 200, no `X-Amz-Function-Error` | ack |
//! | 200 with `X-Amz-Function-Error`, `errorType` `lastmile.Retryable` | nak (the function said a retry can help: S3 or NATS was down) |
//! | 200 with `X-Amz-Function-Error`, any other `errorType` | dead-letter with the function's reason |
//! | 429 (`TooManyRequestsException`), any 5xx | nak with backoff |
//! | no answer (timeout, connection refused or reset) | nak with backoff |
//! | another 4xx (function not found, access denied, payload rejected) | dead-letter |

use lastmile_runtime::executor::ProcessError;
use lastmile_runtime::host::lambda::ERROR_TYPE_PREFIX;
use serde_json::Value;

/// One Invoke, reduced to what decides the settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invoked<'a> {
    /// The service ran the function: the `X-Amz-Function-Error` header and the payload.
    Ran {
        /// `X-Amz-Function-Error` (`Unhandled`, `Handled`), when the function failed.
        function_error: Option<&'a str>,
        /// The response payload (the function's result or its error document).
        payload: &'a [u8],
    },
    /// The service refused the request.
    Refused {
        /// HTTP status.
        status: u16,
        /// The error code (`TooManyRequestsException`, `ResourceNotFoundException`, …).
        code: Option<&'a str>,
        /// The service's message.
        message: Option<&'a str>,
    },
    /// No answer in time, or the connection failed.
    NoAnswer(String),
    /// The request could not be built (a bug or bad configuration).
    Unsendable(String),
}

/// The settlement of one Invoke of `lambda`: `Ok` acks; the error says nak or dead-letter.
pub fn settle(lambda: &str, invoked: &Invoked<'_>) -> Result<(), ProcessError> {
    match invoked {
        Invoked::Ran {
            function_error: None,
            ..
        } => Ok(()),
        Invoked::Ran {
            function_error: Some(kind),
            payload,
        } => {
            let (error_type, message) = error_document(payload);
            let reason = format!("Lambda {lambda} failed ({kind}): {error_type}: {message}");
            if error_type == format!("{ERROR_TYPE_PREFIX}Retryable") {
                Err(ProcessError::Retryable(reason))
            } else {
                Err(ProcessError::Permanent(reason))
            }
        }
        Invoked::Refused {
            status,
            code,
            message,
        } => {
            let reason = format!(
                "Lambda {lambda} refused the invocation: HTTP {status} {}: {}",
                code.unwrap_or("(no error code)"),
                message.unwrap_or("(no message)")
            );
            let throttled = *status == 429 || *code == Some("TooManyRequestsException");
            if throttled || *status >= 500 {
                Err(ProcessError::Retryable(reason))
            } else {
                Err(ProcessError::Permanent(reason))
            }
        }
        Invoked::NoAnswer(why) => Err(ProcessError::Retryable(format!(
            "Lambda {lambda} did not answer: {why}"
        ))),
        Invoked::Unsendable(why) => Err(ProcessError::Permanent(format!(
            "cannot invoke Lambda {lambda}: {why}"
        ))),
    }
}

/// `errorType` and `errorMessage` of a function error document (Lambda's shape), or what
/// the payload says when it is not one.
fn error_document(payload: &[u8]) -> (String, String) {
    let doc: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    match (field("errorType"), field("errorMessage")) {
        (Some(t), m) => (t, m.unwrap_or_default()),
        (None, Some(m)) => ("(no errorType)".into(), m),
        (None, None) => (
            "(no errorType)".into(),
            String::from_utf8_lossy(&payload[..payload.len().min(512)]).into_owned(),
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
