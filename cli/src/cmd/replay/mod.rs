//! `lastmile replay`: the embedded default. Recorded incidents go through the in-process bus
//! to every function, exactly as they would through NATS; evidence goes to a local directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use lastmile_contract::Context;
use lastmile_events::envelope::stable_id;
use lastmile_events::{CloudEvent, Diagnosis, DiagnosisReport, Incident, subjects};
use lastmile_runtime::bus::memory::MemoryBus;
use lastmile_runtime::bus::{DLQ_REASON_HEADER, MSG_ID_HEADER, Message, Publisher};
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::{Executor, HostKind};
use lastmile_runtime::host::inprocess;
use lastmile_runtime::host::nats::HostOptions;

use self::inputs::Outcome;
use crate::cmd::explain::recorded::RecordedCluster;
use crate::functions;
use crate::output::{self, Format};

mod inputs;

/// Replay recorded incidents through every function, with no cluster and no servers.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Inputs: `kubectl get ... -o json` documents (Lists of Pods, Jobs, Events, \
Nodes, quotas, ...) or CloudEvents carrying an Incident; directories are searched for *.json, \
each directory and each content once. A file that cannot be used (empty, not JSON, over 64 MiB, \
a malformed CloudEvent, unreadable) is reported in one line and the others are still diagnosed. \
Exit codes: 0 diagnoses printed; 1 nothing stuck was found in the inputs; 2 some input could not \
be used (the rest was diagnosed) or bad configuration."
)]
pub struct Args {
    /// Files or directories of recorded incidents.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Where evidence bundles are written.
    #[arg(
        long,
        env = "LASTMILE_EVIDENCE_DIR",
        default_value = "lastmile-evidence"
    )]
    pub evidence_dir: PathBuf,
}

/// Runs the command: every path is read (each once), bad files are reported one line each
/// and skipped, the good ones are diagnosed, and a summary line closes stderr.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut tally = Tally::default();
    let mut view = RecordedCluster::default();
    let mut incidents = Vec::new();
    for (file, outcome) in inputs::read_all(&args.paths) {
        let shown = output::error_line(&file.display().to_string());
        match outcome {
            Outcome::Read(recording) => {
                tally.read += 1;
                if !recording.ignored.is_empty() {
                    eprintln!(
                        "lastmile: {shown}: {} part(s) could not be read and were left out, first: {}",
                        recording.ignored.len(),
                        output::error_line(&recording.ignored[0].to_string())
                    );
                }
                let found = view.add(recording, None);
                incidents.extend(found.into_iter().map(|i| (file.clone(), i)));
            }
            Outcome::Failed(reason) => {
                tally.failed += 1;
                eprintln!("lastmile: {shown}: {}", output::error_line(&reason));
            }
            Outcome::Duplicate(first) => {
                tally.duplicates += 1;
                eprintln!(
                    "lastmile: {shown}: repeats {} (same content); replayed once",
                    output::error_line(&first.display().to_string())
                );
            }
            Outcome::Revisit(first) => eprintln!(
                "lastmile: {shown}: the same directory as {} (a symlink loop or second link); visited once",
                output::error_line(&first.display().to_string())
            ),
        }
    }
    if incidents.is_empty() {
        eprintln!("lastmile: no stuck workload found; {tally}");
        return Ok(ExitCode::from(if tally.failed > 0 { 2 } else { 1 }));
    }
    let by_incident = diagnose(&incidents, view, &args.evidence_dir).await?;
    print(&incidents, by_incident, args.format)?;
    eprintln!("lastmile: {tally}");
    Ok(if tally.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// How many paths came to what.
#[derive(Debug, Default)]
struct Tally {
    read: usize,
    failed: usize,
    duplicates: usize,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} file(s), {} diagnosed, {} failed, {} duplicate(s)",
            self.read + self.failed + self.duplicates,
            self.read,
            self.failed,
            self.duplicates
        )
    }
}

