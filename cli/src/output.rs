//! Printing diagnoses for people (`human`) and tools (`json`, the taxonomy's shape).
//! Every diagnosing command prints through here so they read the same, and so that nothing
//! reaches the terminal that did not pass the one output boundary
//! ([`lastmile_contract::finalize`]: bounds and the redaction policy); human output also
//! escapes control characters field by field, so input cannot move the cursor, recolour the
//! terminal or forge a line.

use std::borrow::Cow;
use std::fmt::Write as _;

use lastmile_contract::finalize;
use lastmile_events::{Diagnosis, DiagnosisReport};
use lastmile_runtime::redact;

/// Output format of diagnosing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Format {
    /// Readable text: class, summary, evidence, fix.
    #[default]
    Human,
    /// One JSON object `{"diagnoses": [...]}` (../shared/reference/taxonomy.md).
    Json,
}

/// Writes to stdout. When the reader went away (`lastmile explain | head`), the process
/// ends quietly with 141, as a shell reports SIGPIPE, instead of panicking in `print!`; any
/// other write error is one line on stderr and exit 2.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("lastmile: cannot write to stdout: {e}");
        std::process::exit(2);
    }
}

/// `print!` through [`write_stdout`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*)) };
}

/// `println!` through [`write_stdout`].
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => {{
        $crate::output::write_stdout(format_args!($($arg)*));
        $crate::output::write_stdout(format_args!("\n"));
    }};
}

/// One field of human output: redacted, control characters escaped.
pub fn field(s: &str) -> String {
    match redact::text(s) {
        Cow::Borrowed(clean) => redact::escape_control(clean).into_owned(),
        Cow::Owned(clean) => redact::escape_control(&clean).into_owned(),
    }
}

/// A field that already passed the output boundary (a finalized diagnosis's text): control
/// characters escaped, not redacted a second time.
pub fn escaped(s: &str) -> Cow<'_, str> {
    redact::escape_control(s)
}

/// An error message for stderr, on one line: redacted (errors echo input, e.g. a URL with
/// a password), control characters escaped.
pub fn error_line(message: &str) -> String {
    field(message)
}

/// An error and its causes as one [`error_line`], outermost first. A cause the message
/// before it already quotes (thiserror's `"...: {0}"` with `#[from]`) is not repeated.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = e.source();
    }
    error_line(&line)
}

/// Prints a command-line parsing error and returns its exit code. Help and version go out
/// as clap renders them; errors echo the offending value (`--interval`, a registry URL from
/// `LASTMILE_PROBE_REGISTRIES`), so they pass the redaction policy first.
pub fn argument_error(e: &clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
    } else {
        let rendered = e.render().to_string();
        let lines: Vec<String> = rendered.lines().map(field).collect();
        eprintln!("{}", lines.join("\n"));
    }
    std::process::ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// A copy of `d` through the output boundary (idempotent: a finalized diagnosis comes out
/// unchanged).
pub fn finalized(d: &Diagnosis) -> Diagnosis {
    let mut d = d.clone();
    finalize::diagnosis(&mut d);
    d
}

/// Renders one diagnosis as indented text.
pub fn human_diagnosis(d: &Diagnosis) -> String {
    let d = &finalized(d);
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
        field(d.class.as_str()),
        d.confidence * 100.0,
        field(subject.trim())
    );
    let _ = writeln!(out, "    {}", field(&d.summary));
    for e in &d.evidence {
        let _ = writeln!(out, "    - {}", field(e));
    }
    for r in &d.remediation {
        let _ = writeln!(out, "    fix: {}", field(&r.description));
        if let Some(cmd) = &r.command {
            for line in cmd.lines() {
                let _ = writeln!(out, "      $ {}", field(line));
            }
        }
    }
    if let Some(ev) = &d.evidence_ref {
        let _ = writeln!(
            out,
            "    evidence: {}/{}",
            field(ev.store.trim_end_matches('/')),
            field(&ev.manifest_key)
        );
    }
    if let Some(trace) = &d.trace_id {
        let _ = writeln!(out, "    trace: {}", field(trace));
    }
    out
}

/// Renders a report in `format`, every diagnosis through the output boundary first.
pub fn render(report: &DiagnosisReport, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => {
            let clean = DiagnosisReport {
                diagnoses: report.diagnoses.iter().map(finalized).collect(),
            };
            serde_json::to_string_pretty(&clean)? + "\n"
        }
        Format::Human => report.diagnoses.iter().map(human_diagnosis).collect(),
    })
}
