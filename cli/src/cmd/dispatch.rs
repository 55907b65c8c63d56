//! `lastmile dispatch`: incidents from JetStream to the diagnosis functions on AWS Lambda.
//!
//! Builds the NATS bus, the Lambda client and telemetry once, then runs one durable consumer
//! per function (`lastmile-dispatch` crate) until SIGTERM, and drains.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use lastmile_contract::FunctionSpec;
use lastmile_dispatch::LambdaConfig;
use lastmile_runtime::bus::Bus;
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::host::nats::HostOptions;
use lastmile_runtime::telemetry::{self, TelemetryConfig};
use tokio_util::sync::CancellationToken;

use crate::functions;

/// Dispatch incidents to the functions' Lambdas.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each function's incidents (lastmile.incident.<family>) are consumed by the \
durable consumer lambda-<function> and sent to its Lambda with Invoke (RequestResponse; \
IAM: lambda:InvokeFunction). Acked after a successful invocation; throttling (429), 5xx and \
timeouts are retried with backoff (LASTMILE_RETRY_BACKOFF*, LASTMILE_MAX_DELIVER); function \
errors go to lastmile.dlq.<function> with the reason. Credentials and region come from the \
standard AWS chain. Exit codes: 0 drained after SIGTERM; 2 bad configuration or NATS unreachable."
)]
pub struct Args {
    /// Functions to dispatch (comma-separated or repeated); all when absent.
    #[arg(
        long = "function",
        env = "LASTMILE_DISPATCH_FUNCTIONS",
        value_delimiter = ','
    )]
    pub dispatch: Vec<String>,
    #[command(flatten)]
    pub lambda: LambdaConfig,
    #[command(flatten)]
    pub nats: NatsConfig,
    #[command(flatten)]
    pub host: HostOptions,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let specs: Vec<&'static FunctionSpec> = if args.dispatch.is_empty() {
        functions::FUNCTIONS.iter().map(|f| f.spec).collect()
    } else {
        args.dispatch
            .iter()
            .map(|name| {
                functions::find(name.trim())
                    .map(|f| f.spec)
                    .with_context(|| {
                        format!(
                            "unknown function {name:?} (known: {})",
                            functions::names().join(", ")
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?
    };
    args.lambda
        .validate(&functions::names())
        .context("invalid Lambda configuration")?;
    args.nats.validate().context("invalid NATS configuration")?;
    args.host.validate().context("invalid host options")?;
    let telemetry = telemetry::init(
        &TelemetryConfig::from_env("lastmile-dispatch")
            .context("invalid telemetry configuration")?,
    )
    .context("cannot start telemetry")?;
    let bus = Arc::new(
        NatsBus::connect(&args.nats)
            .await
            .context("cannot connect to NATS")?,
    );
    bus.ensure_streams()
        .await
        .context("cannot create the JetStream streams")?;
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        lastmile_runtime::host::nats::termination_signal().await;
        signal.cancel();
    });
    let reports =
        lastmile_dispatch::run(&specs, &args.lambda, bus as Arc<dyn Bus>, args.host, stop)
            .await
            .context("dispatcher failed")?;
    tracing::info!(?reports, "Drained; exiting.");
    if let Err(e) = telemetry.shutdown().await {
        tracing::warn!(error = %e, "Spans not flushed at exit.");
    }
    Ok(ExitCode::SUCCESS)
}
