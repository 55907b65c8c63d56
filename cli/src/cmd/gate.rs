//! `lastmile gate`: a CI step that waits for a deploy and fails fast with the cause.
//!
//! Exit codes: 0 ready; 1 the deploy will not become ready (a definitive diagnosis, or the
//! Job failed), with the cause, the fix and the trace ID printed; 2 bad arguments or NATS
//! unreachable; 3 timed out (the most likely causes so far are printed).
//! Under GitHub Actions (`GITHUB_ACTIONS=true`) it also writes `::error` annotations and a
//! Markdown job summary to `$GITHUB_STEP_SUMMARY`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use lastmile_gate::{self as gate, GateConfig, Output, Target};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig, parse_duration};
use lastmile_runtime::telemetry::{self, TelemetryConfig};

/// Wait for a deploy; fail fast with the cause.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["ci_run", "workload", "attestation"])))]
#[command(
    after_help = "Exit codes: 0 ready, 1 will not become ready (cause printed), \
2 bad arguments or NATS unreachable, 3 timed out.\nReady means: a Job reached Complete \
(announced by `lastmile watch`); a Deployment, StatefulSet or DaemonSet rollout complete as \
`kubectl rollout status` decides it (announced by `lastmile watch`) with no incident open; \
without that signal, their incidents resolved (or, with --settle, none open for that long); \
for a CI run, every workload it deploys."
)]
pub struct Args {
    /// The CI run to gate on, e.g. `9876543210` or `github/9876543210`.
    #[arg(long, env = "LASTMILE_CI_RUN")]
    pub ci_run: Option<String>,
    /// The workload to gate on: KIND/NAMESPACE/NAME, e.g. `job/ci/migrate`,
    /// `deployment/shop/checkout`, `statefulset/shop/ledger`, `daemonset/ops/node-agent`
    /// (a stuck rollout of the last three fails the gate with its pods' diagnosis).
    #[arg(long)]
    pub workload: Option<String>,
    /// Give up after this long (exit 3).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// After a Job failed, wait this long for a diagnosis to explain it.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub grace: Duration,
    /// Non-Job workloads: ready when no incident is open for this long.
    #[arg(long, value_parser = parse_duration)]
    pub settle: Option<Duration>,
    /// Also read what was published this long before the gate started.
    #[arg(long, default_value = "15m", value_parser = parse_duration)]
    pub lookback: Duration,
    /// Print a progress line this often.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub progress: Duration,
    /// Before waiting: fail (exit 1) unless the Go binaries in `--image` are the ones this
    /// CI attestation (`lastmile ci collect`) names. Alone, only this check runs.
    #[arg(long, requires = "image")]
    pub attestation: Option<std::path::PathBuf>,
    /// The image about to be deployed (`--attestation`); repeatable.
    #[arg(long)]
    pub image: Vec<String>,
    /// Public key (PEM, ECDSA P-256) verifying the attestation's signature.
    #[arg(long = "public-key", requires = "attestation")]
    pub public_key: Option<std::path::PathBuf>,
    /// Registry (`host:port`) reached over plain HTTP for `--attestation`.
    #[arg(long = "plain-http")]
    pub plain_http: Vec<String>,
    /// Docker config.json or pull Secret with the login for `--image`'s registry
    /// (repeatable); without it, the job's own `docker login` is used when there is one.
    #[arg(long = "pull-secret", requires = "attestation")]
    pub pull_secret: Vec<std::path::PathBuf>,
    /// Extra CA certificate (PEM) for the registry of `--image`.
    #[arg(long = "ca-cert")]
    pub ca_cert: Vec<std::path::PathBuf>,
    /// The CI step's W3C trace context: the gate's span continues it. Without it, the gate
    /// joins the run's trace as the webhook recorded it on the run's deploy event.
    #[arg(long, env = "TRACEPARENT")]
    pub traceparent: Option<String>,
    #[command(flatten)]
    pub nats: NatsConfig,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(att) = &args.attestation {
        let http = crate::cmd::image::http_client(&args.ca_cert)?;
        let opts = crate::cmd::image::AttestationOptions {
            attestation: att.clone(),
            public_key: args.public_key.clone(),
            plain_http: args.plain_http.clone(),
            timeout: Duration::from_secs(10),
            docker_configs: crate::cmd::image::docker_configs(&args.pull_secret)?,
        };
        let mut passed = true;
        for image in &args.image {
            let (ok, text) = crate::cmd::image::check_attestation(&http, image, &opts).await?;
            print!("{text}");
            passed &= ok;
        }
        if !passed {
            return Ok(ExitCode::from(gate::EXIT_FAILED));
        }
        if args.ci_run.is_none() && args.workload.is_none() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let target = match (&args.ci_run, &args.workload) {
        (Some(run), _) => Target::ci_run(run)?,
        (None, Some(w)) => Target::workload(w)?,
        (None, None) => anyhow::bail!("one of --ci-run or --workload is required"),
    };
    args.nats.validate().context("invalid NATS configuration")?;
    let telemetry = telemetry::init(
        &TelemetryConfig::from_env("lastmile-gate").context("invalid telemetry configuration")?,
    )
    .context("cannot start telemetry")?;
    let bus = NatsBus::connect(&args.nats)
        .await
        .context("cannot connect to NATS")?;
    let messages = gate::nats_source(bus.jetstream(), args.lookback)
        .await
        .context("cannot read lastmile events")?;
    let cfg = GateConfig {
        target,
        timeout: args.timeout,
        grace: args.grace,
        settle: args.settle,
        progress_every: args.progress,
        traceparent: args.traceparent.filter(|tp| !tp.trim().is_empty()),
    };
    let mut out = Output::from_env(Box::new(std::io::stdout()));
    let verdict = gate::run(cfg, messages, &mut out).await;
    if let Err(e) = telemetry.shutdown().await {
        tracing::warn!(error = %e, "Spans not flushed at exit.");
    }
    Ok(ExitCode::from(verdict.exit_code()))
}
