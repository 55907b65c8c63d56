//! `lastmile webhook`: receive CI webhooks (GitHub, GitLab, generic) and publish CI events.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use lastmile_runtime::bus::Publisher;
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig, parse_duration};
use lastmile_runtime::telemetry::{self, TelemetryConfig};
use lastmile_webhook::WebhookConfig;

/// Receive CI webhooks.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Routes: POST /webhook/github, /webhook/gitlab, /webhook/generic; GET /healthz. \
A route without its secret answers 404. Refusals: 401 unsigned, 403 forged, 409 replayed, \
413 oversized, 400 malformed, 503 bus unavailable (the sender retries)."
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "LASTMILE_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// GitHub webhook secret (enables /webhook/github).
    #[arg(long, env = "LASTMILE_GITHUB_SECRET", hide_env_values = true)]
    pub github_secret: Option<String>,
    /// GitLab secret token (enables /webhook/gitlab).
    #[arg(long, env = "LASTMILE_GITLAB_TOKEN", hide_env_values = true)]
    pub gitlab_token: Option<String>,
    /// HMAC secret of the generic format (enables /webhook/generic).
    #[arg(long, env = "LASTMILE_GENERIC_SECRET", hide_env_values = true)]
    pub generic_secret: Option<String>,
    /// Largest accepted body, bytes.
    #[arg(long, env = "LASTMILE_MAX_BODY", default_value_t = 1 << 20)]
    pub max_body: usize,
    /// How long delivery ids are remembered against replays.
    #[arg(long, env = "LASTMILE_REPLAY_WINDOW", default_value = "24h", value_parser = parse_duration)]
    pub replay_window: Duration,
    /// CloudEvents source.
    #[arg(long, env = "LASTMILE_SOURCE", default_value = "/lastmile/webhook")]
    pub source: String,
    #[command(flatten)]
    pub nats: NatsConfig,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.nats.validate().context("invalid NATS configuration")?;
    let secret = |s: Option<String>| s.filter(|v| !v.is_empty()).map(String::into_bytes);
    let cfg = WebhookConfig {
        github_secret: secret(args.github_secret),
        gitlab_token: secret(args.gitlab_token),
        generic_secret: secret(args.generic_secret),
        max_body: args.max_body,
        replay_window: args.replay_window,
        source: args.source,
        ..Default::default()
    };
    if cfg.github_secret.is_none() && cfg.gitlab_token.is_none() && cfg.generic_secret.is_none() {
        bail!(
            "no webhook secret configured: set at least one of LASTMILE_GITHUB_SECRET, LASTMILE_GITLAB_TOKEN, LASTMILE_GENERIC_SECRET"
        );
    }
    let telemetry = telemetry::init(
        &TelemetryConfig::from_env("lastmile-webhook")
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
    let app = lastmile_webhook::router(cfg, bus as Arc<dyn Publisher>);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %args.listen, "Webhook receiver listening.");
    axum::serve(listener, app)
        .with_graceful_shutdown(lastmile_runtime::host::nats::termination_signal())
        .await
        .context("webhook server failed")?;
    if let Err(e) = telemetry.shutdown().await {
        tracing::warn!(error = %e, "Spans not flushed at exit.");
    }
    Ok(ExitCode::SUCCESS)
}
