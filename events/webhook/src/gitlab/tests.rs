use super::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn failed_pipeline_is_run_failed_with_gitlab_times_and_url() {
    let ev = parse(&fixture("gitlab-pipeline-failed.json"), Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.kind, ev.run.run_id.as_str()),
        (CiEventKind::RunFailed, "1187")
    );
    assert_eq!(
        ev.run.url.as_deref(),
        Some("https://gitlab.example.com/acme/shop/-/pipelines/1187")
    );
    assert_eq!(ev.at.to_rfc3339(), "2026-11-26T10:06:41+00:00");
    assert_eq!(
        ev.run.commit.as_deref(),
        Some("4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39")
    );
}

#[test]
fn running_job_belongs_to_its_pipeline() {
    let ev = parse(&fixture("gitlab-job-running.json"), Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.kind, ev.run.run_id.as_str(), ev.job.as_deref()),
        (CiEventKind::JobStarted, "1187", Some("rollout"))
    );
}

#[test]
fn running_deployment_is_a_deploy_request() {
    let ev = parse(&fixture("gitlab-deployment-running.json"), Utc::now())
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.kind, ev.run.run_id.as_str()),
        (CiEventKind::DeployRequested, "38001")
    );
    assert_eq!(ev.at.to_rfc3339(), "2026-11-26T10:01:00+00:00");
}

#[test]
fn pending_statuses_and_other_kinds_are_ignored() {
    let mut body = fixture("gitlab-pipeline-failed.json");
    body["object_attributes"]["status"] = "pending".into();
    assert!(parse(&body, Utc::now()).unwrap().is_none());
    body["object_kind"] = "merge_request".into();
    assert!(parse(&body, Utc::now()).unwrap().is_none());
}
