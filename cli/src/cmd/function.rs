//! `lastmile function <name>`: host one function on NATS JetStream, or on AWS Lambda when
//! `AWS_LAMBDA_RUNTIME_API` is set.
//!
//! Clients (NATS, S3, HTTP, telemetry) are built once here and handed to the runtime. Bad
//! configuration fails before anything connects, with a one-line cause.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use lastmile_contract::{ClusterView, NoCluster, Settings};
use lastmile_fn_image_pull::config::ImagePullConfig;
use lastmile_kube_view::{KubeView, KubeViewConfig};
use lastmile_runtime::bus::Publisher;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::lambda::setup::{self, FunctionHostConfig};
use lastmile_runtime::host::nats::HostOptions;

use crate::functions;

/// Host one function.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Configuration comes from flags or the environment variables shown; \
OTEL_* variables configure tracing (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, \
OTEL_SERVICE_NAME). With AWS_LAMBDA_RUNTIME_API set, the function serves Lambda invocations \
(payload: the structured CloudEvent, response: the diagnoses) instead of consuming from NATS; \
it still publishes diagnoses and remediation commands to NATS (NATS_URL), as every host does. \
Exit codes: 0 drained after SIGTERM; 2 bad configuration or a dependency unreachable at start."
)]
pub struct Args {
    /// The function: pending, image-pull, workload, build, runtime, wording.
    pub name: String,
    /// Read what the kubelet reads from the cluster (a pod's pull secrets and its service
    /// account's imagePullSecrets, `get` by name only): `auto` when a kubeconfig or in-cluster
    /// configuration is found, `on` (exit 2 without one), `off`.
    #[arg(long, env = "LASTMILE_KUBE", value_enum, default_value_t = KubeMode::Auto)]
    pub kube: KubeMode,
    /// Kubeconfig file; without it, in-cluster config, then KUBECONFIG / ~/.kube/config.
    #[arg(long, env = "LASTMILE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long = "kube-context", env = "LASTMILE_KUBE_CONTEXT")]
    pub kube_context: Option<String>,
    /// Evidence, probing, NATS and S3: what every function host reads (shared with the lean
    /// Lambda binaries).
    #[command(flatten)]
    pub setup: FunctionHostConfig,
    #[command(flatten)]
    pub host: HostOptions,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let function = *functions::find(&args.name).with_context(|| {
        format!(
            "unknown function {:?} (known: {})",
            args.name,
            functions::names().join(", ")
        )
    })?;
    args.setup.validate()?;
    args.host.validate().context("invalid host options")?;
    let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();

    let telemetry = setup::start_telemetry(function.spec.name)?;
    let settings = settings(function.spec.name)?;
    let cluster = cluster_view(&args).await?;
    let mut clients = args.setup.connect(settings).await?;
    clients.context.cluster = cluster;
    let executor = Executor::new(
        function,
        clients.context,
        clients.evidence,
        clients.bus.clone() as Arc<dyn Publisher>,
    );

    if lambda {
        lastmile_runtime::host::lambda::run(executor, telemetry)
            .await
            .context("Lambda host failed")?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = lastmile_runtime::host::nats::run(
        executor,
        clients.bus,
        args.host.clone(),
        lastmile_runtime::host::nats::termination_signal(),
    )
    .await
    .context("consumer host failed")?;
    tracing::info!(?report, "Drained; exiting.");
    if let Err(e) = telemetry.shutdown().await {
        tracing::warn!(error = %e, "Spans not flushed at exit.");
    }
    Ok(ExitCode::SUCCESS)
}

/// The function settings from `LASTMILE_*` variables, parsed and checked here for the
/// function hosted.
fn settings(function: &str) -> anyhow::Result<Settings> {
    let mut settings = Settings::from_env();
    if function == lastmile_fn_image_pull::SPEC.name {
        ImagePullConfig::install(&mut settings).context("invalid image-pull configuration")?;
    }
    Ok(settings)
}

/// Whether a function host reads from the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KubeMode {
    /// When a kubeconfig or in-cluster configuration is found.
    Auto,
    /// Always; no configuration is a start-up error.
    On,
    /// Never: functions work from the incident alone (the image-pull probe asks anonymously).
    Off,
}

/// The cluster view the mode asks for: the Kubernetes API (secrets and service accounts,
/// `get` only, bounded, briefly cached) or none. A kubeconfig named explicitly must work.
async fn cluster_view(args: &Args) -> anyhow::Result<Arc<dyn ClusterView>> {
    if args.kube == KubeMode::Off {
        return Ok(Arc::new(NoCluster));
    }
    let view = KubeView::connect(
        args.kubeconfig.as_deref(),
        args.kube_context.as_deref(),
        KubeViewConfig::default(),
    )
    .await;
    match view {
        Ok(view) => {
            tracing::info!("Reading pull secrets and service accounts from the cluster.");
            Ok(view)
        }
        Err(e) if args.kube == KubeMode::Auto && args.kubeconfig.is_none() => {
            tracing::info!(
                reason = %e,
                "No Kubernetes configuration; pull secrets are not read (LASTMILE_KUBE=off silences this)."
            );
            Ok(Arc::new(NoCluster))
        }
        Err(e) => Err(e).context("cannot read from the cluster (LASTMILE_KUBE)"),
    }
}
