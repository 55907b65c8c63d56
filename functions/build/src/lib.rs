//! The build function: why a CI build of a Go service failed or produced something other
//! than what was committed.
//!
//! Classes: `build.checksum_mismatch`, `build.missing_go_sum`, `build.go_mod_dirty`,
//! `build.dependency_drift`, `build.not_reproducible`, `build.context_leak`.
//!
//! The main design choice: the input is the build's own output (the CI log excerpt the
//! incident carries), and the rules key on the Go toolchain's fixed diagnostics
//! (`verifying m@v: checksum mismatch`, `missing go.sum entry`, `updates to go.mod needed`)
//! and on *comparisons* (the same module or the same binary seen with two different
//! versions or hashes), never on one project's wording. Nothing is fetched: a diagnosis says
//! which command proves it.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod attest;
pub mod buildctx;
pub mod buildinfo;
pub mod compare;
mod context;
mod drift;
mod gomod;
mod pinned;
mod unpinned;

use std::time::Duration;

use lastmile_contract::{Context, EvidenceItem, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{Class, Diagnosis, Incident, IncidentFamily, Remediation, Subject};

/// The function's spec.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "build",
    description: "Go module checksum failures, untidy or incomplete go.mod/go.sum, dependency drift and unreproducible binaries between builds, and image build contexts that copy too much.",
    families: &[IncidentFamily::Build],
    deadline: Duration::from_secs(5),
    max_evidence_bytes: 64 * 1024,
};

/// The function, for hosts' static tables.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};

/// Diagnoses one incident from its text (and its events' messages). Pure.
pub async fn handle(incident: &Incident, _ctx: &Context) -> Result<Outcome, FunctionError> {
    let text = corpus(incident);
    let subject = subject(incident);
    let mut diagnoses: Vec<Diagnosis> = Vec::new();
    diagnoses.extend(gomod::diagnose(&text, &subject));
    diagnoses.extend(drift::diagnose(&text, &subject));
    diagnoses.extend(context::diagnose(&text, &subject));
    diagnoses.extend(pinned::diagnose(&text, &subject));
    diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let evidence = if diagnoses.is_empty() {
        Vec::new()
    } else {
        let facts: Vec<serde_json::Value> = diagnoses
            .iter()
            .map(|d| serde_json::json!({"class": d.class, "evidence": d.evidence}))
            .collect();
        vec![EvidenceItem::json("build-facts.json", &facts)?]
    };
    Ok(Outcome {
        diagnoses,
        evidence,
    })
}

/// The incident's text plus its events' messages.
fn corpus(incident: &Incident) -> String {
    let mut text = incident.text.clone().unwrap_or_default();
    for e in &incident.events {
        text.push('\n');
        text.push_str(e.clean_message());
    }
    text
}

/// The CI run when the incident links one, else the incident's subject.
fn subject(incident: &Incident) -> Subject {
    match &incident.ci {
        Some(ci) => Subject {
            kind: "CiRun".into(),
            namespace: ci.pipeline.clone(),
            name: ci.run_id.clone(),
            container: None,
        },
        None => Subject {
            kind: incident.subject.kind.clone(),
            namespace: incident.subject.namespace.clone(),
            name: incident.subject.name.clone(),
            container: None,
        },
    }
}

/// A diagnosis with its evidence, remediation and definitiveness.
pub(crate) fn diagnosis(
    class: Class,
    confidence: f64,
    summary: String,
    subject: &Subject,
    evidence: Vec<String>,
    remediation: Vec<Remediation>,
    definitive: bool,
) -> Diagnosis {
    let mut d = Diagnosis::new(class, confidence, summary, subject.clone());
    d.evidence = evidence;
    d.remediation = remediation;
    d.definitive = definitive;
    d
}

/// A remediation step with a command.
pub(crate) fn step(description: impl Into<String>, command: impl Into<String>) -> Remediation {
    Remediation {
        description: description.into(),
        command: Some(command.into()),
    }
}

/// The whole line of `text` around byte range `start..end`, trimmed, quoted.
pub(crate) fn line_at(text: &str, start: usize, end: usize) -> String {
    let from = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let to = text[end..].find('\n').map_or(text.len(), |i| end + i);
    format!("\"{}\"", text[from..to].trim())
}

#[cfg(test)]
mod tests;
