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
mod tests;
