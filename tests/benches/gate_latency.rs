//! Gate latency benchmark: how long after a definitive diagnosis is published does the real
//! `lastmile gate` process exit non-zero with the cause (issue 5 asks for under 2 s)?
//!
//! ```text
//! cargo bench -p lastmile-tests --bench gate_latency --profile dev          # 20 runs
//! cargo bench -p lastmile-tests --bench gate_latency --profile dev -- 50    # 50 runs
//! ```
//!
//! Two targets, each run with a new NAME against one real nats-server:
//!
//! * **Job**: `lastmile gate --workload job/ci/NAME`; once it printed its first line (its
//!   JetStream consumers exist), a definitive `job.deadline_exceeded` diagnosis for the Job
//!   is published.
//! * **Deployment**: `lastmile gate --workload deployment/shop/NAME`; the watcher's open
//!   Runtime incident for a pod of the Deployment (its owner) is published first, as in a
//!   stuck rollout, then the runtime function's definitive `runtime.crashloop` diagnosis
//!   about the pod, naming that incident: the gate matches it through the incident.
//!
//! The figure runs from the diagnosis' publish ack to the process exit (which must be code
//! 1 with the cause printed): delivery through JetStream, the gate's verdict, printing and
//! process teardown.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use lastmile_events::envelope::stable_id;
use lastmile_events::{
    Class, CloudEvent, Diagnosis, Incident, IncidentFamily, ObjectRef, Remediation, Subject,
    subjects,
};
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

    for target in [Target::Job, Target::Deployment] {
        let mut latencies = Vec::with_capacity(runs);
        for run in 0..runs {
            latencies.push(one_run(&bin, &server, &bus, target, run).await?);
        }
        latencies.sort();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        println!(
            "gate latency, {} target (diagnosis publish ack -> gate exit 1), {} runs: min {:?}  p50 {:?}  p99 {:?}  max {:?}",
            target.name(),
            latencies.len(),
            at(0.0),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}

/// What the gate waits for.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// `job/ci/NAME`, failed by a diagnosis about the Job.
    Job,
    /// `deployment/shop/NAME`, failed by a diagnosis about its pod, through the incident.
    Deployment,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Self::Job => "Job",
            Self::Deployment => "Deployment",
        }
    }
}

/// One gate process: start, wait until it listens, publish, time the exit.
async fn one_run(
    bin: &std::path::Path,
    server: &NatsServer,
    bus: &NatsBus,
    target: Target,
    run: usize,
) -> anyhow::Result<Duration> {
    let (workload, class) = match target {
        Target::Job => (
            format!("job/ci/migrate-{run}"),
            Class::JOB_DEADLINE_EXCEEDED,
        ),
        Target::Deployment => (
            format!("deployment/shop/checkout-{run}"),
            Class::RUNTIME_CRASHLOOP,
        ),
    };
    let mut child = tokio::process::Command::new(bin)
        .args(["gate", "--workload", &workload])
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

    let diagnosis = match target {
        Target::Job => job_diagnosis(&format!("migrate-{run}"))?,
        Target::Deployment => {
            let (incident, diagnosis) = rollout(&format!("checkout-{run}"))?;
            bus.publish(incident).await?;
            diagnosis
        }
    };
    bus.publish(diagnosis).await?;
    let acked = Instant::now();
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .context("the gate did not exit")??;
    let latency = acked.elapsed();
    let out = rest.await??;
    if status.code() != Some(1) || !out.contains(class) {
        bail!("run {run}: gate exited {status}, expected 1 with the cause:\n{first}{out}");
    }
    Ok(latency)
}

/// What the job function publishes for a Job past its deadline.
fn job_diagnosis(name: &str) -> anyhow::Result<Message> {
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

/// A stuck rollout of Deployment `shop/NAME`: the watcher's open Runtime incident for its
/// crash-looping pod, and the runtime function's definitive diagnosis naming it.
fn rollout(name: &str) -> anyhow::Result<(Message, Message)> {
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: format!("{name}-6d9f7b8c5-7xk2q"),
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: name.into(),
        ..Default::default()
    };
    let now = chrono::Utc::now();
    let incident = Incident::new(IncidentFamily::Runtime, pod, Some(owner), now);
    let key = incident.key.clone();
    let id = stable_id(&["incident", "bench", name]);
    let ce = CloudEvent::new(id.clone(), "/lastmile/watcher/bench", None, now, incident);
    let mut inc_msg = Message {
        subject: subjects::incident(IncidentFamily::Runtime),
        payload: ce.to_vec()?.into(),
        ..Default::default()
    };
    inc_msg.headers.insert(MSG_ID_HEADER.into(), id);

    let mut d = Diagnosis::new(
        Class::RUNTIME_CRASHLOOP,
        0.9,
        format!("Container checkout of shop/{name} keeps exiting with exit code 1."),
        Subject {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: format!("{name}-6d9f7b8c5-7xk2q"),
            container: Some("checkout".into()),
        },
    );
    d.definitive = true;
    d.incident = Some(key);
    d.evidence
        .push("FATAL: required environment variable PAYMENTS_API_URL is not set".into());
    let id = stable_id(&["diag", "bench", name]);
    let ce = CloudEvent::new(id.clone(), "/lastmile/function/runtime", None, now, d);
    let mut d_msg = Message {
        subject: subjects::diagnosis(Class::RUNTIME_CRASHLOOP),
        payload: ce.to_vec()?.into(),
        ..Default::default()
    };
    d_msg.headers.insert(MSG_ID_HEADER.into(), id);
    Ok((inc_msg, d_msg))
}
