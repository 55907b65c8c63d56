use chrono::{TimeZone, Utc};
use lastmile_events::{IncidentFamily, ObjectRef};

use super::*;

fn incident(pod: &str, count: u32, first_seen_min: u32) -> Incident {
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 3, 10, first_seen_min, 0)
        .single()
        .unwrap_or_default();
    let job = ObjectRef {
        kind: "Job".into(),
        namespace: Some("ci".into()),
        name: "e2e".into(),
        ..Default::default()
    };
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: pod.into(),
        ..Default::default()
    };
    let mut i = Incident::new(IncidentFamily::Pending, pod, Some(job), t0);
    i.count = count;
    i
}

#[test]
fn storm_updates_of_one_incident_keep_the_diagnosis_id() {
    let first = diagnosis_id(
        "pending",
        &incident("e2e-a", 1, 0),
        "scheduling.untolerated_taint",
        1,
    );
    let grown = diagnosis_id(
        "pending",
        &incident("e2e-b", 500, 0),
        "scheduling.untolerated_taint",
        1,
    );
    assert_eq!(first, grown);
}

#[test]
fn another_cause_or_a_reopened_incident_gets_a_new_id() {
    let base = diagnosis_id(
        "pending",
        &incident("a", 1, 0),
        "scheduling.untolerated_taint",
        1,
    );
    assert_ne!(
        base,
        diagnosis_id(
            "pending",
            &incident("a", 1, 0),
            "scheduling.node_affinity",
            1
        )
    );
    assert_ne!(
        base,
        diagnosis_id(
            "pending",
            &incident("a", 1, 0),
            "scheduling.untolerated_taint",
            2
        )
    );
    assert_ne!(
        base,
        diagnosis_id(
            "pending",
            &incident("a", 1, 30),
            "scheduling.untolerated_taint",
            1
        )
    );
    assert_ne!(
        base,
        diagnosis_id(
            "image-pull",
            &incident("a", 1, 0),
            "scheduling.untolerated_taint",
            1
        )
    );
}
