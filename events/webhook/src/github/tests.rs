use super::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn failed_workflow_run_is_run_failed_with_url_and_commit() {
    let ev = parse(
        "workflow_run",
        &fixture("github-workflow_run-completed-failure.json"),
        Utc::now(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(ev.kind, CiEventKind::RunFailed);
    assert_eq!(ev.run.run_id, "9876543210");
    assert_eq!(
        ev.run.url.as_deref(),
        Some("https://github.com/acme/shop/actions/runs/9876543210")
    );
    assert_eq!(
        ev.run.commit.as_deref(),
        Some("4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39")
    );
    assert_eq!(ev.at.to_rfc3339(), "2026-11-26T10:06:41+00:00");
}

#[test]
fn workflow_job_names_its_run_and_job() {
    let ev = parse(
        "workflow_job",
        &fixture("github-workflow_job-completed-failure.json"),
        Utc::now(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (ev.kind, ev.run.run_id.as_str(), ev.job.as_deref()),
        (CiEventKind::JobFailed, "9876543210", Some("rollout"))
    );
    assert_eq!(ev.run.pipeline.as_deref(), Some("deploy"));
}

#[test]
fn deployment_lists_its_workloads_and_belongs_to_the_workflow_run() {
    let ev = parse(
        "deployment",
        &fixture("github-deployment-created.json"),
        Utc::now(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(ev.kind, CiEventKind::DeployRequested);
    assert_eq!(ev.run.run_id, "9876543210");
    assert_eq!(ev.workloads.len(), 2);
    assert_eq!(ev.workloads[0].name, "migrate");
    assert_eq!(
        ev.workloads[1].images,
        vec!["ghcr.io/acme/api:2.0.1".to_string()]
    );
}

#[test]
fn deployment_payload_sent_as_a_json_string_is_read_too() {
    let mut body = fixture("github-deployment-created.json");
    let payload = body["deployment"]["payload"].to_string();
    body["deployment"]["payload"] = Value::String(payload);
    body.as_object_mut().unwrap().remove("workflow_run");
    let ev = parse("deployment", &body, Utc::now()).unwrap().unwrap();
    assert_eq!(ev.workloads.len(), 2);
    assert_eq!(
        ev.run.run_id, "1234567890",
        "falls back to the deployment id"
    );
}

#[test]
fn deployment_status_failure_is_a_failed_deploy_job() {
    let ev = parse(
        "deployment_status",
        &fixture("github-deployment_status-failure.json"),
        Utc::now(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (ev.kind, ev.job.as_deref()),
        (CiEventKind::JobFailed, Some("deploy:production"))
    );
}

#[test]
fn queued_jobs_and_unknown_events_are_ignored_and_missing_ids_are_malformed() {
    let mut body = fixture("github-workflow_job-completed-failure.json");
    body["action"] = "queued".into();
    assert!(parse("workflow_job", &body, Utc::now()).unwrap().is_none());
    assert!(parse("push", &body, Utc::now()).unwrap().is_none());
    body["action"] = "completed".into();
    body["workflow_job"]
        .as_object_mut()
        .unwrap()
        .remove("run_id");
    assert_eq!(
        parse("workflow_job", &body, Utc::now()).unwrap_err().status,
        axum::http::StatusCode::BAD_REQUEST
    );
    assert!(
        parse("workflow_run", &Value::Null, Utc::now())
            .unwrap()
            .is_none()
    );
}
