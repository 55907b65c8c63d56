//! The `wording` function: what no rule settles, read from the words of the report.
//!
//! Every other function reasons with rules over the incident's objects, events and text.
//! Reports people paste are often told in prose ("the job hangs for days", "CI builds a
//! different binary") that no rule was written for. This function reads the words of the
//! incident ([`reading::words`]) with a linear classifier (one-vs-rest SVMs over tf-idf
//! word and word-pair vectors) that `build.rs` learns from the **tune** split of the
//! real-failure corpus (`tests/fixtures/corpus/`), never from the held-out split.
//!
//! Its diagnosis is a lead, not a finding: the confidence stays below what a rule that
//! matched says (at most [`confidence::HIGHEST`]), so a rule's answer leads whenever one
//! fired with conviction (`lastmile_events::ranking` lets a lead contest a finding without
//! conviction), and the summary says it is a resemblance to earlier reports and
//! names the command that would confirm it. The evidence names the words that weighed most
//! and the next class's score, so a person can see why.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod classify;
pub mod confidence;
mod confirm;
// Shared with build.rs, which learns and writes the model: what only learning uses is
// dead code in the library outside its tests.
#[cfg_attr(not(test), allow(dead_code))]
mod features;
#[cfg_attr(not(test), allow(dead_code))]
mod model;
pub mod reading;
#[cfg(test)]
mod train;

use std::time::Duration;

use lastmile_contract::{Context, EvidenceItem, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{Class, Diagnosis, Incident, IncidentFamily, Subject};

/// The function's spec: it reads every family's incidents.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "wording",
    description: "A lead from the report's wording when no rule settles it: a classifier learned from the corpus's tune split, ranked below rules that matched.",
    families: &IncidentFamily::ALL,
    deadline: Duration::from_secs(2),
    max_evidence_bytes: 16 * 1024,
};

/// The function, for hosts' static tables.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};

/// Reads the incident's words; one diagnosis when the model knows enough of them.
pub async fn handle(incident: &Incident, _ctx: &Context) -> Result<Outcome, FunctionError> {
    let diagnoses: Vec<Diagnosis> = diagnose(incident).into_iter().collect();
    let evidence = match diagnoses.first() {
        Some(d) => vec![EvidenceItem::json("wording.json", &d.details)?],
        None => Vec::new(),
    };
    Ok(Outcome {
        diagnoses,
        evidence,
    })
}

/// The diagnosis for `incident`, when its words are ones the model knows and weigh toward
/// a class (a top score of at least [`confidence::FLOOR`]).
pub fn diagnose(incident: &Incident) -> Option<Diagnosis> {
    let reading = classify::read(&reading::words(incident))?;
    let confidence = confidence::of(reading.score)?;
    let class = Class::new(&reading.class);
    let subject = Subject::of(&incident.subject, None);
    let summary = format!(
        "The report reads like `{class}` ({}), as in the {} reports of that class lastmile learned from: a lead to confirm, not a finding.",
        class.description(),
        reading.learned_from,
    );
    let mut d = Diagnosis::new(class.clone(), confidence, summary, subject.clone());
    d.evidence.push(format!(
        "wording: `{}` scores {:.2}{}; {} of the report's words and word pairs are ones the model knows",
        reading.class,
        reading.score,
        reading
            .runner_up
            .as_ref()
            .map(|(c, s)| format!(", next `{c}` {s:.2}"))
            .unwrap_or_default(),
        reading.known_terms,
    ));
    if !reading.terms.is_empty() {
        d.evidence.push(format!(
            "words that weighed most: {}",
            reading
                .terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    d.remediation = confirm::steps(&class, &subject);
    d.details = serde_json::json!({
        "wording": {
            "class": reading.class,
            "score": reading.score,
            "runner_up": reading.runner_up.as_ref().map(|(c, s)| serde_json::json!({"class": c, "score": s})),
            "terms": reading.terms,
            "known_terms": reading.known_terms,
            "learned_from": reading.learned_from,
        }
    });
    Some(d)
}

#[cfg(test)]
mod tests;
