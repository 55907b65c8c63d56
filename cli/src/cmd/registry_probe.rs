//! `lastmile registry probe`: is a registry healthy as a node sees it? `GET /v2/` (API
//! version, auth challenge), each known manifest through the full pull path, and the catalog
//! where the registry allows it; each with status and latency, for one or several registries.
//!
//! Every check is also measured as OTLP metrics (`registry_health_status`,
//! `registry_latency_seconds`, by `endpoint` and `operation`) when an OTLP endpoint is
//! configured. Once (the default) it exits non-zero when a registry is unreachable or a known
//! manifest would not pull; with `--interval` it is the scheduled probe: a round every
//! interval, metrics exported after each, until SIGTERM or Ctrl-C (exit 0 after a final
//! flush). With `AWS_LAMBDA_RUNTIME_API` set (on AWS Lambda, triggered by an EventBridge
//! schedule) it serves invocations instead: one round per invocation, whatever the payload,
//! metrics flushed before the response (the environment freezes after it), and the round's
//! JSON report as the response.

mod checks;
mod targets;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use lastmile_runtime::host::lambda::{self, LambdaHostError};
use lastmile_runtime::telemetry::metrics::{self, Metrics, MetricsConfig};
use lastmile_runtime::telemetry::registry_health::{RegistryHealthMetrics, SCOPE};
use lastmile_runtime::telemetry::{self, TelemetryConfig, TelemetryGuard};

use self::checks::{Check, Prober};
use self::targets::Target;
use super::image::{Format, http_client, read_pull_secret};

/// Set by AWS Lambda: serve invocations instead of probing once or on an interval.
const LAMBDA_RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";

/// `service.name` unless the OTel environment names one.
const SERVICE_NAME: &str = "lastmile-registry-probe";

/// `lastmile registry`: one subcommand.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Probe registries: /v2/, known manifests, the catalog; once, or every --interval.
    #[command(after_help = "\
Metrics: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) set, each \
check is exported as registry_health_status (1/0) and registry_latency_seconds, by endpoint \
and operation (api_version, manifest, catalog).
On AWS Lambda (AWS_LAMBDA_RUNTIME_API set) every invocation runs one round and returns its \
JSON report; registries and manifests may then come from LASTMILE_PROBE_REGISTRIES and \
LASTMILE_PROBE_MANIFESTS (comma-separated).
Exit codes: once, 0 all healthy, 1 a check failed; with --interval, 0 after SIGTERM/Ctrl-C; \
2 bad configuration.")]
    Probe(ProbeArgs),
}

/// `registry probe` arguments.
#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Registry hosts (`registry.example.com`, `localhost:5000`).
    #[arg(
        required = true,
        env = "LASTMILE_PROBE_REGISTRIES",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub registry: Vec<String>,
    /// A manifest that must exist, `repository:tag`; repeatable (or comma-separated). With
    /// several registries, name the registry: `HOST/repository:tag`.
    #[arg(
        long,
        env = "LASTMILE_PROBE_MANIFESTS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub manifest: Vec<String>,
    /// Pull secret for the manifest checks (Secret manifest or docker config.json).
    #[arg(long = "pull-secret")]
    pub pull_secret: Option<PathBuf>,
    /// Use plain HTTP.
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    /// Extra CA certificate (PEM) to trust.
    #[arg(long = "ca-cert")]
    pub ca_cert: Vec<PathBuf>,
    /// Per-request timeout, seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Probe every INTERVAL (`30s`, `1m`) until SIGTERM, exporting metrics after each round.
    #[arg(long, env = "LASTMILE_PROBE_INTERVAL", value_parser = parse_interval)]
    pub interval: Option<Duration>,
    /// Output format (`github` prints annotations for failed checks; `json` prints one
    /// document, one line per round with --interval).
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

fn parse_interval(raw: &str) -> Result<Duration, String> {
    let every = lastmile_runtime::bus::nats::parse_duration(raw).map_err(|e| e.to_string())?;
    if every < Duration::from_secs(1) {
        return Err(format!("{raw:?} is shorter than 1s"));
    }
    Ok(every)
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Sub::Probe(a) = args.command;
    // Everything is checked before anything connects.
    // An empty LASTMILE_PROBE_MANIFESTS (a template parameter left blank) means none.
    let manifests: Vec<String> = a
        .manifest
        .iter()
        .filter(|m| !m.trim().is_empty())
        .cloned()
        .collect();
    let targets = targets::plan(&a.registry, &manifests).map_err(anyhow::Error::msg)?;
    let credentials = a.pull_secret.as_deref().map(read_pull_secret).transpose()?;
    let prober = Prober {
        http: http_client(&a.ca_cert)?,
        plain_http: a.plain_http,
        timeout: Duration::from_secs(a.timeout.max(1)),
        credentials,
    };
    let lambda = std::env::var_os(LAMBDA_RUNTIME_API).is_some();
    if lambda {
        anyhow::ensure!(
            a.interval.is_none(),
            "--interval (LASTMILE_PROBE_INTERVAL) does not apply on Lambda: its schedule \
             triggers each round"
        );
        lambda::check_env(|k| std::env::var(k).ok())?;
    }
    let mut traces = TelemetryConfig::from_env(SERVICE_NAME).context("telemetry configuration")?;
    let log_set = ["LASTMILE_LOG", "RUST_LOG"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|x| !x.trim().is_empty()));
    if a.interval.is_none() && !lambda && !log_set {
        // Once, the answer is on stdout; stderr only says what went wrong around it.
        traces.log_filter = "warn".into();
    }
    let metrics_config = MetricsConfig::from_env(SERVICE_NAME).context("metrics configuration")?;
    let guard = telemetry::init(&traces).context("cannot start telemetry")?;
    let metrics = metrics::build(&metrics_config).context("cannot start metrics")?;
    let instruments = RegistryHealthMetrics::new(&metrics.meter(SCOPE));

    let code = match a.interval {
        None if lambda => {
            let served = serve_lambda(&prober, &targets, &instruments, &metrics, &guard).await;
            finish(metrics, guard).await;
            served.context("Lambda host failed")?;
            return Ok(ExitCode::SUCCESS);
        }
        None => {
            let checks = round(&prober, &targets, &instruments, &metrics).await;
            print(&checks, &targets, a.format, false)?;
            if checks.iter().all(|c| c.healthy) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Some(every) => {
            let shutdown = lastmile_runtime::host::nats::termination_signal();
            tokio::pin!(shutdown);
            loop {
                let checks = tokio::select! {
                    checks = probe_round(&prober, &targets, &instruments) => checks,
                    () = &mut shutdown => break,
                };
                // The round's line first, then its metrics: a reader that has seen a
                // round's metrics has its line too, even when SIGTERM follows at once.
                print(&checks, &targets, a.format, true)?;
                export(&metrics).await;
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = &mut shutdown => break,
                }
            }
            ExitCode::SUCCESS
        }
    };
    finish(metrics, guard).await;
    Ok(code)
}

