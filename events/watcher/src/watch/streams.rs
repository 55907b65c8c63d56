//! The watch streams: one kube-rs watcher per kind (and allowed namespace), merged.

use std::collections::BTreeSet;
use std::fmt::Debug;

use futures::stream::{BoxStream, SelectAll};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event as CoreEvent, LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    ResourceQuota, Secret, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::events::v1::Event as V1Event;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use super::{EventApi, WatchConfig};

/// One observation from any watcher, with the namespace scope of the watch it came from.
/// Short-lived (consumed as soon as it arrives), so its size does not matter: not boxed.
#[allow(clippy::large_enum_variant)]
pub(super) enum Obs {
    Pod(Event<Pod>),
    Job(Event<Job>),
    Deployment(Event<Deployment>),
    StatefulSet(Event<StatefulSet>),
    DaemonSet(Event<DaemonSet>),
    CoreEvent(Event<CoreEvent>),
    V1Event(Event<V1Event>),
    Node(Event<Node>),
    Quota(Event<ResourceQuota>),
    LimitRange(Event<LimitRange>),
    Pvc(Event<PersistentVolumeClaim>),
    Pv(Event<PersistentVolume>),
    StorageClass(Event<StorageClass>),
    Service(Event<Service>),
    Slice(Event<EndpointSlice>),
    ConfigMap(Event<ConfigMap>),
    Secret(Event<Secret>),
}

impl Obs {
    /// The kind, as [`kinds`] names it.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Self::Pod(_) => "Pod",
            Self::Job(_) => "Job",
            Self::Deployment(_) => "Deployment",
            Self::StatefulSet(_) => "StatefulSet",
            Self::DaemonSet(_) => "DaemonSet",
            Self::CoreEvent(_) => "Event",
            Self::V1Event(_) => "events.k8s.io/Event",
            Self::Node(_) => "Node",
            Self::Quota(_) => "ResourceQuota",
            Self::LimitRange(_) => "LimitRange",
            Self::Pvc(_) => "PersistentVolumeClaim",
            Self::Pv(_) => "PersistentVolume",
            Self::StorageClass(_) => "StorageClass",
            Self::Service(_) => "Service",
            Self::Slice(_) => "EndpointSlice",
            Self::ConfigMap(_) => "ConfigMap",
            Self::Secret(_) => "Secret",
        }
    }

    /// True for the end of an initial list (or relist).
    pub(super) fn is_init_done(&self) -> bool {
        fn done<K>(e: &Event<K>) -> bool {
            matches!(e, Event::InitDone)
        }
        match self {
            Self::Pod(e) => done(e),
            Self::Job(e) => done(e),
            Self::Deployment(e) => done(e),
            Self::StatefulSet(e) => done(e),
            Self::DaemonSet(e) => done(e),
            Self::CoreEvent(e) => done(e),
            Self::V1Event(e) => done(e),
            Self::Node(e) => done(e),
            Self::Quota(e) => done(e),
            Self::LimitRange(e) => done(e),
            Self::Pvc(e) => done(e),
            Self::Pv(e) => done(e),
            Self::StorageClass(e) => done(e),
            Self::Service(e) => done(e),
            Self::Slice(e) => done(e),
            Self::ConfigMap(e) => done(e),
            Self::Secret(e) => done(e),
        }
    }
}

pub(super) type Scoped = (Option<String>, Obs);
pub(super) type ObsStream = BoxStream<'static, Result<Scoped, (&'static str, watcher::Error)>>;

fn namespaced<K>(
    client: &Client,
    cfg: &WatchConfig,
    labels: bool,
    kind: &'static str,
    wrap: fn(Event<K>) -> Obs,
) -> Vec<ObsStream>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
{
    let mut wc = watcher::Config::default().page_size(cfg.list_page_size.max(1));
    if let Some(sel) = cfg.label_selector.as_deref().filter(|_| labels) {
        wc = wc.labels(sel);
    }
    let scopes: Vec<Option<String>> = if cfg.namespaces.is_empty() {
        vec![None]
    } else {
        cfg.namespaces.iter().cloned().map(Some).collect()
    };
    scopes
        .into_iter()
        .map(|scope| {
            let api: Api<K> = match &scope {
                Some(ns) => Api::namespaced(client.clone(), ns),
                None => Api::all(client.clone()),
            };
            watcher(api, wc.clone())
                .default_backoff()
                .map_ok(move |e| (scope.clone(), wrap(e)))
                .map_err(move |e| (kind, e))
                .boxed()
        })
        .collect()
}

