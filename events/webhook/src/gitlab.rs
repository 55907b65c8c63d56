//! GitLab deliveries: pipeline, job and deployment hooks (`object_kind` `pipeline`,
//! `build`, `deployment`).
//!
//! A GitLab deployment hook does not name its pipeline; the deployment's
//! `deployable_id` (the job) and `environment` are kept, and workloads may be listed in a
//! generic deploy event or the `lastmile.dev/ci-run` annotation instead.

use chrono::{DateTime, Utc};
use lastmile_events::{CiEvent, CiEventKind, CiProvider, CiRunRef};
use serde_json::Value;

use crate::payload::{str_at, time_at};
use crate::reject::Reject;

fn id_at(v: &Value, at: &str) -> Option<String> {
    match v.pointer(at)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn run(body: &Value, id: String) -> CiRunRef {
    let project_url = str_at(body, "/project/web_url");
    CiRunRef {
        provider: CiProvider::Gitlab,
        url: project_url.map(|p| format!("{p}/-/pipelines/{id}")),
        run_id: id,
        pipeline: str_at(body, "/project/path_with_namespace"),
        commit: str_at(body, "/object_attributes/sha")
            .or_else(|| str_at(body, "/sha"))
            .or_else(|| str_at(body, "/commit/sha")),
        traceparent: None,
    }
}

/// Turns one delivery into a CI event; `Ok(None)` for ignored kinds and statuses.
pub fn parse(body: &Value, now: DateTime<Utc>) -> Result<Option<CiEvent>, Reject> {
    match str_at(body, "/object_kind").as_deref() {
        Some("pipeline") => {
            let a = &body["object_attributes"];
            let kind = match str_at(a, "/status").as_deref() {
                Some("running") => CiEventKind::RunStarted,
                Some("success") => CiEventKind::RunFinished,
                Some("failed" | "canceled") => CiEventKind::RunFailed,
                _ => return Ok(None),
            };
            let id = id_at(a, "/id")
                .ok_or_else(|| Reject::malformed("object_attributes.id is missing".into()))?;
            let at = time_at(a, "/finished_at")
                .or_else(|| time_at(a, "/created_at"))
                .unwrap_or(now);
            Ok(Some(CiEvent {
                kind,
                run: run(body, id),
                job: None,
                workloads: Vec::new(),
                at,
            }))
        }
        Some("build") => {
            let kind = match str_at(body, "/build_status").as_deref() {
                Some("running") => CiEventKind::JobStarted,
                Some("success") => CiEventKind::JobFinished,
                Some("failed" | "canceled") => CiEventKind::JobFailed,
                _ => return Ok(None),
            };
            let id = id_at(body, "/pipeline_id")
                .ok_or_else(|| Reject::malformed("pipeline_id is missing".into()))?;
            let at = time_at(body, "/build_finished_at")
                .or_else(|| time_at(body, "/build_started_at"))
                .unwrap_or(now);
            Ok(Some(CiEvent {
                kind,
                run: run(body, id),
                job: str_at(body, "/build_name"),
                workloads: Vec::new(),
                at,
            }))
        }
        Some("deployment") => {
            let kind = match str_at(body, "/status").as_deref() {
                Some("running") => CiEventKind::DeployRequested,
                Some("success") => CiEventKind::JobFinished,
                Some("failed" | "canceled") => CiEventKind::JobFailed,
                _ => return Ok(None),
            };
            let id = id_at(body, "/deployable_id")
                .or_else(|| id_at(body, "/deployment_id"))
                .ok_or_else(|| Reject::malformed("deployable_id is missing".into()))?;
            let at = time_at(body, "/status_changed_at").unwrap_or(now);
            let env = str_at(body, "/environment").map(|e| format!("deploy:{e}"));
            Ok(Some(CiEvent {
                kind,
                run: run(body, id),
                job: env,
                workloads: Vec::new(),
                at,
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
