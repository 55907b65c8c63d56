//! Where the verdict goes: plain lines, GitHub Actions annotations and the job summary.

use std::io::Write;
use std::path::PathBuf;

use lastmile_events::Diagnosis;
use lastmile_runtime::redact;

use crate::{Target, Verdict};

/// Where the gate writes: plain lines, plus GitHub Actions annotations and job summary.
pub struct Output {
    out: Box<dyn Write + Send>,
    github: bool,
    summary: Option<PathBuf>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("github", &self.github)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// Escapes a GitHub workflow-command message (`%`, CR, LF).
pub fn escape_annotation(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_annotation(s).replace(':', "%3A").replace(',', "%2C")
}

impl Output {
    /// Output to `out`; `github` enables annotations, `summary` the job summary file.
    pub fn new(out: Box<dyn Write + Send>, github: bool, summary: Option<PathBuf>) -> Self {
        Self {
            out,
            github,
            summary,
        }
    }

    /// From the environment: `GITHUB_ACTIONS=true` and `GITHUB_STEP_SUMMARY`.
    pub fn from_env(out: Box<dyn Write + Send>) -> Self {
        let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        let summary = std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .filter(|_| github);
        Self::new(out, github, summary)
    }

    /// Every printed line (and so every annotation) passes the shared redaction policy and
    /// has its control characters escaped: a CI log is public to everyone with repo access.
    pub(crate) fn line(&mut self, s: &str) {
        let clean = redact::text(s);
        let _ = writeln!(self.out, "{}", redact::escape_control(&clean));
        let _ = self.out.flush();
    }

    /// Prints the verdict: cause, fix and trace, or readiness.
    pub fn verdict(&mut self, target: &Target, v: &Verdict) {
        match v {
            Verdict::Ready(how) => {
                self.line(&format!("lastmile gate: {target} is ready: {how}"));
                self.summary(&format!("### ✅ lastmile: {target} is ready\n\n{how}\n"));
            }
            Verdict::Failed { diagnosis, reason } => {
                self.line(&format!(
                    "lastmile gate: {target} will not become ready: {reason}"
                ));
                if let Some(d) = diagnosis {
                    for l in describe(d) {
                        self.line(&l);
                    }
                    if self.github {
                        let fix = d
                            .remediation
                            .first()
                            .map(|r| r.command.clone().unwrap_or_else(|| r.description.clone()));
                        let msg = match fix {
                            Some(f) => format!("{}\nfix: {f}", d.summary),
                            None => d.summary.clone(),
                        };
                        let title = escape_property(&format!("lastmile: {}", d.class));
                        self.line(&format!(
                            "::error title={title}::{}",
                            escape_annotation(&msg)
                        ));
                    }
                    self.summary(&markdown(target, d));
                } else {
                    if self.github {
                        self.line(&format!(
                            "::error title=lastmile::{}",
                            escape_annotation(reason)
                        ));
                    }
                    self.summary(&format!(
                        "### ❌ lastmile: {target} will not become ready\n\n{reason}\n"
                    ));
                }
            }
            Verdict::TimedOut { diagnoses } => {
                self.line(&format!("lastmile gate: timed out waiting for {target}"));
                for d in diagnoses.iter().take(3) {
                    for l in describe(d) {
                        self.line(&l);
                    }
                }
                if self.github {
                    let best = diagnoses
                        .first()
                        .map(|d| format!(" — most likely: {}", d.summary))
                        .unwrap_or_default();
                    self.line(&format!(
                        "::error title=lastmile: timeout::{}",
                        escape_annotation(&format!("{target} was not ready in time{best}"))
                    ));
                }
                let mut md = format!("### ⏱ lastmile: {target} was not ready in time\n\n");
                for d in diagnoses.iter().take(3) {
                    md.push_str(&markdown(target, d));
                }
                self.summary(&md);
            }
        }
    }

    fn summary(&mut self, md: &str) {
        let Some(path) = &self.summary else { return };
        let md = redact::text(md);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(md.as_bytes()));
        if let Err(e) = written {
            let _ = writeln!(
                self.out,
                "lastmile gate: cannot append to the job summary {}: {e}",
                path.display()
            );
        }
    }
}

/// The plain-text description of a diagnosis (reads well in GitLab and Jenkins logs).
pub fn describe(d: &Diagnosis) -> Vec<String> {
    let mut l = vec![format!(
        "  cause:      {} ({:.0}% confident{})",
        d.class,
        d.confidence * 100.0,
        if d.definitive { ", definitive" } else { "" }
    )];
    l.push(format!("  summary:    {}", d.summary));
    let s = &d.subject;
    l.push(format!(
        "  subject:    {} {}{}{}",
        s.kind,
        s.namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default(),
        s.name,
        s.container
            .as_deref()
            .map(|c| format!(" (container {c})"))
            .unwrap_or_default()
    ));
    for e in d.evidence.iter().take(5) {
        l.push(format!("  evidence:   {e}"));
    }
    for r in &d.remediation {
        l.push(format!("  fix:        {}", r.description));
        if let Some(c) = &r.command {
            l.push(format!("              $ {c}"));
        }
    }
    if let Some(t) = &d.trace_id {
        l.push(format!("  trace:      {t}"));
    }
    if let Some(e) = &d.evidence_ref {
        l.push(format!(
            "  evidence bundle: {}/{}",
            e.store.trim_end_matches('/'),
            e.manifest_key
        ));
    }
    if let Some(run) = &d.ci {
        l.push(format!(
            "  CI run:     {}/{}{}",
            run.provider.as_str(),
            run.run_id,
            run.url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ));
    }
    l
}

/// The job-summary Markdown for a diagnosis.
pub fn markdown(target: &Target, d: &Diagnosis) -> String {
    let mut md = format!(
        "### ❌ lastmile: {target} will not become ready\n\n**{}** — {}\n\n",
        d.class, d.summary
    );
    if !d.evidence.is_empty() {
        md.push_str("**Evidence**\n\n");
        for e in d.evidence.iter().take(8) {
            md.push_str(&format!("- `{}`\n", e.replace('`', "'")));
        }
        md.push('\n');
    }
    if !d.remediation.is_empty() {
        md.push_str("**Fix**\n\n");
        for r in &d.remediation {
            md.push_str(&format!("- {}\n", r.description));
            if let Some(c) = &r.command {
                md.push_str(&format!("\n```sh\n{c}\n```\n"));
            }
        }
        md.push('\n');
    }
    if let Some(t) = &d.trace_id {
        md.push_str(&format!("Trace ID: `{t}`\n\n"));
    }
    md
}