/// Every incident through the in-process bus to every function; the diagnoses by incident
/// key. Incidents carry no snapshot of their own: `view` shares each document's one cluster
/// state with its incidents, as `explain` does.
async fn diagnose(
    incidents: &[(PathBuf, Incident)],
    view: RecordedCluster,
    evidence_dir: &Path,
) -> anyhow::Result<BTreeMap<String, Vec<Diagnosis>>> {
    let bus = MemoryBus::new();
    for (file, incident) in incidents {
        bus.publish(incident_message(file, incident)?)
            .await
            .context("in-process bus refused an incident")?;
    }
    // Replay is reproducible: the clock stands at the newest moment the recordings show.
    let now = incidents
        .iter()
        .map(|(_, i)| i.last_seen)
        .max()
        .unwrap_or_default();
    let ctx = Context {
        cluster: Arc::new(view),
        ..Context::fixed(now)
    };
    let store =
        Arc::new(LocalStore::new(evidence_dir).context("cannot open the evidence directory")?);
    let opts = HostOptions {
        concurrency: 4,
        max_deliver: 2,
        retry_backoff: Duration::from_millis(10),
        retry_backoff_max: Duration::from_millis(50),
        ..HostOptions::default()
    };
    for function in functions::FUNCTIONS {
        let executor = Executor::new(*function, ctx.clone(), store.clone(), Arc::new(bus.clone()))
            .on_host(HostKind::InProcess);
        inprocess::run_until_idle(executor, &bus, opts.clone())
            .await
            .with_context(|| format!("function {} failed", function.spec.name))?;
    }

    for dead in bus.published("lastmile.dlq.>") {
        eprintln!(
            "lastmile: {} could not process a message: {}",
            dead.subject,
            output::error_line(dead.header(DLQ_REASON_HEADER).unwrap_or("no reason given"))
        );
    }
    let mut by_incident: BTreeMap<String, Vec<Diagnosis>> = BTreeMap::new();
    for msg in bus.published("lastmile.diagnosis.>") {
        let event = CloudEvent::<Diagnosis>::from_slice(&msg.payload)
            .context("a function published an unreadable diagnosis")?;
        by_incident
            .entry(event.data.incident.clone().unwrap_or_default())
            .or_default()
            .push(event.data);
    }
    Ok(by_incident)
}

fn print(
    incidents: &[(PathBuf, Incident)],
    mut by_incident: BTreeMap<String, Vec<Diagnosis>>,
    format: Format,
) -> anyhow::Result<()> {
    let mut all = Vec::new();
    let mut text = String::new();
    // Recordings of one workload in several files give incidents with one key: each file
    // gets the diagnoses about its own pod, the last one whatever is left.
    let mut left: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, incident) in incidents {
        *left.entry(incident.key.as_str()).or_default() += 1;
    }
    for (file, incident) in incidents {
        let mut mine = by_incident.remove(&incident.key).unwrap_or_default();
        let others = left.get_mut(incident.key.as_str()).map_or(0, |n| {
            *n -= 1;
            *n
        });
        if others > 0 {
            let (own, rest): (Vec<_>, Vec<_>) = mine
                .into_iter()
                .partition(|d| d.subject.name == incident.subject.name);
            by_incident.insert(incident.key.clone(), rest);
            mine = own;
        }
        // Functions run concurrently: a total order, so a replay prints the same every time.
        mine.sort_by(|a, b| {
            (&a.subject.name, a.class.as_str(), &a.id).cmp(&(
                &b.subject.name,
                b.class.as_str(),
                &b.id,
            ))
        });
        // One diagnosis per cause, as `explain` prints (a rule's finding and a wording
        // lead of the same class are one).
        let report = DiagnosisReport::merged(mine);
        if format == Format::Human {
            let owner = incident
                .owner
                .as_ref()
                .map(|o| format!(" of {o}"))
                .unwrap_or_default();
            let count = if incident.count > 1 {
                format!(" ({} pods)", incident.count)
            } else {
                String::new()
            };
            text.push_str(&format!(
                "● {}{count} [{}] from {}\n",
                output::field(&format!("{}{owner}", incident.subject)),
                incident.family,
                output::field(&file.display().to_string())
            ));
            if report.diagnoses.is_empty() {
                text.push_str("  no diagnosis: no function recognised this incident\n");
            }
            text.push_str(&output::render(&report, format)?);
            text.push('\n');
        }
        all.extend(report.diagnoses);
    }
    let rendered = match format {
        Format::Human => text,
        Format::Json => output::render(&DiagnosisReport { diagnoses: all }, format)?,
    };
    crate::out!("{rendered}");
    Ok(())
}

fn incident_message(file: &Path, incident: &Incident) -> anyhow::Result<Message> {
    let id = stable_id(&[&file.display().to_string(), &incident.key]);
    let event = CloudEvent::new(
        id.clone(),
        "/lastmile/replay",
        Some(incident.subject.to_string()),
        incident.last_seen,
        incident.clone(),
    );
    Ok(Message {
        subject: subjects::incident(incident.family),
        headers: BTreeMap::from([(MSG_ID_HEADER.to_owned(), id)]),
        payload: Bytes::from(event.to_vec()?),
    })
}
