//! `lastmile explain`: why is this stuck? From whatever the user has at hand.
//!
//! Reads a `kubectl get -o json` document, a CloudEvent incident, `kubectl describe`
//! output, a `kubectl get events` table or a log excerpt (JSON or text is detected from
//! the content), builds incidents with `lastmile-intake`, and runs **every** registered
//! function on each, offline. Running all functions rather than the one the family names
//! is the point: intake's family is only a guess from text, and a function that has nothing
//! to say returns nothing, so the merged, confidence-sorted list is the answer.

mod render;

#[cfg(test)]
mod cases;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use lastmile_contract::{Context, finalize};
use lastmile_events::{Class, Diagnosis, DiagnosisReport, Incident, Subject};
use lastmile_intake::IntakeError;

use crate::functions::FUNCTIONS;

/// Exit codes, for `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  a diagnosis was printed (possibly `unknown`, carrying what was seen)
  2  the input could not be read (missing file, empty input, malformed CloudEvent)

Examples:
  kubectl get pods,jobs,events -n ci -o json | lastmile explain -
  kubectl describe pod -n ci migrate-x7k2p | lastmile explain --format json
  lastmile explain events/examples/job-deadline-exceeded.json
  lastmile explain incident.json --snapshot <(kubectl get nodes,pods,resourcequota,limitrange,pvc,pv,storageclass -A -o json)";

/// Largest input read; a pasted log beyond this is cut by intake anyway.
const MAX_INPUT: u64 = 64 * 1024 * 1024;

/// How to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Readable text: class, summary, evidence, fix commands.
    Human,
    /// The taxonomy's `{"diagnoses": [...]}` document.
    Json,
}

/// Arguments of `lastmile explain`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// File to read: kubectl JSON (List, single object, events), a CloudEvent incident,
    /// `kubectl describe` output, an events table or a log. `-` or nothing reads stdin.
    pub input: Option<PathBuf>,
    /// Cluster state to reason against, merged into every incident's snapshot: the output of
    /// `kubectl get nodes,pods,resourcequota,limitrange,pvc,pv,storageclass -A -o json`.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// One incident and what the functions said about it, most likely first.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The incident as intake built it.
    pub incident: Incident,
    /// Merged diagnoses, most likely first; never empty.
    pub diagnoses: Vec<Diagnosis>,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let input = read_input(args.input.as_ref())?;
    let snapshot = match &args.snapshot {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("cannot read snapshot {}", path.display()))?,
        ),
        None => None,
    };
    let explanations = explain(&input, snapshot.as_deref()).await?;
    let out = match args.format {
        Format::Human => render::human(&explanations),
        Format::Json => render::json(&explanations)?,
    };
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn read_input(path: Option<&PathBuf>) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    match path {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::File::open(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .take(MAX_INPUT)
                .read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .take(MAX_INPUT)
                .read_to_end(&mut bytes)
                .context("cannot read stdin")?;
        }
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        anyhow::bail!(
            "the input is empty: pass a file, or pipe kubectl output into `lastmile explain -`"
        );
    }
    Ok(bytes)
}

/// Builds the incidents `input` describes and explains each with every function.
pub async fn explain(input: &[u8], snapshot: Option<&[u8]>) -> anyhow::Result<Vec<Explanation>> {
    let mut incidents = incidents(input)?;
    if let Some(bytes) = snapshot {
        let extra = lastmile_intake::snapshot_from_json(bytes)
            .context("--snapshot is not a kubectl JSON document")?;
        for incident in &mut incidents {
            lastmile_intake::merge_snapshot(&mut incident.snapshot, &extra);
        }
    }
    if incidents.is_empty() {
        return Ok(vec![nothing_stuck(input)]);
    }
    let ctx = Context::offline();
    let mut out = Vec::with_capacity(incidents.len());
    for incident in incidents {
        let diagnoses = diagnose(&incident, &ctx).await;
        out.push(Explanation {
            incident,
            diagnoses,
        });
    }
    Ok(out)
}

