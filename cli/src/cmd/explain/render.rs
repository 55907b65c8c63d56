//! Printing explanations: for people, or as the taxonomy's JSON document.

use std::fmt::Write as _;

use lastmile_events::DiagnosisReport;

use super::Explanation;

/// The taxonomy's `{"diagnoses": [...]}` over every incident, most likely first.
pub(super) fn json(explanations: &[Explanation]) -> anyhow::Result<String> {
    let all = explanations
        .iter()
        .flat_map(|e| e.diagnoses.iter().cloned())
        .collect();
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
        let _ = write!(out, "{}", inc.subject);
        if let Some(owner) = &inc.owner {
            let _ = write!(out, " (owned by {owner})");
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
                d.class,
                d.confidence
            );
            let _ = writeln!(out, "     {}", d.summary);
            if let Some(c) = &d.subject.container {
                let _ = writeln!(out, "     container: {c}");
            }
            if !d.evidence.is_empty() {
                let _ = writeln!(out, "     evidence:");
                for fact in &d.evidence {
                    let _ = writeln!(out, "       - {fact}");
                }
            }
            if !d.remediation.is_empty() {
                let _ = writeln!(out, "     fix:");
                for step in &d.remediation {
                    let _ = writeln!(out, "       - {}", step.description);
                    if let Some(cmd) = &step.command {
                        let _ = writeln!(out, "         $ {cmd}");
                    }
                }
            }
        }
    }
    out.trim_end().to_owned()
}
