use lastmile_events::{IncidentFamily, ObjectRef};

use super::*;

fn target(kind: &str, name: &str) -> Target {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "p".into(),
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: kind.into(),
        name: name.into(),
        ..Default::default()
    };
    Target::of(&Incident::new(
        IncidentFamily::Runtime,
        subject,
        Some(owner),
        chrono::DateTime::UNIX_EPOCH,
    ))
}

#[test]
fn a_replicasets_deployment_is_its_name_without_the_template_hash() {
    assert_eq!(
        target("ReplicaSet", "api-7c9b6d8f45").workload(),
        "deployment/api"
    );
    assert_eq!(target("StatefulSet", "db").workload(), "statefulset/db");
    // Not a hash: no guess.
    assert_eq!(
        target("ReplicaSet", "api-v1").workload(),
        "deployment/<name>"
    );
    assert_eq!(target("Job", "migrate").workload(), "deployment/<name>");
}
