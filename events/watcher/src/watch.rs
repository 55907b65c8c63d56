//! The watch loop: kube-rs watchers in, incidents out.
//!
//! One kube-rs [`watcher()`](kube::runtime::watcher()) per kind (per allowed namespace for
//! namespaced kinds), merged into one stream (`streams`) and consumed by a single task
//! ([`run`]) that owns the [`Watcher`] (its [`Tracker`](crate::Tracker) and
//! [`ClusterStore`](crate::store::ClusterStore)), so there is no locking. kube-rs' watcher
//! relists on `410 Gone` and reconnects with back-off after errors (API-server restarts); its
//! `Init`/`InitDone` markers let the loop forget objects deleted while it was disconnected.
//! Nothing is ever fatal once started: errors are logged and the watchers retry. Incidents
//! are rendered for the bus by `render`.

mod render;
mod rollouts;
mod state;
mod streams;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use futures::stream::BoxStream;
use kube::Client;
use lastmile_events::CiEvent;
use lastmile_runtime::bus::Publisher;
use tokio_util::sync::CancellationToken;

use crate::incidents::TrackerConfig;
use crate::outbox::{Outbox, OutboxConfig};

pub use render::incident_message;
pub use state::{LoopStats, Watcher};

/// Which Event API to watch. Both describe the same Events; watching both costs twice the
/// traffic (the tracker merges duplicates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventApi {
    /// core/v1 `Event` (what `kubectl get events` shows).
    #[default]
    Core,
    /// events.k8s.io/v1 `Event`.
    EventsV1,
    /// Both APIs (clusters in migration may record a reason in only one of them); the
    /// same Event seen twice is merged by the tracker.
    Both,
}

/// How the watcher runs.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// Namespaces to watch; empty means all.
    pub namespaces: Vec<String>,
    /// Namespaces never watched (applied after `namespaces`).
    pub deny_namespaces: Vec<String>,
    /// Label selector for Pods and Jobs (e.g. `app.kubernetes.io/managed-by=ci`).
    pub label_selector: Option<String>,
    /// Which Event API to watch.
    pub event_api: EventApi,
    /// Also watch Nodes, quotas, limit ranges and storage for incident snapshots.
    pub cluster_state: bool,
    /// Also list and watch Secrets, keeping their names and key names only (never values),
    /// so a Runtime incident's missing Secret is checked against the cluster. Off by default:
    /// it needs list/watch on Secrets, which the shipped RBAC does not grant.
    pub secret_names: bool,
    /// Incident thresholds.
    pub tracker: TrackerConfig,
    /// Publishing buffer and retry.
    pub outbox: OutboxConfig,
    /// CloudEvents `source`, e.g. `/lastmile/watcher/prod-eu1`.
    pub source: String,
    /// How often thresholds are re-evaluated.
    pub tick: Duration,
    /// Terminal Jobs older than this are not announced (a relist would re-announce them all).
    pub announce_window: Duration,
    /// Objects per page of the initial lists (and relists). Each watcher holds its current
    /// page deserialised, and all kinds list at once: with kube-rs' default of 500, pages of
    /// full Pods were the watcher's peak memory (~9 MiB of 55 in the `watcher_memory` bench).
    /// Smaller pages cost more list requests (100 for 10,000 pods), not more data.
    pub list_page_size: u32,
    /// Longest the watcher waits, after starting, for the initial list of every watched
    /// kind before it publishes anyway (a kind the RBAC forbids never lists). Until all have
    /// listed, incidents gather their Events and state but are not published, so the first
    /// publish after a (re)start is already informed.
    pub initial_list_timeout: Duration,
}

/// Default [`WatchConfig::list_page_size`].
pub const LIST_PAGE_SIZE: u32 = 100;

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            namespaces: Vec::new(),
            deny_namespaces: Vec::new(),
            label_selector: None,
            event_api: EventApi::Core,
            cluster_state: true,
            secret_names: false,
            tracker: TrackerConfig::default(),
            outbox: OutboxConfig::default(),
            source: "/lastmile/watcher".into(),
            tick: Duration::from_secs(5),
            announce_window: Duration::from_secs(15 * 60),
            list_page_size: LIST_PAGE_SIZE,
            initial_list_timeout: Duration::from_secs(60),
        }
    }
}

/// Watch errors.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// No kubeconfig and not in a cluster, or the config is invalid: permanent.
    #[error("cannot configure the Kubernetes client: {0}")]
    Config(#[from] lastmile_kube_view::KubeClientError),
}

/// Builds a client: from `kubeconfig` (and `context`) when given, else in-cluster config or
/// the default kubeconfig (`KUBECONFIG`, `~/.kube/config`).
pub async fn client(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
) -> Result<Client, WatchError> {
    Ok(lastmile_kube_view::kube_client(kubeconfig, context, None).await?)
}

/// Runs until `shutdown` is cancelled: watches, tracks, publishes. `ci_events` feeds CI
/// deploy events to the correlator (pass `futures::stream::pending()` to go without).
/// Returns the counters.
pub async fn run(
    client: Client,
    cfg: WatchConfig,
    publisher: Arc<dyn Publisher>,
    mut ci_events: BoxStream<'static, CiEvent>,
    shutdown: CancellationToken,
) -> LoopStats {
    let (outbox, sender) = Outbox::start(publisher, cfg.outbox.clone());
    let mut merged = streams::streams(&client, &cfg);
    let mut tick = tokio::time::interval(cfg.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut w = Watcher::new(cfg, outbox.clone());
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => w.tick(Utc::now()),
            ci = ci_events.next() => match ci {
                Some(ev) => w.learn_ci(&ev, Utc::now()),
                None => ci_events = futures::stream::pending().boxed(),
            },
            next = merged.next() => match next {
                Some(Ok((scope, obs))) => w.observe(scope, obs, Utc::now()),
                Some(Err((kind, e))) => {
                    w.stats.watch_errors += 1;
                    tracing::warn!(kind, error = %e, "Watch failed; retrying with back-off.");
                }
                None => break,
            },
        }
    }
    outbox.close();
    // Give queued messages a bounded chance to go out.
    let _ = tokio::time::timeout(Duration::from_secs(5), sender).await;
    let (published, dropped, rejected, _, _) = outbox.stats().snapshot();
    tracing::info!(published, dropped, rejected, "Watcher stopped.");
    w.stats
}

#[cfg(test)]
mod tests;
