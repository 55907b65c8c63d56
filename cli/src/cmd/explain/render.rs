//! Printing explanations: for people, or as the taxonomy's JSON document. Every diagnosis
//! has passed the output boundary ([`lastmile_contract::finalize`]) before it gets here —
//! the functions' answers and the `unknown` ones explain writes itself (see
//! `explain::diagnose`) — so printing does not redact again: human output escapes control
//! characters field by field ([`escaped`]), and the incident's own names, which no function
//! wrote, go through [`field`] (redacted and escaped).

use std::fmt::Write as _;

use lastmile_events::{Diagnosis, DiagnosisReport};

use super::Explanation;
use crate::output::{escaped, field};

/// Human output is written to stdout in chunks of about this many bytes.
const CHUNK: usize = 64 * 1024;

/// The taxonomy's `{"diagnoses": [...]}` over finalized diagnoses, most likely first.
pub(super) fn json_report(diagnoses: Vec<Diagnosis>) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(&DiagnosisReport::new(
        diagnoses,
    ))?)
}

/// [`json_report`] over the diagnoses of every explanation.
#[cfg(test)]
pub(super) fn json(explanations: &[Explanation]) -> anyhow::Result<String> {
    json_report(
        explanations
            .iter()
            .flat_map(|e| e.diagnoses.iter().cloned())
            .collect(),
    )
}

/// Readable text of every explanation, as [`HumanWriter`] prints it.
#[cfg(test)]
pub(super) fn human(explanations: &[Explanation]) -> String {
    let mut out = HumanWriter::default();
    for e in explanations {
        out.append(e);
    }
    out.pending
}

/// Writes human output to stdout as explanations arrive, one blank line between incidents.
#[derive(Debug, Default)]
pub(super) struct HumanWriter {
    pending: String,
    /// An explanation was added (the pending text may since have been written out).
    started: bool,
}

impl HumanWriter {
    /// Adds one explanation (written out once a chunk has gathered).
    pub(super) fn push(&mut self, e: &Explanation) {
        self.append(e);
        if self.pending.len() >= CHUNK {
            crate::out!("{}", self.pending);
            self.pending.clear();
        }
    }

    /// Writes what is left, then `trailer` and the final newline.
    pub(super) fn finish(mut self, trailer: &str) {
        self.pending.push_str(trailer);
        crate::outln!("{}", self.pending);
    }

    /// Adds one explanation to what is pending, after a blank line unless it is the first.
    fn append(&mut self, e: &Explanation) {
        if self.started {
            self.pending.push_str("\n\n");
        }
        write_one(&mut self.pending, e);
        self.started = true;
    }
}

/// One incident: its subject, then each diagnosis with its evidence and fix commands; no
/// trailing newline.
fn write_one(out: &mut String, e: &Explanation) {
    let start = out.len();
    let inc = &e.incident;
    let _ = write!(out, "{}", field(&inc.subject.to_string()));
    if let Some(owner) = &inc.owner {
        let _ = write!(out, " (owned by {})", field(&owner.to_string()));
    }
    if inc.count > 1 {
        let _ = write!(out, ", {} stuck", inc.count);
    }
    let _ = writeln!(out, " [{}]", inc.family);
    for (i, d) in e.diagnoses.iter().enumerate() {
        let definitive = if d.definitive { ", definitive" } else { "" };
        let _ = writeln!(
            out,
            "\n  {}. {}  (confidence {:.2}{definitive})",
            i + 1,
            escaped(d.class.as_str()),
            d.confidence
        );
        let _ = writeln!(out, "     {}", escaped(&d.summary));
        if let Some(c) = &d.subject.container {
            let _ = writeln!(out, "     container: {}", escaped(c));
        }
        if !d.evidence.is_empty() {
            let _ = writeln!(out, "     evidence:");
            for fact in &d.evidence {
                let _ = writeln!(out, "       - {}", escaped(fact));
            }
        }
        if !d.remediation.is_empty() {
            let _ = writeln!(out, "     fix:");
            for step in &d.remediation {
                let _ = writeln!(out, "       - {}", escaped(&step.description));
                if let Some(cmd) = &step.command {
                    // A multi-line command keeps its lines; each is escaped.
                    let lines: Vec<_> = cmd.lines().map(escaped).collect();
                    let _ = writeln!(out, "         $ {}", lines.join("\n"));
                }
            }
        }
    }
    let end = out[start..].trim_end().len();
    out.truncate(start + end);
}
