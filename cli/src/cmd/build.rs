//! `lastmile build`: what Go binaries record about how they were built, and whether two
//! builds are the same. `inspect` reads executables (ELF, Mach-O, PE), image layers and
//! `go version -m` / `go list -m -json` texts; `diff` compares two of them like an expert and
//! prints the build function's diagnoses (`build.dependency_drift`,
//! `build.checksum_mismatch`, `build.not_reproducible`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use lastmile_events::{DiagnosisReport, Subject};
use lastmile_fn_build::buildinfo::input::{self, Answer, Loaded};
use lastmile_fn_build::compare;

use crate::output::{self, Format, field};

/// `lastmile build`: one subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Print what Go binaries record: toolchain, modules with versions and sums, settings.
    Inspect(InspectArgs),
    /// Compare two builds (binaries, `go version -m` or `go list -m -json all` outputs).
    Diff(DiffArgs),
    /// What an image build would copy from DIR that must not be in an image (`.git`,
    /// `.env*`, keys, kubeconfigs, cloud credentials, `go.work`), per `.dockerignore`.
    Context(ContextArgs),
}

/// `build context` arguments.
#[derive(Debug, clap::Args)]
pub struct ContextArgs {
    /// The build context directory.
    pub dir: PathBuf,
    /// The Dockerfile (default: DIR/Dockerfile).
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// `build inspect` arguments.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Executables, image layers (`.tar`, `.tar.gz`) or `go version -m` texts.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// `build diff` arguments.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Build A: a binary, `go version -m` output or `go list -m -json all` output.
    pub a: PathBuf,
    /// Build B, the same kinds.
    pub b: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Inspect(a) => inspect(&a),
        Sub::Diff(a) => diff(&a),
        Sub::Context(a) => context(&a),
    }
}

/// Every answer for `path`; an unreadable file is one answer carrying the error.
fn answers(path: &Path) -> Vec<Answer> {
    match input::load(path) {
        Ok(a) => a,
        Err(e) => vec![Answer {
            file: path.display().to_string(),
            result: Err(e),
        }],
    }
}

fn inspect(a: &InspectArgs) -> anyhow::Result<ExitCode> {
    let all: Vec<Answer> = a.files.iter().flat_map(|f| answers(f)).collect();
    let all_go = all.iter().all(|x| x.result.is_ok());
    let out = match a.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = all
                .iter()
                .map(|x| match &x.result {
                    Ok(l) => serde_json::json!({"file": x.file, "go": true, "binary": l}),
                    Err(e) => {
                        serde_json::json!({"file": x.file, "go": false, "error": e.to_string()})
                    }
                })
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({ "results": items }))? + "\n"
        }
        Format::Human => all.iter().map(human).collect(),
    };
    crate::out!("{out}");
    Ok(if all_go {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn human(x: &Answer) -> String {
    let mut out = String::new();
    match &x.result {
        Err(e) => {
            let _ = writeln!(
                out,
                "{}: not a Go binary: {}",
                field(&x.file),
                field(&e.to_string())
            );
        }
        Ok(l) => {
            let _ = writeln!(
                out,
                "{}: {} ({}{})",
                field(&x.file),
                field(
                    l.info
                        .go_version
                        .as_deref()
                        .unwrap_or("Go, version not recorded")
                ),
                field(&l.source),
                l.sha256
                    .as_ref()
                    .map(|s| format!(", {} bytes, sha256 {s}", l.size.unwrap_or(0)))
                    .unwrap_or_default()
            );
            for line in l.info.to_text().lines() {
                let cols: Vec<String> = line.trim_start().split('\t').map(field).collect();
                let _ = writeln!(out, "  {}", cols.join("  ").trim_end());
            }
        }
    }
    out
}

/// The first build information `path` holds, else why it holds none.
fn one(path: &Path) -> anyhow::Result<Loaded> {
    let mut all = answers(path);
    let at = all.iter().position(|a| a.result.is_ok()).unwrap_or(0);
    if all.is_empty() {
        anyhow::bail!("{}: no build information", path.display());
    }
    all.swap_remove(at)
        .result
        .with_context(|| path.display().to_string())
}

fn diff(a: &DiffArgs) -> anyhow::Result<ExitCode> {
    let la = one(&a.a)?;
    let lb = one(&a.b)?;
    let findings = compare::compare(&la, &lb);
    let (na, nb) = (a.a.display().to_string(), a.b.display().to_string());
    let subject = Subject {
        kind: "Build".into(),
        namespace: None,
        name: format!("{na} vs {nb}"),
        container: None,
    };
    let report = DiagnosisReport::new(compare::diagnoses(&findings, &na, &nb, &subject));
    let rendered = output::render(&report, a.format)?;
    if report.diagnoses.is_empty() && a.format == Format::Human {
        crate::outln!(
            "{} and {}: the same build (toolchain, {} module(s), settings{})",
            field(&na),
            field(&nb),
            la.info.deps.len(),
            if la.sha256.is_some() && lb.sha256.is_some() {
                ", file digest"
            } else {
                ""
            }
        );
    } else {
        crate::out!("{rendered}");
    }
    Ok(if report.diagnoses.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `build context`: exit 1 when something that must not be in an image would enter it.
/// Paths and sizes only; file contents are never read.
fn context(a: &ContextArgs) -> anyhow::Result<ExitCode> {
    let report = lastmile_fn_build::buildctx::evaluate(&a.dir, a.file.as_deref())?;
    let subject = Subject {
        kind: "BuildContext".into(),
        namespace: None,
        name: a.dir.display().to_string(),
        container: None,
    };
    let diagnoses: Vec<_> = lastmile_fn_build::buildctx::diagnose(&report, &subject)
        .into_iter()
        .collect();
    let leaking = !diagnoses.is_empty();
    if !leaking && a.format == Format::Human {
        crate::outln!(
            "{}: nothing that must stay out of an image enters it ({} file(s), {} bytes copied from the context{})",
            field(&a.dir.display().to_string()),
            report.files_entering,
            report.bytes_entering,
            if report.truncated {
                "; walk stopped early"
            } else {
                ""
            }
        );
    } else {
        crate::out!(
            "{}",
            output::render(&DiagnosisReport::new(diagnoses), a.format)?
        );
    }
    Ok(if leaking {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
