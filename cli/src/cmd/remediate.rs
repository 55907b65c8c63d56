//! `lastmile remediate`: the audited remediation executor, off by default.
//!
//! Builds the NATS bus, the evidence store, the Kubernetes client and telemetry once, then
//! runs the durable consumer on `lastmile.remediation.>` (`lastmile-remediate` crate) until
//! SIGTERM, and drains.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use lastmile_remediate::RemediateConfig;
use lastmile_remediate::kube::Kube;
use lastmile_runtime::bus::Bus;
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::evidence::EvidenceStore;
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::evidence::s3::{S3Config, S3Store};
use lastmile_runtime::host::nats::HostOptions;
use lastmile_runtime::telemetry::{self, TelemetryConfig};

/// Apply allowlisted structured remediations.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Consumes lastmile.remediation.> (durable consumer `remediate`). A remediation \
is applied only when it carries a structured patch whose every field is on the allowlist of \
its namespace (--allow / LASTMILE_REMEDIATE_ALLOW / --config); with no allowlist (the default) \
nothing is ever patched and every structured remediation is audited as refused. An allowed \
patch is first sent as a server-side dry run (dryRun=All), then applied with the \
resourceVersion read as precondition; a 409 Conflict is reported, never retried. Every \
decision is an audit entry in the evidence store (audit/remediate/...), a Kubernetes Event on \
the target and a span. RBAC: infra/remediate/. Exit codes: 0 drained after SIGTERM; 2 bad \
configuration or a dependency unreachable at start."
)]
pub struct Args {
    #[command(flatten)]
    pub remediate: RemediateConfig,
    /// Evidence directory for audit entries, used when no S3 bucket is configured.
    #[arg(
        long = "evidence-dir",
        env = "LASTMILE_EVIDENCE_DIR",
        default_value = "lastmile-evidence"
    )]
    pub evidence_dir: PathBuf,
    #[command(flatten)]
    pub s3: S3Config,
    #[command(flatten)]
    pub nats: NatsConfig,
    #[command(flatten)]
    pub host: HostOptions,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = args
        .remediate
        .settings()
        .context("invalid remediation configuration")?;
    args.nats.validate().context("invalid NATS configuration")?;
    args.host.validate().context("invalid host options")?;
    let telemetry = telemetry::init(
        &TelemetryConfig::from_env("lastmile-remediate")
            .context("invalid telemetry configuration")?,
    )
    .context("cannot start telemetry")?;
    let kube = Kube::connect(
        args.remediate.kubeconfig.as_deref(),
        args.remediate.kube_context.as_deref(),
        args.remediate.kube_timeout,
    )
    .await
    .context("cannot configure the Kubernetes client")?;
    let evidence: Arc<dyn EvidenceStore> = match &args.s3.bucket {
        Some(_) => Arc::new(
            S3Store::connect(&args.s3)
                .await
                .context("cannot reach the S3 evidence store")?,
        ),
        None => Arc::new(
            LocalStore::new(&args.evidence_dir).context("cannot open the evidence directory")?,
        ),
    };
    let bus = Arc::new(
        NatsBus::connect(&args.nats)
            .await
            .context("cannot connect to NATS")?,
    );
    bus.ensure_streams()
        .await
        .context("cannot create the JetStream streams")?;
    let report = lastmile_remediate::run(
        &args.remediate,
        settings,
        kube,
        evidence,
        bus as Arc<dyn Bus>,
        args.host,
        lastmile_runtime::host::nats::termination_signal(),
    )
    .await
    .context("remediation executor failed")?;
    tracing::info!(?report, "Drained; exiting.");
    if let Err(e) = telemetry.shutdown().await {
        tracing::warn!(error = %e, "Spans not flushed at exit.");
    }
    Ok(ExitCode::SUCCESS)
}
