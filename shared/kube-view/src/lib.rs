//! A [`ClusterView`] backed by the Kubernetes API, for hosts that run inside (or next to) the
//! cluster: it reads what the kubelet reads to pull an image — a pull secret and a service
//! account's `imagePullSecrets` — so the image-pull function probes with the pod's own
//! credentials while Secrets never travel on the bus.
//!
//! Design choices:
//! * Its own small crate, not part of `lastmile-runtime`: the runtime (and every function
//!   library) stays free of `kube`, and only the binary that hosts functions links it.
//! * `get` by name only, never `list`/`watch`: the RBAC it needs is `get` on `secrets` and
//!   `serviceaccounts` (`infra/k8s/image-pull-rbac.yaml`), so lastmile never holds the
//!   cluster's Secrets, only those a stuck pod names.
//! * Only `.dockerconfigjson` / `.dockercfg` leave a Secret ([`PullSecret`]); other keys are
//!   dropped on arrival, and values are never logged.
//! * Every read is bounded ([`KubeViewConfig::timeout`], also the client's connect and read
//!   timeouts) and its answer cached briefly ([`KubeViewConfig::ttl`]); failures are not
//!   cached, so the next incident asks again.

mod cache;
pub mod client;

use std::fmt::Debug;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::{Api, Client, Resource};

pub use client::{KubeClientError, kube_client};
use lastmile_contract::events::{ClusterSnapshot, Incident};
use lastmile_contract::{ClusterRead, ClusterView, PullSecret};
use serde::de::DeserializeOwned;

pub use cache::TtlCache;

/// The Secret keys a pull secret may use (the kubelet reads no others).
pub const PULL_SECRET_KEYS: [&str; 2] = [".dockerconfigjson", ".dockercfg"];

/// Bounds of the view.
#[derive(Debug, Clone)]
pub struct KubeViewConfig {
    /// Longest one read may take (connect included).
    pub timeout: Duration,
    /// How long an answer (found, not found, forbidden) is reused.
    pub ttl: Duration,
    /// Most answers held per kind.
    pub capacity: usize,
}

impl Default for KubeViewConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            ttl: Duration::from_secs(30),
            capacity: 1024,
        }
    }
}

/// Why the view could not be built.
#[derive(Debug, thiserror::Error)]
pub enum KubeViewError {
    /// No usable kubeconfig or in-cluster configuration (permanent).
    #[error("cannot configure the Kubernetes client: {0}")]
    Config(#[from] KubeClientError),
}

type Key = (String, String);

/// The view. Cheap to share behind an `Arc`.
pub struct KubeView {
    client: Client,
    config: KubeViewConfig,
    secrets: TtlCache<Key, ClusterRead<PullSecret>>,
    accounts: TtlCache<Key, ClusterRead<Vec<String>>>,
}

impl Debug for KubeView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeView")
            .field("config", &self.config)
            .field("cached_secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl KubeView {
    /// A view over `client`.
    pub fn new(client: Client, config: KubeViewConfig) -> Self {
        Self {
            client,
            secrets: TtlCache::new(config.ttl, config.capacity),
            accounts: TtlCache::new(config.ttl, config.capacity),
            config,
        }
    }

    /// Builds the client from `kubeconfig` (and `context`) when given, else from the
    /// in-cluster configuration or `KUBECONFIG` / `~/.kube/config`, with `config.timeout`
    /// as its connect and read timeouts. Does not contact the API server.
    pub async fn connect(
        kubeconfig: Option<&Path>,
        context: Option<&str>,
        config: KubeViewConfig,
    ) -> Result<Arc<Self>, KubeViewError> {
        let client = client::kube_client(kubeconfig, context, Some(config.timeout)).await?;
        Ok(Arc::new(Self::new(client, config)))
    }

    async fn get<K>(&self, namespace: &str, name: &str) -> ClusterRead<K>
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        if !valid_name(namespace) || !valid_name(name) {
            // Not a name the API server could hold (and never a path to build a URL from).
            return ClusterRead::NotFound;
        }
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        match tokio::time::timeout(self.config.timeout, api.get(name)).await {
            Err(_) => ClusterRead::Failed {
                detail: format!(
                    "no answer from the API server within {:?}",
                    self.config.timeout
                ),
            },
            Ok(Ok(object)) => ClusterRead::Found(object),
            Ok(Err(e)) => classify(&e),
        }
    }
}