/// One round: probe, record every check, export the metrics now.
async fn round(
    prober: &Prober<impl lastmile_contract::RegistryHttp>,
    targets: &[Target],
    instruments: &RegistryHealthMetrics,
    metrics: &Metrics,
) -> Vec<Check> {
    let checks = probe_round(prober, targets, instruments).await;
    export(metrics).await;
    checks
}

/// Probes and records every check (the metrics are exported by [`export`]).
async fn probe_round(
    prober: &Prober<impl lastmile_contract::RegistryHttp>,
    targets: &[Target],
    instruments: &RegistryHealthMetrics,
) -> Vec<Check> {
    let checks = prober.round(targets).await;
    for c in &checks {
        instruments.record(&c.observation());
    }
    let failed = checks.iter().filter(|c| !c.healthy).count();
    tracing::info!(checks = checks.len(), failed, "Registry probe round done.");
    checks
}

/// Exports the metrics recorded so far; a failure is logged, the next round tries again.
async fn export(metrics: &Metrics) {
    if let Err(e) = metrics.flush().await {
        tracing::warn!(error = %e, "Registry metrics not exported this round.");
    }
}

/// Serves Lambda invocations until the Runtime API goes away: each one, whatever its payload
/// (typically an EventBridge scheduled event), runs one [`round`] (which exports the metrics
/// before returning) and answers with the round's [`report`]; spans are flushed too, since the
/// environment may be frozen as soon as the response is posted.
async fn serve_lambda(
    prober: &Prober<impl lastmile_contract::RegistryHttp>,
    targets: &[Target],
    instruments: &RegistryHealthMetrics,
    metrics: &Metrics,
    guard: &TelemetryGuard,
) -> Result<(), LambdaHostError> {
    tracing::info!(
        registries = targets.len(),
        "Registry probe serving Lambda invocations."
    );
    let handler = lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            let checks = round(prober, targets, instruments, metrics).await;
            if let Err(e) = guard.flush().await {
                tracing::warn!(error = %e, "Spans not flushed after the invocation.");
            }
            tracing::debug!(request_id = %event.context.request_id, "Invocation answered.");
            Ok::<_, std::convert::Infallible>(report(&checks, targets))
        },
    );
    lambda_runtime::run(handler)
        .await
        .map_err(LambdaHostError::Runtime)
}

/// Flushes what is left; export failures are reported, never fatal (the probe's answer
/// stands).
async fn finish(metrics: Metrics, guard: TelemetryGuard) {
    if let Err(e) = metrics.shutdown().await {
        tracing::warn!(error = %e, "Registry metrics not exported at exit.");
    }
    if let Err(e) = guard.shutdown().await {
        tracing::warn!(error = %e, "Spans not exported at exit.");
    }
}

/// One round's JSON report: the registries, whether all is healthy, and every check.
fn report(checks: &[Check], targets: &[Target]) -> serde_json::Value {
    let registries: Vec<&str> = targets.iter().map(|t| t.registry.as_str()).collect();
    serde_json::json!({
        "registries": registries,
        "healthy": checks.iter().all(|c| c.healthy),
        "checks": checks,
    })
}

fn print(
    checks: &[Check],
    targets: &[Target],
    format: Format,
    repeated: bool,
) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let doc = report(checks, targets);
            if repeated {
                crate::outln!("{}", serde_json::to_string(&doc)?);
            } else {
                crate::outln!("{}", serde_json::to_string_pretty(&doc)?);
            }
        }
        Format::Human => {
            for c in checks {
                let st = c.status.map_or_else(|| "-".to_owned(), |s| s.to_string());
                let what = c.manifest.as_deref().or(c.url.as_deref()).unwrap_or("");
                crate::outln!(
                    "{:<5} {:<11} {:>4} {:>6}ms  {}  {}  {}",
                    if c.healthy { "ok" } else { "FAIL" },
                    c.operation.as_str(),
                    st,
                    c.latency_ms,
                    c.endpoint,
                    what,
                    c.detail
                );
            }
        }
        Format::Github => {
            for c in checks.iter().filter(|c| !c.healthy) {
                let what = c.manifest.as_deref().or(c.url.as_deref()).unwrap_or("");
                crate::outln!(
                    "::error title=lastmile registry {}::{} {} {}",
                    c.operation.as_str(),
                    c.endpoint,
                    what,
                    c.detail
                );
            }
        }
    }
    Ok(())
}
