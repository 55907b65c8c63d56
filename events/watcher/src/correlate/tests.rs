use super::*;
use lastmile_events::{CiProvider, DeployedWorkload, IncidentFamily};

#[test]
fn deploy_event_links_incident_by_owner_then_image() {
    let run = CiRunRef {
        provider: CiProvider::Github,
        run_id: "77".into(),
        pipeline: None,
        url: None,
        commit: None,
        traceparent: None,
    };
    let ev = CiEvent {
        kind: CiEventKind::DeployRequested,
        run: run.clone(),
        job: None,
        workloads: vec![DeployedWorkload {
            kind: "Job".into(),
            namespace: "ci".into(),
            name: "migrate".into(),
            images: vec!["ghcr.io/acme/api:2.0".into()],
        }],
        at: chrono::Utc::now(),
    };
    let mut c = Correlator::new(16);
    c.learn(&ev);
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "migrate-x".into(),
        ..Default::default()
    };
    let job = ObjectRef {
        kind: "Job".into(),
        namespace: Some("ci".into()),
        name: "migrate".into(),
        ..Default::default()
    };
    let mut inc = Incident::new(
        IncidentFamily::Pending,
        pod.clone(),
        Some(job),
        chrono::Utc::now(),
    );
    c.link(&mut inc);
    assert_eq!(inc.ci.as_ref().map(|r| r.run_id.as_str()), Some("77"));

    let mut other = Incident::new(IncidentFamily::ImagePull, pod, None, chrono::Utc::now());
    other.pod = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "api", "image": "ghcr.io/acme/api:2.0"}]}})).ok();
    c.link(&mut other);
    assert_eq!(other.ci.map(|r| r.run_id), Some("77".into()));
}

#[test]
fn correlator_forgets_oldest_beyond_capacity() {
    let run = CiRunRef {
        provider: CiProvider::Generic,
        run_id: "1".into(),
        pipeline: None,
        url: None,
        commit: None,
        traceparent: None,
    };
    let mut c = Correlator::new(2);
    for n in ["a", "b", "c"] {
        c.learn(&CiEvent {
            kind: CiEventKind::DeployRequested,
            run: run.clone(),
            job: None,
            workloads: vec![DeployedWorkload {
                kind: "Job".into(),
                namespace: "ns".into(),
                name: n.into(),
                images: vec![],
            }],
            at: chrono::Utc::now(),
        });
    }
    let r = |n: &str| ObjectRef {
        kind: "Job".into(),
        namespace: Some("ns".into()),
        name: n.into(),
        ..Default::default()
    };
    assert!(c.run_for(&r("a")).is_none());
    assert!(c.run_for(&r("c")).is_some());
}
