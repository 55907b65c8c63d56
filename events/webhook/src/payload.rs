//! Lenient readers for JSON payloads, and the documented generic format.
//!
//! # The generic format (`POST /webhook/generic`)
//!
//! For CI systems without a dedicated endpoint (Jenkins, Buildkite, Tekton, a script):
//! a JSON body that is a [`CiEvent`] with the provider forced to `generic`, signed like
//! GitHub (`X-Lastmile-Signature-256: sha256=<hex HMAC-SHA256 of the body>`), with an
//! `Idempotency-Key` header naming the delivery and an optional `traceparent` header.
//!
//! ```json
//! {
//!   "kind": "deploy_requested",
//!   "run": {"provider": "generic", "run_id": "jenkins-deploy-812", "pipeline": "deploy",
//!           "url": "https://ci.example/job/deploy/812/", "commit": "4f2a9c1e"},
//!   "workloads": [{"kind": "Job", "namespace": "ci", "name": "migrate",
//!                  "images": ["ghcr.io/acme/migrate:1.4.2"]}],
//!   "at": "2026-11-26T10:00:00Z"
//! }
//! ```
//! `kind` is one of `run_started`, `run_finished`, `run_failed`, `job_started`,
//! `job_finished`, `job_failed`, `deploy_requested`; `job` names the job for job events.

use chrono::{DateTime, Utc};
use lastmile_events::{CiEvent, CiProvider, DeployedWorkload};
use serde_json::Value;

use crate::reject::Reject;

/// A non-empty string at a JSON pointer.
pub fn str_at(v: &Value, at: &str) -> Option<String> {
    v.pointer(at)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An RFC 3339 time at a JSON pointer (GitLab's `2026-11-26 10:00:00 UTC` too).
pub fn time_at(v: &Value, at: &str) -> Option<DateTime<Utc>> {
    let raw = str_at(v, at)?;
    DateTime::parse_from_rfc3339(&raw)
        .ok()
        .or_else(|| {
            DateTime::parse_from_str(&raw.replace(" UTC", " +0000"), "%Y-%m-%d %H:%M:%S %z").ok()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// `{"workloads": [...]}` inside a deployment payload (which GitHub may send as a JSON
/// string). Malformed entries are skipped.
pub fn workloads_at(payload: &Value) -> Vec<DeployedWorkload> {
    let parsed;
    let payload = match payload {
        Value::String(s) => {
            parsed = serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
            &parsed
        }
        v => v,
    };
    payload
        .get("workloads")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|w| serde_json::from_value::<DeployedWorkload>(w.clone()).ok())
        .collect()
}

/// Parses the generic format.
pub fn parse_generic(body: &[u8]) -> Result<CiEvent, Reject> {
    let mut ev: CiEvent = serde_json::from_slice(body)
        .map_err(|e| Reject::malformed(format!("not a lastmile generic CI event: {e}")))?;
    ev.run.provider = CiProvider::Generic;
    if ev.run.run_id.trim().is_empty() {
        return Err(Reject::malformed("run.run_id is empty".into()));
    }
    Ok(ev)
}
