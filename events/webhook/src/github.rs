//! GitHub deliveries: `workflow_run`, `workflow_job`, `deployment`, `deployment_status`.
//!
//! Only the fields lastmile needs are read, leniently (GitHub adds fields often). Actions
//! that say nothing about progress (`requested` jobs, `queued`, `waiting`) are ignored.
//! A `deployment` names its workloads in its custom `payload` (what `gh api …/deployments
//! -f payload=…` or an Action sets): `{"workloads": [{"kind": "Job", "namespace": "ci",
//! "name": "migrate", "images": ["ghcr.io/acme/migrate:1.4.2"]}]}`.

use chrono::{DateTime, Utc};
use lastmile_events::{CiEvent, CiEventKind, CiProvider, CiRunRef};
use serde_json::Value;

use crate::payload::{str_at, time_at, workloads_at};
use crate::reject::Reject;

/// Turns one delivery into a CI event; `Ok(None)` for events and actions that are ignored.
pub fn parse(event: &str, body: &Value, now: DateTime<Utc>) -> Result<Option<CiEvent>, Reject> {
    let repo = str_at(body, "/repository/full_name");
    match event {
        "workflow_run" => {
            let run = &body["workflow_run"];
            let kind = match (
                str_at(body, "/action").as_deref(),
                str_at(run, "/conclusion").as_deref(),
            ) {
                (Some("requested" | "in_progress"), _) => CiEventKind::RunStarted,
                (Some("completed"), Some("success" | "skipped" | "neutral")) => {
                    CiEventKind::RunFinished
                }
                (Some("completed"), _) => CiEventKind::RunFailed,
                _ => return Ok(None),
            };
            let run_ref = run_ref(run, "/id", &repo)
                .ok_or_else(|| Reject::malformed("workflow_run.id is missing".into()))?;
            let at = time_at(run, "/updated_at").unwrap_or(now);
            Ok(Some(CiEvent {
                kind,
                run: run_ref,
                job: None,
                workloads: Vec::new(),
                at,
            }))
        }
        "workflow_job" => {
            let job = &body["workflow_job"];
            let kind = match (
                str_at(body, "/action").as_deref(),
                str_at(job, "/conclusion").as_deref(),
            ) {
                (Some("in_progress"), _) => CiEventKind::JobStarted,
                (Some("completed"), Some("success" | "skipped" | "neutral")) => {
                    CiEventKind::JobFinished
                }
                (Some("completed"), _) => CiEventKind::JobFailed,
                _ => return Ok(None),
            };
            let mut run = run_ref(job, "/run_id", &repo)
                .ok_or_else(|| Reject::malformed("workflow_job.run_id is missing".into()))?;
            run.pipeline = str_at(job, "/workflow_name");
            run.commit = str_at(job, "/head_sha");
            let at = time_at(job, "/completed_at")
                .or_else(|| time_at(job, "/started_at"))
                .unwrap_or(now);
            Ok(Some(CiEvent {
                kind,
                run,
                job: str_at(job, "/name"),
                workloads: Vec::new(),
                at,
            }))
        }
        "deployment" => {
            let d = &body["deployment"];
            if str_at(body, "/action").as_deref() != Some("created") {
                return Ok(None);
            }
            let run = deployment_run(body, &repo)
                .ok_or_else(|| Reject::malformed("deployment.id is missing".into()))?;
            let at = time_at(d, "/created_at").unwrap_or(now);
            Ok(Some(CiEvent {
                kind: CiEventKind::DeployRequested,
                run,
                job: str_at(d, "/environment"),
                workloads: workloads_at(&d["payload"]),
                at,
            }))
        }
        "deployment_status" => {
            let kind = match str_at(body, "/deployment_status/state").as_deref() {
                Some("success") => CiEventKind::JobFinished,
                Some("failure" | "error") => CiEventKind::JobFailed,
                Some("in_progress") => CiEventKind::JobStarted,
                _ => return Ok(None),
            };
            let run = deployment_run(body, &repo)
                .ok_or_else(|| Reject::malformed("deployment.id is missing".into()))?;
            let at = time_at(&body["deployment_status"], "/updated_at").unwrap_or(now);
            let env = str_at(body, "/deployment_status/environment")
                .or_else(|| str_at(body, "/deployment/environment"));
            Ok(Some(CiEvent {
                kind,
                run,
                job: env.map(|e| format!("deploy:{e}")),
                workloads: Vec::new(),
                at,
            }))
        }
        _ => Ok(None),
    }
}

fn run_ref(obj: &Value, id_at: &str, repo: &Option<String>) -> Option<CiRunRef> {
    let id = match obj.pointer(id_at)? {
        Value::Number(n) => n.to_string(),
        Value::String(s) if !s.is_empty() => s.clone(),
        _ => return None,
    };
    Some(CiRunRef {
        provider: CiProvider::Github,
        run_id: id,
        pipeline: str_at(obj, "/name").or_else(|| repo.clone()),
        url: str_at(obj, "/html_url"),
        commit: str_at(obj, "/head_sha"),
        traceparent: None,
    })
}

/// A deployment belongs to the workflow run that created it when GitHub says so
/// (`workflow_run`), else to `payload.ci_run`, else to the deployment itself.
fn deployment_run(body: &Value, repo: &Option<String>) -> Option<CiRunRef> {
    let d = &body["deployment"];
    let mut run = run_ref(&body["workflow_run"], "/id", repo)
        .or_else(|| run_ref(d, "/payload/ci_run", repo))
        .or_else(|| run_ref(d, "/id", repo))?;
    run.commit = run.commit.or_else(|| str_at(d, "/sha"));
    Some(run)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
}
