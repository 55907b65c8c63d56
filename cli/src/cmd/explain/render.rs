//! Printing explanations: for people, or as the taxonomy's JSON document. Every diagnosis
//! passes the output boundary ([`finalize`]) — including the `unknown` ones
//! explain writes itself from the input's lines — and every human field is redacted and has
//! its control characters escaped ([`crate::output::field`]).

use std::fmt::Write as _;

use lastmile_events::DiagnosisReport;

use lastmile_contract::finalize;
use lastmile_events::Diagnosis;

use super::Explanation;
use crate::output::field;

/// The diagnoses of `e` through the output boundary, with the secrets of its input known.
fn finalized(e: &Explanation) -> Vec<Diagnosis> {
    let known = finalize::known_secrets(&e.incident);
    e.diagnoses
        .iter()
        .map(|d| {
            let mut d = d.clone();
            finalize::diagnosis_against(&mut d, &known);
            d
        })
        .collect()
}

/// The taxonomy's `{"diagnoses": [...]}` over every incident, most likely first.
pub(super) fn json(explanations: &[Explanation]) -> anyhow::Result<String> {
    let all = explanations.iter().flat_map(finalized).collect();
    Ok(serde_json::to_string_pretty(&DiagnosisReport::new(all))?)
}

/// Readable text: per incident, each diagnosis with its evidence and fix commands.
pub(super) fn human(explanations: &[Explanation]) -> String {
    let mut out = String::new();
    for (n, e) in explanations.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let inc = &e.incident;
        let _ = write!(out, "{}", field(&inc.subject.to_string()));
        if let Some(owner) = &inc.owner {
            let _ = write!(out, " (owned by {})", field(&owner.to_string()));
        }
        if inc.count > 1 {
            let _ = write!(out, ", {} stuck", inc.count);
        }
        let _ = writeln!(out, " [{}]", inc.family);
        for (i, d) in finalized(e).into_iter().enumerate() {
            let definitive = if d.definitive { ", definitive" } else { "" };
            let _ = writeln!(
                out,
                "\n  {}. {}  (confidence {:.2}{definitive})",
                i + 1,
                field(d.class.as_str()),
                d.confidence
            );
            let _ = writeln!(out, "     {}", field(&d.summary));
            if let Some(c) = &d.subject.container {
                let _ = writeln!(out, "     container: {}", field(c));
            }
            if !d.evidence.is_empty() {
                let _ = writeln!(out, "     evidence:");
                for fact in &d.evidence {
                    let _ = writeln!(out, "       - {}", field(fact));
                }
            }
            if !d.remediation.is_empty() {
                let _ = writeln!(out, "     fix:");
                for step in &d.remediation {
                    let _ = writeln!(out, "       - {}", field(&step.description));
                    if let Some(cmd) = &step.command {
                        // A multi-line command keeps its lines; each is escaped.
                        let lines: Vec<String> = cmd.lines().map(field).collect();
                        let _ = writeln!(out, "         $ {}", lines.join("\n"));
                    }
                }
            }
        }
    }
    out.trim_end().to_owned()
}
