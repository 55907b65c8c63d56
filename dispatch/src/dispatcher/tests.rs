use super::*;

#[test]
fn only_json_objects_are_sent() {
    assert!(parse_object(br#"{"specversion":"1.0","id":"x"}"#).is_ok());
    for bad in [&b"0/3 nodes are available"[..], b"[1,2]", b"", b"\"text\""] {
        assert!(
            matches!(parse_object(bad), Err(ProcessError::BadInput(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn the_consumer_is_not_the_nats_hosts() {
    let spec = FunctionSpec {
        name: "image-pull",
        description: "test",
        families: &[lastmile_events::IncidentFamily::ImagePull],
        deadline: std::time::Duration::from_secs(5),
        max_evidence_bytes: 1024,
    };
    let consumer = Dispatcher::consumer_spec(&HostOptions::default(), &spec);
    assert_eq!(consumer.durable, "lambda-image-pull");
    assert_eq!(consumer.subjects, ["lastmile.incident.image-pull"]);
}
