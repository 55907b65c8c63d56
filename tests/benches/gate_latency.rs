//! Gate latency benchmark: how long after a definitive diagnosis is published does the real
//! `lastmile gate` process exit non-zero with the cause (issue 5 asks for under 2 s)?
//!
//! ```text
//! cargo bench -p lastmile-tests --bench gate_latency --profile dev          # 20 runs
//! cargo bench -p lastmile-tests --bench gate_latency --profile dev -- 50    # 50 runs
//! ```
//!
//! Each run starts `lastmile gate --workload job/ci/NAME` (a new NAME each run) against one
//! real nats-server, waits for its first output line (printed once its JetStream consumers
//! exist), publishes a definitive `job.deadline_exceeded` diagnosis for that Job, and
//! measures from the publish ack to the process exit (which must be code 1 with the cause
//! printed). The figure includes delivery through JetStream, the gate's verdict, printing
//! and process teardown.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use lastmile_events::envelope::stable_id;
use lastmile_events::{Class, CloudEvent, Diagnosis, Remediation, Subject, subjects};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher};
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

/// Bound on any wait.
const PATIENCE: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse())
        .transpose()
        .context("the argument is the number of runs")?
        .unwrap_or(20);
    let bin = lastmile_bin()?;
    let server = NatsServer::start().await?;
    let bus = NatsBus::connect(&NatsConfig::with_url(server.url())).await?;
    bus.ensure_streams().await?;

    let mut latencies = Vec::with_capacity(runs);
    for run in 0..runs {
        latencies.push(one_run(&bin, &server, &bus, run).await?);
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "gate latency (publish ack -> gate exit 1), {} runs: min {:?}  p50 {:?}  p99 {:?}  max {:?}",
        latencies.len(),
        at(0.0),
        at(0.5),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

/// One gate process: start, wait until it listens, publish, time the exit.
async fn one_run(
    bin: &std::path::Path,
    server: &NatsServer,
    bus: &NatsBus,
    run: usize,
) -> anyhow::Result<Duration> {
    let name = format!("migrate-{run}");
    let mut child = tokio::process::Command::new(bin)
        .args(["gate", "--workload", &format!("job/ci/{name}")])
        .args(["--nats-url", &server.url(), "--timeout", "60s"])
        .env_remove("NATS_URL")
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().context("gate stdout")?);
    let mut first = String::new();
    tokio::time::timeout(PATIENCE, stdout.read_line(&mut first))
        .await
        .context("the gate printed nothing")??;
    if !first.contains("waiting for") {
        bail!("unexpected first gate line: {first:?}");
    }
    let rest = tokio::spawn(async move {
        let mut s = String::new();
        stdout.read_to_string(&mut s).await.map(|_| s)
    });

    bus.publish(diagnosis(&name)?).await?;
    let acked = Instant::now();
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .context("the gate did not exit")??;
    let latency = acked.elapsed();
    let out = rest.await??;
    if status.code() != Some(1) || !out.contains(Class::JOB_DEADLINE_EXCEEDED) {
        bail!("run {run}: gate exited {status}, expected 1 with the cause:\n{first}{out}");
    }
    Ok(latency)
}

/// What the job function publishes for a Job past its deadline.
fn diagnosis(name: &str) -> anyhow::Result<Message> {
    let mut d = Diagnosis::new(
        Class::JOB_DEADLINE_EXCEEDED,
        0.95,
        format!("Job ci/{name} was active longer than activeDeadlineSeconds (600)."),
        Subject {
            kind: "Job".into(),
            namespace: Some("ci".into()),
            name: name.into(),
            container: None,
        },
    );
    d.definitive = true;
    d.evidence
        .push("Job has reached the specified deadline (reason DeadlineExceeded)".into());
    d.remediation.push(Remediation {
        description: "Raise the deadline or make the job faster, then re-run it.".into(),
        command: Some(format!("kubectl -n ci delete job {name}")),
    });
    let id = stable_id(&["diag", "bench", name]);
    let ce = CloudEvent::new(
        id.clone(),
        "/lastmile/function/job",
        None,
        chrono::Utc::now(),
        d,
    );
    let mut msg = Message {
        subject: subjects::diagnosis(Class::JOB_DEADLINE_EXCEEDED),
        payload: ce.to_vec()?.into(),
        ..Default::default()
    };
    msg.headers.insert(MSG_ID_HEADER.into(), id);
    Ok(msg)
}
