//! What a handler may use besides the incident: the only doors to the outside world.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lastmile_events::{ClusterSnapshot, Incident};

/// The time source. Tests and replay pin it so outcomes are reproducible.
pub trait Clock: Send + Sync {
    /// Now.
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

/// Live cluster state beyond what the incident carries (e.g. the watcher's cache).
#[async_trait]
pub trait ClusterView: Send + Sync {
    /// The freshest state relevant to `incident`, or `None` when there is no live view
    /// (functions then use `incident.snapshot`).
    async fn snapshot(&self, incident: &Incident) -> Option<Arc<ClusterSnapshot>>;
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
}

impl Context {
    /// A context with the system clock, no live cluster view and no network.
    pub fn offline() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            cluster: Arc::new(NoCluster),
            http: None,
        }
    }

    /// A context pinned to `now`, with no live cluster view and no network (tests, replay).
    pub fn fixed(now: DateTime<Utc>) -> Self {
        Self {
            clock: Arc::new(FixedClock(now)),
            cluster: Arc::new(NoCluster),
            http: None,
        }
    }

    /// The state a function should reason against: the live view when there is one,
    /// otherwise the snapshot carried by the incident.
    pub async fn snapshot_for(&self, incident: &Incident) -> Arc<ClusterSnapshot> {
        match self.cluster.snapshot(incident).await {
            Some(live) => live,
            None => Arc::new(incident.snapshot.clone()),
        }
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("http", &self.http.is_some())
            .finish_non_exhaustive()
    }
}
