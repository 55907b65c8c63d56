use super::*;

#[test]
fn consumer_names_jetstream_refuses_are_refused() {
    for bad in ["", "a.b", "prod/eu", "a b", "x*", "y>"] {
        let c = CiConsumer {
            durable: bad.into(),
            ..Default::default()
        };
        assert!(c.validate().is_err(), "{bad:?}");
    }
    assert!(CiConsumer::default().validate().is_ok());
}

#[test]
fn consumes_every_providers_deploy_events() {
    assert_eq!(
        CiConsumer::default().spec().subjects,
        vec!["lastmile.ci.*.deploy_requested".to_string()]
    );
}

#[test]
fn malformed_and_misfiled_messages_are_bad_input() {
    let msg = |payload: &str| Message {
        subject: "lastmile.ci.github.deploy_requested".into(),
        payload: payload.to_owned().into(),
        ..Default::default()
    };
    for bad in ["{not json", "{}", r#"{"specversion":"1.0"}"#] {
        assert!(
            matches!(parse(&msg(bad)), Err(ProcessError::BadInput(_))),
            "{bad}"
        );
    }
}
