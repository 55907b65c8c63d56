//! The workload function: why an init container never finishes, and why a Job failed.
//!
//! Classes: `init.blocked`, `init.deadlock`, `init.crashloop`, `job.deadline_exceeded`,
//! `job.backoff_limit`, `job.stuck_active` (see `shared/reference/taxonomy.md`).
//!
//! The main design choice: **state first, text second**. When the incident carries the
//! Pod or Job as the API returned it, the function reads the fields Kubernetes itself
//! decides on (init container states and restart counts, Job conditions, deadlines), which
//! do not change wording between releases. Only when those are absent (a pasted `kubectl
//! describe`, a CI log line) does it fall back to message-level rules, at lower confidence.
//! A message rule never adds to a family (init, job) that the state already explained.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod deps;
mod graph;
mod init;
mod job;
mod remedy;
mod structured;
mod text;

use std::time::Duration;

use lastmile_contract::{Context, EvidenceItem, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{Class, Diagnosis, Incident, IncidentFamily, Subject};

/// The function's spec.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "workload",
    description: "Init containers that never finish (blocked, deadlocked, crash-looping) and Jobs that fail or overrun their deadline.",
    families: &[IncidentFamily::Init, IncidentFamily::Job],
    deadline: Duration::from_secs(5),
    max_evidence_bytes: 64 * 1024,
};

/// The function, for hosts' static tables.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};

/// Diagnoses one incident. Pure: reads the incident and the context's snapshot only.
pub async fn handle(incident: &Incident, ctx: &Context) -> Result<Outcome, FunctionError> {
    let snapshot = ctx.snapshot_for(incident).await;
    let mut diagnoses = init::diagnose(incident, &snapshot);
    diagnoses.extend(job::diagnose(incident));
    // The object's state is authoritative: a message rule only speaks for a family (init,
    // job) the state said nothing about.
    for d in text::diagnose(incident) {
        if !diagnoses
            .iter()
            .any(|found| found.class.family() == d.class.family())
        {
            diagnoses.push(d);
        }
    }
    diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let evidence = if diagnoses.is_empty() {
        Vec::new()
    } else {
        let facts: Vec<serde_json::Value> = diagnoses
            .iter()
            .map(|d| serde_json::json!({"class": d.class, "subject": d.subject, "evidence": d.evidence}))
            .collect();
        vec![EvidenceItem::json("workload-facts.json", &facts)?]
    };
    Ok(Outcome {
        diagnoses,
        evidence,
    })
}

/// The subject of a diagnosis about `incident`, optionally narrowed to one container.
pub(crate) fn subject(incident: &Incident, container: Option<&str>) -> Subject {
    Subject::of(&incident.subject, container)
}

/// A diagnosis with evidence and remediation filled in.
pub(crate) fn diagnosis(
    class: Class,
    confidence: f64,
    summary: String,
    subject: Subject,
    evidence: Vec<String>,
    remediation: Vec<lastmile_events::Remediation>,
    definitive: bool,
) -> Diagnosis {
    let mut d = Diagnosis::new(class, confidence, summary, subject);
    d.evidence = evidence;
    d.remediation = remediation;
    d.definitive = definitive;
    d
}

#[cfg(test)]
mod tests;
