//! `lastmile explain`: why is this stuck? From whatever the user has at hand.
//!
//! Reads a `kubectl get -o json` document, a CloudEvent incident, `kubectl describe`
//! output, a `kubectl get events` table or a log excerpt (JSON or text is detected from
//! the content), builds incidents with `lastmile-intake`, and runs **every** registered
//! function on each, offline. Running all functions rather than the one the family names
//! is the point: intake's family is only a guess from text, and a function that has nothing
//! to say returns nothing, so the merged, confidence-sorted list is the answer.

mod ignored;
pub(crate) mod input;
pub(crate) mod recorded;
mod render;
mod unknown;

#[cfg(test)]
mod cases;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use lastmile_contract::{Context, finalize};
use lastmile_events::{Class, Diagnosis, DiagnosisReport, Incident};
use lastmile_intake::{Ignored, IntakeError, Recording};

use self::recorded::RecordedCluster;

use crate::functions::FUNCTIONS;

/// Exit codes, for `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  a diagnosis was printed (possibly `unknown`, carrying what was seen)
  2  the input could not be read (missing file, empty input, over 64 MiB, malformed CloudEvent)

Examples:
  kubectl get pods,jobs,events -n ci -o json | lastmile explain -
  kubectl describe pod -n ci migrate-x7k2p | lastmile explain --format json
  lastmile explain events/examples/job-deadline-exceeded.json
  lastmile explain incident.json --snapshot <(kubectl get nodes,pods,resourcequota,limitrange,pvc,pv,storageclass -A -o json)";

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

