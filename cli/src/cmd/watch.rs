//! `lastmile watch`: watch the cluster and publish incidents worth diagnosing.
//!
//! Builds the Kubernetes client (kubeconfig or in-cluster) and the NATS bus once, then runs
//! the watch loop until SIGINT/SIGTERM. Deploy events (`lastmile.ci.*.deploy_requested`)
//! are read through a durable JetStream consumer on `LASTMILE_CI` (events sent while the
//! watcher was down are read when it starts; malformed ones are dead-lettered) to link
//! incidents to the CI run that deployed them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig, parse_duration};
use lastmile_runtime::bus::{Bus, Publisher};
use lastmile_runtime::telemetry::{self, TelemetryConfig};
use lastmile_watcher::{CiConsumer, EventApi, OutboxConfig, TrackerConfig, WatchConfig};
use tokio_util::sync::CancellationToken;

/// Watch the cluster.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "RBAC: get/list/watch on pods, events (core and events.k8s.io), jobs, \
nodes, resourcequotas, limitranges, persistentvolumeclaims, persistentvolumes, storageclasses, \
services and endpointslices (see infra/k8s/watcher.yaml)."
)]
pub struct Args {
    /// Kubeconfig file; without it, in-cluster config, then KUBECONFIG / ~/.kube/config.
    #[arg(long, env = "LASTMILE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, env = "LASTMILE_KUBE_CONTEXT")]
    pub context: Option<String>,
    /// Namespaces to watch (comma-separated or repeated); all when absent.
    #[arg(
        long = "namespace",
        short = 'n',
        env = "LASTMILE_NAMESPACES",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,
    /// Namespaces never watched.
    #[arg(
        long = "deny-namespace",
        env = "LASTMILE_DENY_NAMESPACES",
        value_delimiter = ','
    )]
    pub deny_namespaces: Vec<String>,
    /// Label selector for Pods and Jobs, e.g. `app.kubernetes.io/managed-by=ci`.
    #[arg(long, short = 'l', env = "LASTMILE_SELECTOR")]
    pub selector: Option<String>,
    /// Which Event API to watch: core, events-v1 or both.
    #[arg(long, env = "LASTMILE_EVENT_API", default_value = "core", value_parser = ["core", "events-v1", "both"])]
    pub event_api: String,
    /// An unscheduled pod becomes an incident after this long.
    #[arg(long, env = "LASTMILE_PENDING_AFTER", default_value = "60s", value_parser = parse_duration)]
    pub pending_after: Duration,
    /// A running init container becomes an incident after this long.
    #[arg(long, env = "LASTMILE_INIT_AFTER", default_value = "5m", value_parser = parse_duration)]
    pub init_after: Duration,
    /// A running pod whose containers never become Ready becomes an incident after this
    /// long (crash loops and OOM kills are reported at once).
    #[arg(long, env = "LASTMILE_RUNTIME_AFTER", default_value = "3m", value_parser = parse_duration)]
    pub runtime_after: Duration,
    /// A StatefulSet or DaemonSet whose rollout has not converged (pods not updated, not
    /// Ready or unavailable) becomes an incident after this long.
    #[arg(long, env = "LASTMILE_ROLLOUT_AFTER", default_value = "10m", value_parser = parse_duration)]
    pub rollout_after: Duration,
    /// An active Job without a deadline, or a Job left suspended (`spec.suspend: true`: no
    /// pods, waiting for whatever suspended it, such as Kueue), becomes an incident after this
    /// long.
    #[arg(long, env = "LASTMILE_JOB_STUCK_AFTER", default_value = "1h", value_parser = parse_duration)]
    pub job_stuck_after: Duration,
    /// Messages buffered while NATS is unreachable (oldest dropped beyond, and reported).
    #[arg(long, env = "LASTMILE_BUFFER", default_value_t = 10_000)]
    pub buffer: usize,
    /// Also watch Secrets for their names and key names (never values), so a missing
    /// Secret is checked against the cluster; needs list/watch on Secrets.
    #[arg(long, env = "LASTMILE_SECRET_NAMES")]
    pub secret_names: bool,
    /// Do not watch nodes, quotas, limit ranges, storage, Services, EndpointSlices and
    /// ConfigMaps (smaller RBAC, poorer snapshots: init waits are then not resolved to Services).
    #[arg(long, env = "LASTMILE_NO_CLUSTER_STATE")]
    pub no_cluster_state: bool,
    /// Objects per page when listing (initial lists and relists); smaller pages use less
    /// memory and more requests.
    #[arg(long, env = "LASTMILE_LIST_PAGE_SIZE", default_value_t = lastmile_watcher::watch::LIST_PAGE_SIZE, value_parser = clap::value_parser!(u32).range(1..))]
    pub list_page_size: u32,
    /// CloudEvents source, naming this cluster.
    #[arg(long, env = "LASTMILE_SOURCE", default_value = "/lastmile/watcher")]
    pub source: String,
    /// Durable JetStream consumer of CI deploy events: one name per cluster (each watcher
    /// reads every deploy event), kept across restarts. Malformed events are dead-lettered
    /// on `lastmile.dlq.<name>`.
    #[arg(long, env = "LASTMILE_CI_CONSUMER", default_value = lastmile_watcher::ci::DEFAULT_CONSUMER)]
    pub ci_consumer: String,
    #[command(flatten)]
    pub nats: NatsConfig,
}