/// A DNS-1123 subdomain, as Kubernetes object names and namespaces are.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !name.starts_with(['-', '.'])
        && !name.ends_with(['-', '.'])
}

/// Maps a client error onto a read answer. Only API statuses and transport errors keep their
/// text; anything that may quote the response body is reduced to a fixed phrase.
fn classify<T>(e: &kube::Error) -> ClusterRead<T> {
    match e {
        kube::Error::Api(status) if status.code == 404 => ClusterRead::NotFound,
        kube::Error::Api(status) if matches!(status.code, 401 | 403) => ClusterRead::Forbidden {
            detail: format!("{} {}: {}", status.code, status.reason, status.message),
        },
        kube::Error::Api(status) => ClusterRead::Failed {
            detail: format!("API server answered {} {}", status.code, status.reason),
        },
        kube::Error::SerdeError(_) | kube::Error::FromUtf8(_) => ClusterRead::Failed {
            detail: "the API server's answer did not parse".into(),
        },
        other => ClusterRead::Failed {
            detail: other.to_string(),
        },
    }
}

/// The pull-secret part of a Secret: its type and only the docker config keys.
pub fn pull_secret_of(secret: Secret) -> PullSecret {
    PullSecret {
        type_: secret.type_.unwrap_or_default(),
        data: secret
            .data
            .into_iter()
            .flatten()
            .filter(|(k, _)| PULL_SECRET_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k, v.0))
            .collect(),
    }
}

fn map_found<A, B>(read: ClusterRead<A>, f: impl FnOnce(A) -> B) -> ClusterRead<B> {
    match read {
        ClusterRead::Found(a) => ClusterRead::Found(f(a)),
        ClusterRead::NotFound => ClusterRead::NotFound,
        ClusterRead::Forbidden { detail } => ClusterRead::Forbidden { detail },
        ClusterRead::Failed { detail } => ClusterRead::Failed { detail },
        ClusterRead::Unavailable => ClusterRead::Unavailable,
    }
}

/// Caches `read` unless it failed (a later incident should try again).
fn remember<V: Clone>(cache: &TtlCache<Key, ClusterRead<V>>, key: Key, read: &ClusterRead<V>) {
    if !matches!(read, ClusterRead::Failed { .. }) {
        cache.put(key, read.clone(), Instant::now());
    }
}

fn status_name<T>(read: &ClusterRead<T>) -> &'static str {
    match read {
        ClusterRead::Found(_) => "found",
        ClusterRead::NotFound => "not_found",
        ClusterRead::Forbidden { .. } => "forbidden",
        ClusterRead::Failed { .. } => "failed",
        ClusterRead::Unavailable => "unavailable",
    }
}

#[async_trait]
impl ClusterView for KubeView {
    async fn snapshot(&self, _incident: &Incident) -> Option<Arc<ClusterSnapshot>> {
        None
    }

    async fn pull_secret(&self, namespace: &str, name: &str) -> ClusterRead<PullSecret> {
        let key = (namespace.to_owned(), name.to_owned());
        if let Some(hit) = self.secrets.get(&key, Instant::now()) {
            return hit;
        }
        let read = map_found(self.get::<Secret>(namespace, name).await, pull_secret_of);
        tracing::debug!(
            namespace,
            name,
            status = status_name(&read),
            "Read pull secret."
        );
        remember(&self.secrets, key, &read);
        read
    }

    async fn service_account_pull_secrets(
        &self,
        namespace: &str,
        name: &str,
    ) -> ClusterRead<Vec<String>> {
        let key = (namespace.to_owned(), name.to_owned());
        if let Some(hit) = self.accounts.get(&key, Instant::now()) {
            return hit;
        }
        let read = map_found(self.get::<ServiceAccount>(namespace, name).await, |sa| {
            sa.image_pull_secrets
                .into_iter()
                .flatten()
                .map(|r| r.name)
                .filter(|n| !n.is_empty())
                .collect()
        });
        tracing::debug!(
            namespace,
            name,
            status = status_name(&read),
            "Read service account."
        );
        remember(&self.accounts, key, &read);
        read
    }
}

#[cfg(test)]
mod tests;