fn cluster<K>(
    client: &Client,
    cfg: &WatchConfig,
    kind: &'static str,
    wrap: fn(Event<K>) -> Obs,
) -> ObsStream
where
    K: Resource<Scope = ClusterResourceScope> + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
{
    let wc = watcher::Config::default().page_size(cfg.list_page_size.max(1));
    watcher(Api::<K>::all(client.clone()), wc)
        .default_backoff()
        .map_ok(move |e| (None, wrap(e)))
        .map_err(move |e| (kind, e))
        .boxed()
}

/// The kinds watched under `cfg`, each with whether it is namespaced (watched once per
/// allowed namespace) or cluster-scoped (watched once).
fn kinds(cfg: &WatchConfig) -> Vec<(&'static str, bool)> {
    // Rollouts: a Deployment past its progress deadline, a StatefulSet or DaemonSet that
    // does not converge (Runtime, keyed per workload).
    let mut out = vec![
        ("Pod", true),
        ("Job", true),
        ("Deployment", true),
        ("StatefulSet", true),
        ("DaemonSet", true),
    ];
    if matches!(cfg.event_api, EventApi::Core | EventApi::Both) {
        out.push(("Event", true));
    }
    if matches!(cfg.event_api, EventApi::EventsV1 | EventApi::Both) {
        out.push(("events.k8s.io/Event", true));
    }
    if cfg.cluster_state {
        out.extend([
            ("Node", false),
            ("ResourceQuota", true),
            ("LimitRange", true),
            ("PersistentVolumeClaim", true),
            ("PersistentVolume", false),
            ("StorageClass", false),
            ("Service", true),
            ("EndpointSlice", true),
            // Names and key names only are kept (Runtime snapshots); values are dropped
            // as each object arrives.
            ("ConfigMap", true),
        ]);
    }
    if cfg.secret_names {
        out.push(("Secret", true));
    }
    out
}

/// Every watch stream `cfg` starts, as `(kind, namespace scope)`: what must have listed
/// before incidents can be published informed.
pub(super) fn stream_keys(cfg: &WatchConfig) -> BTreeSet<(&'static str, Option<String>)> {
    kinds(cfg)
        .into_iter()
        .flat_map(|(kind, namespaced)| {
            let scopes: Vec<Option<String>> = if namespaced && !cfg.namespaces.is_empty() {
                cfg.namespaces.iter().cloned().map(Some).collect()
            } else {
                vec![None]
            };
            scopes.into_iter().map(move |scope| (kind, scope))
        })
        .collect()
}

pub(super) fn streams(client: &Client, cfg: &WatchConfig) -> SelectAll<ObsStream> {
    let mut all: Vec<ObsStream> = Vec::new();
    for (kind, _) in kinds(cfg) {
        match kind {
            "Pod" => all.extend(namespaced(client, cfg, true, kind, Obs::Pod)),
            "Job" => all.extend(namespaced(client, cfg, true, kind, Obs::Job)),
            "Deployment" => all.extend(namespaced(client, cfg, true, kind, Obs::Deployment)),
            "StatefulSet" => all.extend(namespaced(client, cfg, true, kind, Obs::StatefulSet)),
            "DaemonSet" => all.extend(namespaced(client, cfg, true, kind, Obs::DaemonSet)),
            "Event" => all.extend(namespaced(client, cfg, false, kind, Obs::CoreEvent)),
            "events.k8s.io/Event" => {
                all.extend(namespaced(client, cfg, false, kind, Obs::V1Event));
            }
            "Node" => all.push(cluster(client, cfg, kind, Obs::Node)),
            "ResourceQuota" => all.extend(namespaced(client, cfg, false, kind, Obs::Quota)),
            "LimitRange" => all.extend(namespaced(client, cfg, false, kind, Obs::LimitRange)),
            "PersistentVolumeClaim" => all.extend(namespaced(client, cfg, false, kind, Obs::Pvc)),
            "PersistentVolume" => all.push(cluster(client, cfg, kind, Obs::Pv)),
            "StorageClass" => all.push(cluster(client, cfg, kind, Obs::StorageClass)),
            "Service" => all.extend(namespaced(client, cfg, false, kind, Obs::Service)),
            "EndpointSlice" => all.extend(namespaced(client, cfg, false, kind, Obs::Slice)),
            "ConfigMap" => all.extend(namespaced(client, cfg, false, kind, Obs::ConfigMap)),
            "Secret" => all.extend(namespaced(client, cfg, false, kind, Obs::Secret)),
            other => tracing::error!(kind = other, "No watch for this kind; not watched."),
        }
    }
    futures::stream::select_all(all)
}