/// JSON documents go through JSON intake; anything else (or JSON that is not Kubernetes)
/// is text. A malformed CloudEvent is an error: it was clearly meant as one.
fn incidents(input: &[u8]) -> anyhow::Result<Vec<Incident>> {
    let trimmed = input.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        match lastmile_intake::incidents_from_json(input) {
            Ok(found) => return Ok(found),
            Err(e @ IntakeError::Envelope(_)) => return Err(e.into()),
            Err(IntakeError::Json(_) | IntakeError::NotKubernetes) => {}
        }
    }
    let text = String::from_utf8_lossy(input);
    Ok(vec![lastmile_intake::incident_from_text(&text)])
}

/// Runs every function on `incident` and merges what they say.
async fn diagnose(incident: &Incident, ctx: &Context) -> Vec<Diagnosis> {
    let mut all: Vec<Diagnosis> = Vec::new();
    for function in FUNCTIONS {
        let call = function.call(incident, ctx);
        match tokio::time::timeout(function.spec.deadline, call).await {
            Ok(Ok(outcome)) => {
                // The same output boundary the hosts use: provenance, bounds, redaction.
                all.extend(finalize::diagnoses(function.spec, incident, outcome.diagnoses));
            }
            Ok(Err(err)) => {
                tracing::warn!(function = function.spec.name, error = %err, "Function failed; its view is missing.")
            }
            Err(_) => tracing::warn!(
                function = function.spec.name,
                "Function exceeded its deadline; its view is missing."
            ),
        }
    }
    let mut merged = DiagnosisReport::new(all).diagnoses;
    // Two functions (or a state and a message rule) naming the same class for the same
    // subject are one finding: keep the more confident one.
    let mut seen: Vec<(Class, Subject)> = Vec::new();
    merged.retain(|d| {
        let key = (d.class.clone(), d.subject.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    // `unknown` from one function is noise when another found the cause.
    if merged.iter().any(|d| d.class.as_str() != Class::UNKNOWN) {
        merged.retain(|d| d.class.as_str() != Class::UNKNOWN);
    }
    if merged.is_empty() {
        merged.push(unknown(incident));
    }
    merged
}

/// The `unknown` diagnosis: nothing recognised, but here is what was seen.
fn unknown(incident: &Incident) -> Diagnosis {
    let subject = Subject {
        kind: incident.subject.kind.clone(),
        namespace: incident.subject.namespace.clone(),
        name: incident.subject.name.clone(),
        container: None,
    };
    let mut d = Diagnosis::new(
        Class::UNKNOWN,
        0.1,
        format!(
            "No function recognised the cause of this {} incident; the evidence is what was seen.",
            incident.family
        ),
        subject,
    );
    d.evidence.extend(
        incident
            .events
            .iter()
            .filter(|e| e.ty == "Warning")
            .take(8)
            .map(|e| {
                format!(
                    "{} {} (x{}): {}",
                    e.ty,
                    e.reason,
                    e.count,
                    e.clean_message()
                )
            }),
    );
    if d.evidence.is_empty()
        && let Some(text) = &incident.text
    {
        d.evidence.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(5)
                .map(|l| format!("\"{l}\"")),
        );
    }
    if let Some(pod) = &incident.pod
        && let Some(phase) = pod.status.as_ref().and_then(|s| s.phase.as_deref())
    {
        d.evidence.push(format!("pod phase: {phase}"));
    }
    d.incident = Some(incident.key.clone());
    d
}

/// The answer for a document in which nothing is stuck.
fn nothing_stuck(input: &[u8]) -> Explanation {
    let incident = lastmile_intake::incident_from_text("");
    let mut d = Diagnosis::new(
        Class::UNKNOWN,
        0.05,
        "Nothing in the input is stuck: no Pending or waiting pod, failed Job, or Warning event was found.",
        Subject {
            kind: "Input".into(),
            namespace: None,
            name: "document".into(),
            container: None,
        },
    );
    d.evidence.push(format!(
        "read a {} byte JSON document with no stuck objects",
        input.len()
    ));
    Explanation {
        incident,
        diagnoses: vec![d],
    }
}

#[cfg(test)]
mod tests;
