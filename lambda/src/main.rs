//! A lean AWS Lambda binary hosting one diagnosis function, chosen at build time by cargo
//! feature (`--features pending`, `image-pull`, `workload`, `runtime`, `build`).
//!
//! Why a separate binary: the `lastmile` CLI links every function, the Kubernetes client,
//! the HTTP servers of the webhook and admission, the Lambda dispatcher's AWS SDK and a
//! large clap command tree, and a Lambda pays for every megabyte at cold start. This binary
//! links one function and what the Lambda host needs (NATS, S3, telemetry, the registry
//! HTTP client), and shares all of its start-up with `lastmile function` through
//! `lastmile_runtime::host::lambda::setup`, so the two cannot drift: same flags and
//! variables, same clients, same executor, same Lambda host.
//!
//! Start-up: check the Lambda environment, parse the configuration, start telemetry, build
//! the clients (NATS connected and its streams ensured, S3 client ready), then serve
//! invocations. A failure before serving is reported to the Runtime API as the init error
//! (with whether retrying can help) and the process exits 2.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use lastmile_contract::{Function, Settings};
use lastmile_runtime::bus::Publisher;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::lambda::{self, setup};
use lastmile_runtime::telemetry::TelemetryGuard;

mod functions;

/// Serve one lastmile diagnosis function on AWS Lambda (a `provided.al2023` bootstrap).
#[derive(Debug, clap::Parser)]
#[command(
    name = "lastmile-lambda",
    version,
    after_help = "Every flag has the environment variable shown; on Lambda the environment is \
the configuration. OTEL_* variables configure tracing. Exit codes: 2 bad configuration or a \
dependency unreachable at start (reported to the Runtime API as the init error first)."
)]
struct Args {
    /// The function to host; needed only when the binary links more than one.
    #[arg(long, env = "LASTMILE_FUNCTION")]
    function: Option<String>,
    #[command(flatten)]
    setup: setup::FunctionHostConfig,
}

/// mimalloc instead of glibc malloc: the runtime allocates per event (envelopes, JSON
/// values, evidence) and glibc's trimming and consolidation cost ~10% of the pipeline's CPU;
/// `cargo bench -p lastmile-tests --bench pipeline` uses the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // One rustls crypto provider for the process, before any TLS connection (NATS, S3).
    lastmile_runtime::tls::install_crypto_provider();
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("lastmile-lambda: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(serve(args))
}

/// Starts, then serves invocations until the Runtime API goes away.
async fn serve(args: Args) -> ExitCode {
    let (executor, telemetry) = match start(&args).await {
        Ok(started) => started,
        Err(e) => {
            let message = format!("{e:#}");
            eprintln!("lastmile-lambda: {message}");
            let retryable = e
                .downcast_ref::<setup::SetupError>()
                .is_some_and(setup::SetupError::is_retryable);
            if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
                && let Err(report) = lambda::report_init_error(&api, retryable, &message).await
            {
                eprintln!("lastmile-lambda: {report:#}");
            }
            return ExitCode::from(2);
        }
    };
    match lambda::run(executor, telemetry).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lastmile-lambda: {e}");
            ExitCode::from(1)
        }
    }
}

/// Everything before the first invocation: the executor for the function, with its clients.
async fn start(args: &Args) -> anyhow::Result<(Executor, TelemetryGuard)> {
    lambda::check_env(|k| std::env::var(k).ok())?;
    let function = functions::select(args.function.as_deref()).map_err(anyhow::Error::msg)?;
    args.setup.validate()?;
    let telemetry = setup::start_telemetry(function.spec.name)?;
    let clients = args.setup.connect(settings(&function)?).await?;
    let executor = Executor::new(
        function,
        clients.context,
        clients.evidence,
        clients.bus as Arc<dyn Publisher>,
    );
    tracing::info!(function = function.spec.name, "Clients ready.");
    Ok((executor, telemetry))
}

/// The function settings from `LASTMILE_*` variables, parsed and checked for the function.
fn settings(function: &Function) -> anyhow::Result<Settings> {
    let settings = Settings::from_env();
    #[cfg(feature = "image-pull")]
    if function.spec.name == lastmile_fn_image_pull::SPEC.name {
        use anyhow::Context as _;
        let mut settings = settings;
        lastmile_fn_image_pull::config::ImagePullConfig::install(&mut settings)
            .context("invalid image-pull configuration")?;
        return Ok(settings);
    }
    let _ = function;
    Ok(settings)
}
