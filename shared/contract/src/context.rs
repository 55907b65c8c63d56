//! What a handler may use besides the incident: the only doors to the outside world.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lastmile_events::{ClusterSnapshot, Incident};

use crate::settings::Settings;

/// The time source. Tests and replay pin it so outcomes are reproducible.
pub trait Clock: Send + Sync {
    /// The current time (a fixed instant in tests and replays).
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stuck at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// What a single-object read from the cluster came to. Functions reason differently about
/// each: an object that is [`NotFound`](Self::NotFound) is a finding about the workload
/// ("secret regcred does not exist"), the others are limits of lastmile's own view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterRead<T> {
    /// The object, as far as the view exposes it.
    Found(T),
    /// The API server answered that the object does not exist.
    NotFound,
    /// The API server refused lastmile (401/403: its RBAC does not allow the read).
    Forbidden {
        /// The server's reason, never object data.
        detail: String,
    },
    /// The read failed (timeout, connection refused, 5xx); trying later may work.
    Failed {
        /// What went wrong, never object data.
        detail: String,
    },
    /// There is no live cluster view to ask (replay, `explain`, hosts without cluster access).
    Unavailable,
}

impl<T> ClusterRead<T> {
    /// True for answers about the object itself ([`Found`](Self::Found) or
    /// [`NotFound`](Self::NotFound)), false when lastmile could not find out.
    pub fn is_decisive(&self) -> bool {
        matches!(self, Self::Found(_) | Self::NotFound)
    }
}

/// A pull secret as the kubelet reads it: its type and its docker config payloads. Only the
/// `.dockerconfigjson` and `.dockercfg` keys are ever read out of a Secret; `Debug` shows the
/// type and key names, never values.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PullSecret {
    /// `type` of the Secret (`kubernetes.io/dockerconfigjson`, `kubernetes.io/dockercfg`,
    /// `Opaque`, …); empty when unset.
    pub type_: String,
    /// Decoded values of the `.dockerconfigjson` / `.dockercfg` keys that are present.
    pub data: BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for PullSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullSecret")
            .field("type", &self.type_)
            .field("keys", &self.data.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Live cluster state beyond what the incident carries (e.g. the watcher's cache), and the
/// few single objects a function may read as the kubelet would. Incidents never carry
/// Secrets (they travel on the bus); a function that needs a pull secret asks here, and only
/// by name. Every read defaults to [`ClusterRead::Unavailable`].
#[async_trait]
pub trait ClusterView: Send + Sync {
    /// The freshest state relevant to `incident`, or `None` when there is no live view
    /// (functions then use `incident.snapshot`).
    async fn snapshot(&self, incident: &Incident) -> Option<Arc<ClusterSnapshot>>;

    /// The pull-secret part of Secret `namespace/name` (see [`PullSecret`]).
    async fn pull_secret(&self, _namespace: &str, _name: &str) -> ClusterRead<PullSecret> {
        ClusterRead::Unavailable
    }

    /// The `imagePullSecrets` names of ServiceAccount `namespace/name`.
    async fn service_account_pull_secrets(
        &self,
        _namespace: &str,
        _name: &str,
    ) -> ClusterRead<Vec<String>> {
        ClusterRead::Unavailable
    }
}

/// No live view: functions work from the incident alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCluster;

#[async_trait]
impl ClusterView for NoCluster {
    async fn snapshot(&self, _incident: &Incident) -> Option<Arc<ClusterSnapshot>> {
        None
    }
}

/// An HTTP request a function wants made (e.g. to a registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `HEAD`, `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers, lower-case names. `authorization` values never reach logs or evidence.
    pub headers: BTreeMap<String, String>,
    /// Body, for POST.
    pub body: Vec<u8>,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, lower-case names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// Body, capped by the client (manifests and error documents are small).
    pub body: Vec<u8>,
}

/// Why a request got no HTTP answer. The kinds map onto `image.network` / `image.tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// The host name did not resolve.
    Dns,
    /// Connection refused or reset.
    Refused,
    /// No answer in time.
    Timeout,
    /// TLS failed: unknown CA, expired, wrong host name.
    Tls,
    /// The server spoke plain HTTP on an HTTPS connection (or the reverse).
    NotTls,
    /// Anything else (proxy, protocol).
    Other,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {detail}")]
pub struct TransportError {
    /// What went wrong.
    pub kind: TransportErrorKind,
    /// The underlying error chain, as text (never containing credentials).
    pub detail: String,
}

/// One request and what came of it, as the client saw it.
pub type HttpExchange = Result<HttpResponse, TransportError>;

/// HTTP access for functions that must ask a server (the image-pull function asks the
/// registry as the node would). The runtime implements it with a real client that
/// verifies TLS against the configured roots.
#[async_trait]
pub trait RegistryHttp: Send + Sync {
    /// Sends one request; never follows redirects silently (the caller sees 3xx).
    async fn send(&self, request: HttpRequest) -> HttpExchange;
}

/// No network: every request fails as `Other`, so functions fall back to message-only
/// diagnosis (used by `lastmile explain` without `--probe`, and by replay).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHttp;

#[async_trait]
impl RegistryHttp for NoHttp {
    async fn send(&self, _request: HttpRequest) -> HttpExchange {
        Err(TransportError {
            kind: TransportErrorKind::Other,
            detail: "network access disabled".into(),
        })
    }
}

/// Everything a handler may use besides the incident. Built once by the host.
#[derive(Clone)]
pub struct Context {
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Live cluster view.
    pub cluster: Arc<dyn ClusterView>,
    /// HTTP access to registries; `None` disables probing.
    pub http: Option<Arc<dyn RegistryHttp>>,
    /// Function configuration the host read at start-up (`LASTMILE_*` values and typed
    /// extensions, see [`Settings`]); empty means every function's defaults.
    pub settings: Arc<Settings>,
}

impl Context {
    /// A context with the system clock, no live cluster view and no network.
    pub fn offline() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            cluster: Arc::new(NoCluster),
            http: None,
            settings: Arc::new(Settings::default()),
        }
    }

    /// A context pinned to `now`, with no live cluster view and no network (tests, replay).
    pub fn fixed(now: DateTime<Utc>) -> Self {
        Self {
            clock: Arc::new(FixedClock(now)),
            cluster: Arc::new(NoCluster),
            http: None,
            settings: Arc::new(Settings::default()),
        }
    }

    /// The same context with HTTP access to registries.
    pub fn with_http(mut self, http: Arc<dyn RegistryHttp>) -> Self {
        self.http = Some(http);
        self
    }

    /// The same context with `settings`.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = Arc::new(settings);
        self
    }

    /// The state a function should reason against: the live view when there is one,
    /// otherwise the snapshot carried by the incident.
    pub async fn snapshot_for(&self, incident: &Incident) -> Arc<ClusterSnapshot> {
        match self.cluster.snapshot(incident).await {
            Some(live) => live,
            None => Arc::clone(&incident.snapshot),
        }
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("http", &self.http.is_some())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
