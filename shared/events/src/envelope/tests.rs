use super::*;
use crate::incident::Incident;

#[test]
fn rejects_wrong_spec_version_with_reason() {
    let raw = br#"{"specversion":"0.3","id":"1","source":"/x","type":"dev.lastmile.incident.v1","time":"2026-01-01T00:00:00Z","data":{}}"#;
    let err = CloudEvent::<Incident>::from_slice(raw).unwrap_err();
    assert!(matches!(err, EnvelopeError::SpecVersion(v) if v == "0.3"));
}

#[test]
fn rejects_wrong_type_before_payload_errors() {
    let raw = br#"{"specversion":"1.0","id":"1","source":"/x","type":"dev.lastmile.ci.v1","time":"2026-01-01T00:00:00Z","data":{"nope":1}}"#;
    let err = CloudEvent::<Incident>::from_slice(raw).unwrap_err();
    assert!(matches!(err, EnvelopeError::Type { .. }), "{err}");
}

#[test]
fn a_sound_envelope_with_a_bad_payload_names_the_payload_field() {
    let raw = br#"{"specversion":"1.0","id":"1","source":"/x","type":"dev.lastmile.incident.v1","time":"2026-01-01T00:00:00Z","data":{"key":"k","family":"pending","count":"many"}}"#;
    let err = CloudEvent::<Incident>::from_slice(raw).unwrap_err();
    assert!(matches!(err, EnvelopeError::Json(_)), "{err}");
}

#[test]
fn an_empty_id_is_refused_even_when_the_payload_reads() {
    let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let subject = crate::ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "p".into(),
        uid: None,
        field_path: None,
    };
    let incident = Incident::new(crate::IncidentFamily::Pending, subject, None, epoch);
    let event = CloudEvent::new("", "/x", None, epoch, incident);
    let raw = event.to_vec().unwrap();
    let err = CloudEvent::<Incident>::from_slice(&raw).unwrap_err();
    assert!(matches!(err, EnvelopeError::Empty("id")), "{err}");
}

#[test]
fn non_json_is_a_json_error() {
    let err = CloudEvent::<Incident>::from_slice(b"\xff not json").unwrap_err();
    assert!(matches!(err, EnvelopeError::Json(_)));
}

#[test]
fn stable_id_depends_on_every_part_and_boundaries() {
    assert_eq!(stable_id(&["a", "b"]), stable_id(&["a", "b"]));
    assert_ne!(stable_id(&["a", "b"]), stable_id(&["ab", ""]));
    assert_ne!(stable_id(&["a", "b"]), stable_id(&["a", "c"]));
}
