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

use crate::functions;
use crate::output::{self, Format};

/// Replay recorded incidents through every function, with no cluster and no servers.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Inputs: `kubectl get ... -o json` documents (Lists of Pods, Jobs, Events, \
Nodes, quotas, ...) or CloudEvents carrying an Incident; directories are searched for *.json. \
Exit codes: 0 diagnoses printed; 1 nothing stuck was found in the inputs; 2 bad input or configuration."
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

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let files = collect_files(&args.paths)?;
    let mut incidents = Vec::new();
    for file in &files {
        let bytes =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let found = lastmile_intake::incidents_from_json(&bytes)
            .with_context(|| format!("{} is not a recorded incident", file.display()))?;
        incidents.extend(found.into_iter().map(|i| (file.clone(), i)));
    }
    if incidents.is_empty() {
        eprintln!(
            "lastmile: no stuck workload found in {} file(s)",
            files.len()
        );
        return Ok(ExitCode::from(1));
    }

    let bus = MemoryBus::new();
    for (file, incident) in &incidents {
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
    let ctx = Context::fixed(now);
    let store = Arc::new(
        LocalStore::new(&args.evidence_dir).context("cannot open the evidence directory")?,
    );
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
    print(&incidents, by_incident, args.format)?;
    Ok(ExitCode::SUCCESS)
}

fn print(
    incidents: &[(PathBuf, Incident)],
    mut by_incident: BTreeMap<String, Vec<Diagnosis>>,
    format: Format,
) -> anyhow::Result<()> {
    let mut all = Vec::new();
    let mut text = String::new();
    for (file, incident) in incidents {
        let report = DiagnosisReport::new(by_incident.remove(&incident.key).unwrap_or_default());
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
    print!("{rendered}");
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

fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}
