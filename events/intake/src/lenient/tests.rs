use k8s_openapi::api::core::v1::{Event, Pod};
use serde_json::json;

use super::*;

fn at<'a>(path: &'a str, object: &'a str) -> At<'a> {
    At {
        path,
        object,
        essential: &["involvedObject", "spec"],
    }
}

#[test]
fn a_wrongly_typed_count_costs_the_count_only() {
    let mut notes = Vec::new();
    let ev: Event = read(
        json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p"},
                   "reason": "FailedScheduling", "count": "five", "type": "Warning"}),
        &at("items[3]", "Event e"),
        &mut notes,
    )
    .unwrap();
    assert_eq!(ev.reason.as_deref(), Some("FailedScheduling"));
    assert_eq!(ev.count, None);
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0].to_string(),
        "ignored: items[3].count of Event e (expected a number, found a string)"
    );
}

#[test]
fn several_bad_fields_and_nested_ones_are_each_reported() {
    let mut notes = Vec::new();
    let ev: Event = read(
        json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": 7},
                   "reason": 42, "lastTimestamp": "yesterday"}),
        &at("items[0]", "Event e"),
        &mut notes,
    )
    .unwrap();
    assert_eq!(ev.reason, None);
    assert_eq!(ev.involved_object.kind.as_deref(), Some("Pod"));
    let paths: Vec<&str> = notes.iter().map(|n| n.path.as_str()).collect();
    assert!(paths.contains(&"items[0].reason"), "{paths:?}");
    assert!(paths.contains(&"items[0].involvedObject.name"), "{paths:?}");
    assert!(paths.contains(&"items[0].lastTimestamp"), "{paths:?}");
    let time = notes
        .iter()
        .find(|n| n.path.ends_with("lastTimestamp"))
        .unwrap();
    assert_eq!(time.reason, "expected an RFC 3339 time");
    assert!(notes.iter().all(|n| !n.whole_object));
}

#[test]
fn array_elements_inside_objects_are_addressed_by_index() {
    let mut notes = Vec::new();
    let pod: Pod = read(
        json!({"metadata": {"name": "p"}, "status": {"phase": "Pending",
                   "containerStatuses": [{"name": "a", "image": "x", "imageID": "", "ready": false,
                   "restartCount": "many"}]}}),
        &at("items[1]", "Pod p"),
        &mut notes,
    )
    .unwrap();
    assert_eq!(
        pod.status.unwrap().phase.as_deref(),
        Some("Pending"),
        "{notes:?}"
    );
    assert!(!notes.is_empty());
    assert!(
        notes[0]
            .path
            .starts_with("items[1].status.containerStatuses[0]")
    );
}

#[test]
fn an_object_without_a_required_field_is_skipped_and_said() {
    let mut notes = Vec::new();
    let ev: Option<Event> = read(
        json!({"metadata": {"name": "e"}, "involvedObject": "pod/p"}),
        &at("items[2]", "Event e"),
        &mut notes,
    );
    assert!(ev.is_none());
    assert!(notes.last().unwrap().whole_object, "{notes:?}");
    assert!(
        notes
            .last()
            .unwrap()
            .to_string()
            .starts_with("skipped: items[2]")
    );
}
