//! The one output boundary: what a function returned, made fit to leave the process.
//!
//! A function returns facts. Every host (the executor behind NATS, Lambda and the
//! in-process bus) and the CLI (`explain`, `replay`) pass them through here before anything
//! is published, stored or printed:
//! 1. **provenance**: the function's name, the incident key, the incident's CI run;
//! 2. **bounds**: summary, each evidence line, remediation text and commands, the number of
//!    evidence lines, and the evidence bundle (an item over the function's budget becomes a
//!    note saying so — nothing is dropped silently);
//! 3. **the redaction policy** ([`lastmile_redact`]) over the summary, evidence lines,
//!    remediation, details, subject, CI link and evidence bytes. Redaction runs before
//!    truncation, so a cut can never leave half a secret behind a rule; and the secrets the
//!    policy finds in the incident's own text are scrubbed by value too ([`Known`]), so a
//!    function that quotes a PEM block line by line cannot leak its body.
//!
//! It lives in the contract because both halves of the boundary are defined here (the spec
//! with its evidence budget, the outcome, the incident it answers) and everything that runs
//! a function — hosts, the CLI, tests — already depends on the contract, while the contract
//! still depends on no transport crate. Every step is idempotent: finalizing a finalized
//! diagnosis (replay prints what the executor already published) changes nothing.

use lastmile_events::{Diagnosis, Incident};
use lastmile_redact::{Known, json, text_in_place, truncate_at_char_boundary};
use serde_json::Value;

use crate::{EvidenceItem, FunctionSpec, Outcome};

/// Longest summary kept, in bytes.
pub const MAX_SUMMARY: usize = 1024;
/// Longest evidence line kept, in bytes (a quoted log line can be huge).
pub const MAX_FACT: usize = 600;
/// Most evidence lines kept per diagnosis; the rest are counted in a last line.
pub const MAX_FACTS: usize = 64;
/// Longest remediation description or command kept, in bytes.
pub const MAX_REMEDIATION: usize = 4096;

/// The marker of a cut string.
const CUT: &str = "…";

/// Finalizes what the function `spec` returned for `incident`: provenance, bounds and the
/// redaction policy over every diagnosis and every evidence item.
pub fn outcome(spec: &FunctionSpec, incident: &Incident, mut outcome: Outcome) -> Outcome {
    let known = known_secrets(incident);
    for d in &mut outcome.diagnoses {
        stamp(d, spec.name, incident);
        diagnosis_against(d, &known);
    }
    evidence(spec, &known, &mut outcome.evidence);
    outcome
}

/// Finalizes only the diagnoses of an outcome (for `explain`, which prints diagnoses and
/// stores no evidence).
pub fn diagnoses(
    spec: &FunctionSpec,
    incident: &Incident,
    mut diagnoses: Vec<Diagnosis>,
) -> Vec<Diagnosis> {
    let known = known_secrets(incident);
    for d in &mut diagnoses {
        stamp(d, spec.name, incident);
        diagnosis_against(d, &known);
    }
    diagnoses
}

fn evidence(spec: &FunctionSpec, known: &Known, items: &mut [EvidenceItem]) {
    for item in items.iter_mut() {
        evidence_item(item);
        known.scrub_bytes(&mut item.bytes);
    }
    bound_evidence(items, spec.max_evidence_bytes);
}

/// The secrets the policy finds in the text pasted with `incident` (a log, `kubectl
/// describe` output), where a multi-line secret can be quoted line by line. Event messages
/// are quoted whole, so the context rules already see them.
pub fn known_secrets(incident: &Incident) -> Known {
    incident
        .text
        .as_deref()
        .map(Known::find)
        .unwrap_or_default()
}

/// Stamps provenance: the function that produced `d`, the incident it answers, and the
/// incident's CI run unless the function named a more specific one.
pub fn stamp(d: &mut Diagnosis, function: &str, incident: &Incident) {
    d.function = Some(function.to_owned());
    d.incident = Some(incident.key.clone());
    if d.ci.is_none() {
        d.ci.clone_from(&incident.ci);
    }
}

/// Bounds and redacts one diagnosis in place: what every published or printed diagnosis
/// passes, including those a host writes itself (`unknown`). Idempotent.
pub fn diagnosis(d: &mut Diagnosis) {
    diagnosis_against(d, &Known::default());
}

