//! Printing diagnoses for people (`human`) and tools (`json`, the taxonomy's shape).
//! Every diagnosing command prints through here so they read the same.

use std::fmt::Write as _;

use lastmile_events::{Diagnosis, DiagnosisReport};

/// Output format of diagnosing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Readable text: class, summary, evidence, fix.
    #[default]
    Human,
    /// One JSON object `{"diagnoses": [...]}` (../shared/reference/taxonomy.md).
    Json,
}

/// Renders one diagnosis as indented text.
pub fn human_diagnosis(d: &Diagnosis) -> String {
    let mut out = String::new();
    let subject = match (&d.subject.namespace, &d.subject.container) {
        (Some(ns), Some(c)) => format!(
            "{} {}/{} (container {c})",
            d.subject.kind, ns, d.subject.name
        ),
        (Some(ns), None) => format!("{} {}/{}", d.subject.kind, ns, d.subject.name),
        (None, _) => format!("{} {}", d.subject.kind, d.subject.name),
    };
    let _ = writeln!(
        out,
        "  {} ({:.0}%) {}",
        d.class,
        d.confidence * 100.0,
        subject.trim()
    );
    let _ = writeln!(out, "    {}", d.summary);
    for e in &d.evidence {
        let _ = writeln!(out, "    - {e}");
    }
    for r in &d.remediation {
        let _ = writeln!(out, "    fix: {}", r.description);
        if let Some(cmd) = &r.command {
            for line in cmd.lines() {
                let _ = writeln!(out, "      $ {line}");
            }
        }
    }
    if let Some(ev) = &d.evidence_ref {
        let _ = writeln!(
            out,
            "    evidence: {}/{}",
            ev.store.trim_end_matches('/'),
            ev.manifest_key
        );
    }
    if let Some(trace) = &d.trace_id {
        let _ = writeln!(out, "    trace: {trace}");
    }
    out
}

/// Renders a report in `format`.
pub fn render(report: &DiagnosisReport, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(report)? + "\n",
        Format::Human => report.diagnoses.iter().map(human_diagnosis).collect(),
    })
}
