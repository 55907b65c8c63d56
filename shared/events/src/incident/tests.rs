use super::*;

fn obj(kind: &str, ns: &str, name: &str) -> ObjectRef {
    ObjectRef {
        kind: kind.into(),
        namespace: Some(ns.into()),
        name: name.into(),
        ..Default::default()
    }
}

#[test]
fn pods_of_one_job_share_an_incident_key() {
    let job = obj("Job", "ci", "migrate");
    let a = Incident::key_for(
        IncidentFamily::Pending,
        &obj("Pod", "ci", "migrate-a"),
        Some(&job),
    );
    let b = Incident::key_for(
        IncidentFamily::Pending,
        &obj("Pod", "ci", "migrate-b"),
        Some(&job),
    );
    assert_eq!(a, b);
    let other = Incident::key_for(
        IncidentFamily::ImagePull,
        &obj("Pod", "ci", "migrate-a"),
        Some(&job),
    );
    assert_ne!(a, other);
    assert!(a.starts_with("pending.ci.job.migrate."), "{a}");
}

#[test]
fn key_is_a_valid_subject_token() {
    let k = Incident::key_for(IncidentFamily::Pending, &obj("Pod", "ns", "a b*c>"), None);
    assert!(!k.contains(' ') && !k.contains('*') && !k.contains('>'));
}