/// [`diagnosis`], also scrubbing the secrets `known` from the diagnosed input.
pub fn diagnosis_against(d: &mut Diagnosis, known: &Known) {
    clean(&mut d.summary, MAX_SUMMARY, known);
    if d.evidence.len() > MAX_FACTS {
        let more = d.evidence.len() - (MAX_FACTS - 1);
        d.evidence.truncate(MAX_FACTS - 1);
        d.evidence
            .push(format!("({more} more evidence lines not shown)"));
    }
    for fact in &mut d.evidence {
        clean(fact, MAX_FACT, known);
    }
    for step in &mut d.remediation {
        clean(&mut step.description, MAX_REMEDIATION, known);
        if let Some(cmd) = step.command.as_mut() {
            clean(cmd, MAX_REMEDIATION, known);
        }
    }
    structured_patches(d, known);
    let mut names = vec![&mut d.subject.name];
    names.extend(d.subject.container.as_mut());
    if let Some(ci) = d.ci.as_mut() {
        names.push(&mut ci.run_id);
        names.extend(ci.url.as_mut());
        names.extend(ci.pipeline.as_mut());
    }
    for name in names {
        text_in_place(name);
        known.scrub(name);
    }
    json(&mut d.details);
    if !known.is_empty() {
        scrub_json(&mut d.details, known);
    }
}

/// The structured patches pass the same policy as the text beside them: the body and the
/// expected values through the JSON rules, names through the text rules. A patch whose body
/// exceeds [`MAX_REMEDIATION`] cannot be cut (half a patch is a different patch), so it is
/// dropped and an evidence line says so.
fn structured_patches(d: &mut Diagnosis, known: &Known) {
    let steps = d.remediation.len();
    let mut dropped = Vec::new();
    d.patches.retain_mut(|p| {
        let patch = &mut p.patch;
        json(&mut patch.body);
        for field in &mut patch.preconditions.fields {
            json(&mut field.value);
        }
        let target = &mut patch.target;
        for name in [&mut target.name, &mut target.kind, &mut target.api_version]
            .into_iter()
            .chain(target.namespace.as_mut())
        {
            text_in_place(name);
            known.scrub(name);
        }
        if !known.is_empty() {
            scrub_json(&mut patch.body, known);
        }
        let size = serde_json::to_vec(&patch.body).map_or(usize::MAX, |b| b.len());
        let keep = p.step < steps && size <= MAX_REMEDIATION;
        if !keep {
            dropped.push(format!(
                "(structured patch for remediation step {} omitted: {size} bytes, or no such step)",
                p.step
            ));
        }
        keep
    });
    d.evidence.extend(dropped);
}

/// Redacts one evidence item's bytes per its media type. An item built from a JSON
/// document ([`EvidenceItem::json_document`]) has the document redacted where it is and
/// serialised again only when something was replaced: the same bytes the policy gives the
/// item's bytes, without parsing them back.
pub fn evidence_item(item: &mut EvidenceItem) {
    if let Some(mut document) = item.take_document() {
        if lastmile_redact::json(&mut document) {
            // A Value always serialises; were it ever not to, nothing unredacted stays.
            item.bytes = serde_json::to_vec_pretty(&document)
                .unwrap_or_else(|_| format!("\"{}\"", lastmile_redact::REDACTED).into_bytes());
        }
        return;
    }
    let clean = lastmile_redact::bytes(&item.bytes, &item.media_type);
    if clean != item.bytes {
        item.bytes = clean;
    }
}

/// Redacts, scrubs known secrets, then cuts to `max` bytes (the marker included) on a char
/// boundary.
fn clean(s: &mut String, max: usize, known: &Known) {
    text_in_place(s);
    known.scrub(s);
    if s.len() > max && truncate_at_char_boundary(s, max.saturating_sub(CUT.len())) {
        s.push_str(CUT);
    }
}

/// Scrubs known secrets from every string of a JSON value.
fn scrub_json(v: &mut Value, known: &Known) {
    match v {
        Value::String(s) => {
            known.scrub(s);
        }
        Value::Array(items) => items.iter_mut().for_each(|i| scrub_json(i, known)),
        Value::Object(map) => map.values_mut().for_each(|i| scrub_json(i, known)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Enforces the evidence budget: an item that does not fit is replaced by a note.
fn bound_evidence(items: &mut [EvidenceItem], max: usize) {
    let mut used = 0usize;
    for item in items {
        if used + item.bytes.len() > max {
            let note = format!(
                "evidence item {} ({} bytes) omitted: the bundle is capped at {} bytes",
                item.name,
                item.bytes.len(),
                max
            );
            *item = EvidenceItem::text(format!("{}.omitted.txt", item.name), note);
        }
        used += item.bytes.len();
    }
}

#[cfg(test)]
mod tests;