/// Runs the command. Human output is written as each incident is explained, so a document
/// of 100,000 events is never held as 100,000 explanations; JSON holds only the diagnoses
/// (the document is one list, most likely first across every incident).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let input = input::read_bounded(args.input.as_deref())?;
    if input.iter().all(u8::is_ascii_whitespace) {
        anyhow::bail!(
            "the input is empty: pass a file, or pipe kubectl output into `lastmile explain -`"
        );
    }
    let snapshot = match &args.snapshot {
        Some(path) => Some(
            input::read_bounded(Some(path))
                .with_context(|| format!("cannot read snapshot {}", path.display()))?,
        ),
        None => None,
    };
    let mut explainer = Explainer::new(&input, snapshot.as_deref())?;
    drop((input, snapshot));
    match args.format {
        Format::Human => {
            let mut out = render::HumanWriter::default();
            while let Some(e) = explainer.next().await {
                out.push(&e);
            }
            out.finish(&ignored::human(&explainer.ignored));
        }
        Format::Json => {
            let mut diagnoses = Vec::new();
            while let Some(e) = explainer.next().await {
                diagnoses.extend(e.diagnoses);
            }
            let report = render::json_report(diagnoses)?;
            crate::outln!("{}", ignored::json(&report, &explainer.ignored)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds the incidents `input` describes and explains each with every function: every
/// explanation of [`Explainer`], collected.
#[cfg(test)]
pub async fn explain(input: &[u8], snapshot: Option<&[u8]>) -> anyhow::Result<Vec<Explanation>> {
    let mut explainer = Explainer::new(input, snapshot)?;
    let mut explanations = Vec::new();
    while let Some(e) = explainer.next().await {
        explanations.push(e);
    }
    Ok(explanations)
}

/// The incidents of one input, explained one at a time. Every incident reasons against the
/// one cluster state its document recorded (shared, see [`RecordedCluster`]), merged with
/// the `--snapshot` objects.
pub struct Explainer {
    /// Fields and objects of the input that could not be read, in input order.
    pub ignored: Vec<Ignored>,
    incidents: std::vec::IntoIter<Incident>,
    ctx: Context,
    /// The one `unknown` of an input where nothing is stuck.
    nothing_stuck: Option<Explanation>,
}

impl Explainer {
    /// Reads `input` (and `snapshot`) into incidents; nothing is diagnosed yet.
    pub fn new(input: &[u8], snapshot: Option<&[u8]>) -> anyhow::Result<Self> {
        let recording = intake(input)?;
        let extra = match snapshot {
            Some(bytes) => Some(
                lastmile_intake::snapshot_from_json(bytes)
                    .context("--snapshot is not a kubectl JSON document")?,
            ),
            None => None,
        };
        let ignored = recording.ignored.clone();
        let recorded = Arc::clone(&recording.cluster);
        let mut view = RecordedCluster::default();
        let incidents = view.add(recording, extra.as_ref());
        let nothing_stuck = incidents.is_empty().then(|| {
            let mut d = unknown::nothing_stuck(input, ignored.len(), &recorded);
            finalize::diagnosis(&mut d);
            Explanation {
                incident: lastmile_intake::incident_from_text(""),
                diagnoses: vec![d],
            }
        });
        Ok(Self {
            ignored,
            incidents: incidents.into_iter(),
            ctx: Context {
                cluster: Arc::new(view),
                ..Context::offline()
            },
            nothing_stuck,
        })
    }

    /// The next incident's explanation; `None` when every incident has had its turn (an
    /// input with none yields one `unknown` saying nothing is stuck).
    pub async fn next(&mut self) -> Option<Explanation> {
        if let Some(e) = self.nothing_stuck.take() {
            return Some(e);
        }
        let incident = self.incidents.next()?;
        let diagnoses = diagnose(&incident, &self.ctx).await;
        Some(Explanation {
            incident,
            diagnoses,
        })
    }
}

/// JSON documents go through JSON intake; anything else (or JSON that is not Kubernetes)
/// is text. A malformed CloudEvent is an error: it was clearly meant as one.
fn intake(input: &[u8]) -> anyhow::Result<Recording> {
    let trimmed = input.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        match lastmile_intake::read_json(input) {
            Ok(found) => return Ok(found),
            Err(e @ IntakeError::Envelope(_)) => return Err(e.into()),
            Err(IntakeError::Json(_) | IntakeError::NotKubernetes) => {}
        }
    }
    let text = String::from_utf8_lossy(input);
    Ok(Recording::carrying(vec![
        lastmile_intake::incident_from_text(&text),
    ]))
}

/// Runs every function on `incident` and merges what they say. Every diagnosis returned
/// has passed the output boundary ([`finalize`]), so printing only escapes.
async fn diagnose(incident: &Incident, ctx: &Context) -> Vec<Diagnosis> {
    let mut all: Vec<Diagnosis> = Vec::new();
    for function in FUNCTIONS {
        let call = function.call(incident, ctx);
        match tokio::time::timeout(function.spec.deadline, call).await {
            Ok(Ok(outcome)) => {
                // The same output boundary the hosts use: provenance, bounds, redaction.
                all.extend(finalize::diagnoses(
                    function.spec,
                    incident,
                    outcome.diagnoses,
                ));
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
    // Two functions (or a state and a message rule, or a rule and a wording lead) naming
    // the same class for the same subject are one finding: the more confident is kept.
    let mut merged = DiagnosisReport::merged(all).diagnoses;
    // `unknown` from one function is noise when another found the cause.
    if merged.iter().any(|d| d.class.as_str() != Class::UNKNOWN) {
        merged.retain(|d| d.class.as_str() != Class::UNKNOWN);
    }
    if merged.is_empty() {
        let cluster = ctx.cluster.snapshot(incident).await;
        merged.push(unknown::unknown(incident, cluster.as_deref()));
    } else if merged.iter().all(|d| d.class.as_str() == Class::UNKNOWN) {
        // A function's own `unknown` says what it saw; add what every family searched.
        let cluster = ctx.cluster.snapshot(incident).await;
        let searched = unknown::searched(incident, cluster.as_deref());
        for d in &mut merged {
            unknown::attach(d, &searched);
        }
    } else if merged
        .iter()
        .all(|d| d.function.as_deref() == Some(lastmile_fn_wording::SPEC.name))
    {
        // No rule settled it: the wording lead also says what every family searched and
        // which input would turn the lead into a finding.
        let cluster = ctx.cluster.snapshot(incident).await;
        let searched = unknown::searched(incident, cluster.as_deref());
        unknown::attach_to_lead(&mut merged[0], incident, &searched);
    } else {
        return merged;
    }
    // What explain wrote itself passes the same boundary as the functions' answers.
    let known = finalize::known_secrets(incident);
    for d in &mut merged {
        finalize::diagnosis_against(d, &known);
    }
    merged
}

#[cfg(test)]
mod tests;
