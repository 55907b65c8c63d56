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
