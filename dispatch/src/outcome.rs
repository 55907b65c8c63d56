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
mod tests {
    use super::*;

    fn kind(r: Result<(), ProcessError>) -> &'static str {
        match r {
            Ok(()) => "ack",
            Err(ProcessError::Retryable(_)) => "nak",
            Err(_) => "dead-letter",
        }
    }

    #[test]
    fn every_invoke_result_maps_to_its_settlement() {
        let ok = br#"{"incident":"pod/ci/x","diagnoses":[]}"#;
        let bad = br#"{"errorType":"lastmile.BadInput","errorMessage":"expected type dev.lastmile.incident.v1, got dev.lastmile.diagnosis.v1"}"#;
        let retry = br#"{"errorType":"lastmile.Retryable","errorMessage":"PutObject timed out"}"#;
        let timeout = br#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 1 Error: Task timed out after 30.00 seconds"}"#;
        let cases: Vec<(Invoked<'_>, &str)> = vec![
            (
                Invoked::Ran {
                    function_error: None,
                    payload: ok,
                },
                "ack",
            ),
            (
                Invoked::Ran {
                    function_error: Some("Unhandled"),
                    payload: bad,
                },
                "dead-letter",
            ),
            (
                Invoked::Ran {
                    function_error: Some("Unhandled"),
                    payload: retry,
                },
                "nak",
            ),
            (
                Invoked::Ran {
                    function_error: Some("Unhandled"),
                    payload: timeout,
                },
                "dead-letter",
            ),
            (
                Invoked::Ran {
                    function_error: Some("Unhandled"),
                    payload: b"not json",
                },
                "dead-letter",
            ),
            (
                Invoked::Refused {
                    status: 429,
                    code: Some("TooManyRequestsException"),
                    message: Some("Rate Exceeded."),
                },
                "nak",
            ),
            (
                Invoked::Refused {
                    status: 502,
                    code: Some("EC2ThrottledException"),
                    message: None,
                },
                "nak",
            ),
            (
                Invoked::Refused {
                    status: 500,
                    code: Some("ServiceException"),
                    message: None,
                },
                "nak",
            ),
            (
                Invoked::Refused {
                    status: 404,
                    code: Some("ResourceNotFoundException"),
                    message: Some(
                        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:lastmile-fn-pending",
                    ),
                },
                "dead-letter",
            ),
            (
                Invoked::Refused {
                    status: 403,
                    code: Some("AccessDeniedException"),
                    message: None,
                },
                "dead-letter",
            ),
            (
                Invoked::NoAnswer(
                    "operation timeout (all attempts including retries) occurred after 60s".into(),
                ),
                "nak",
            ),
            (Invoked::Unsendable("no region".into()), "dead-letter"),
        ];
        for (invoked, expected) in cases {
            assert_eq!(
                kind(settle("lastmile-fn-pending", &invoked)),
                expected,
                "{invoked:?}"
            );
        }
    }

    #[test]
    fn dead_letter_reasons_carry_the_functions_error() {
        let payload = br#"{"errorType":"lastmile.BadInput","errorMessage":"malformed CloudEvent: missing field `id`"}"#;
        let err = settle(
            "lastmile-fn-pending",
            &Invoked::Ran {
                function_error: Some("Unhandled"),
                payload,
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("lastmile-fn-pending")
                && err.contains("lastmile.BadInput")
                && err.contains("missing field `id`"),
            "{err}"
        );
        let err = settle(
            "f",
            &Invoked::Refused {
                status: 429,
                code: Some("TooManyRequestsException"),
                message: Some("Rate Exceeded."),
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("TooManyRequestsException") && err.contains("429"),
            "{err}"
        );
    }
}