/// Runs the command.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.nats.validate().context("invalid NATS configuration")?;
    let ci_consumer = CiConsumer {
        durable: args.ci_consumer.clone(),
        ..Default::default()
    };
    ci_consumer.validate().context("--ci-consumer")?;
    let telemetry = telemetry::init(
        &TelemetryConfig::from_env("lastmile-watcher")
            .context("invalid telemetry configuration")?,
    )
    .context("cannot start telemetry")?;
    let client =
        lastmile_watcher::watch::client(args.kubeconfig.as_deref(), args.context.as_deref())
            .await
            .context("cannot configure the Kubernetes client")?;
    let bus = Arc::new(
        NatsBus::connect(&args.nats)
            .await
            .context("cannot connect to NATS")?,
    );
    bus.ensure_streams()
        .await
        .context("cannot create the JetStream streams")?;
    let cfg = WatchConfig {
        namespaces: args.namespaces,
        deny_namespaces: args.deny_namespaces,
        label_selector: args.selector,
        event_api: match args.event_api.as_str() {
            "events-v1" => EventApi::EventsV1,
            "both" => EventApi::Both,
            _ => EventApi::Core,
        },
        cluster_state: !args.no_cluster_state,
        secret_names: args.secret_names,
        tracker: TrackerConfig {
            pending_after: args.pending_after,
            init_after: args.init_after,
            runtime_after: args.runtime_after,
            rollout_after: args.rollout_after,
            job_stuck_after: args.job_stuck_after,
            ..Default::default()
        },
        outbox: OutboxConfig {
            capacity: args.buffer,
            ..Default::default()
        },
        source: args.source,
        list_page_size: args.list_page_size,
        ..Default::default()
    };
    let stop = CancellationToken::new();
    let signal = stop.clone();
    tokio::spawn(async move {
        lastmile_runtime::host::nats::termination_signal().await;
        signal.cancel();
    });
    // What the correlator knew before a restart: the durable consumer will not redeliver it.
    let known = match lastmile_watcher::ci::recent(
        bus.jetstream(),
        lastmile_watcher::ci::RECENT_WINDOW,
        lastmile_watcher::ci::RECENT_MAX,
        Duration::from_secs(15),
    )
    .await
    {
        Ok(known) => known,
        Err(e) => {
            tracing::warn!(error = %e, "Starting without earlier CI deploy events.");
            Vec::new()
        }
    };
    tracing::info!(deploys = known.len(), "Recent CI deploy events re-read.");
    let (ci, ci_task) = ci_consumer.start(bus.clone() as Arc<dyn Bus>, stop.clone());
    let ci = futures::stream::iter(known).chain(ci).boxed();
    let stats = lastmile_watcher::run(client, cfg, bus as Arc<dyn Publisher>, ci, stop).await;
    tracing::info!(?stats, "Watcher stopped.");
    match ci_task.await {
        Ok(Ok(report)) => tracing::info!(?report, "CI consumer stopped."),
        Ok(Err(_)) => {} // logged when it happened
        Err(e) => tracing::error!(error = %e, "CI consumer task failed."),
    }
    if let Err(e) = telemetry.shutdown().await {
        tracing::warn!(error = %e, "Spans not flushed at exit.");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use lastmile_watcher::TrackerConfig;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: super::Args,
    }

    /// The flags' defaults are the tracker's own (and the Job patience is the one a
    /// recording is judged with, `facts::DEFAULT_STUCK_AFTER`): one set of numbers, whether
    /// the watcher runs from the CLI or is embedded.
    #[test]
    fn the_flags_defaults_are_the_trackers() {
        let Ok(cli) = Cli::try_parse_from(["watch"]) else {
            panic!("watch parses with no flags");
        };
        let tracker = TrackerConfig::default();
        assert_eq!(cli.args.pending_after, tracker.pending_after);
        assert_eq!(cli.args.init_after, tracker.init_after);
        assert_eq!(cli.args.runtime_after, tracker.runtime_after);
        assert_eq!(cli.args.rollout_after, tracker.rollout_after);
        assert_eq!(cli.args.job_stuck_after, tracker.job_stuck_after);
        assert_eq!(
            cli.args.job_stuck_after,
            lastmile_events::facts::DEFAULT_STUCK_AFTER
        );
    }
}
