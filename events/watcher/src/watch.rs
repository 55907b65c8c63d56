//! The watch loop: kube-rs watchers in, incidents out.
//!
//! One kube-rs [`watcher()`] per kind (per allowed namespace for namespaced kinds), merged into
//! one stream and consumed by a single task that owns the [`Tracker`] and the
//! [`ClusterStore`], so there is no locking. kube-rs' watcher relists on `410 Gone` and
//! reconnects with back-off after errors (API-server restarts); its `Init`/`InitDone`
//! markers let the loop forget objects deleted while it was disconnected. Nothing is ever
//! fatal once started: errors are logged and the watchers retry.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, SelectAll};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Event as CoreEvent, LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    ResourceQuota, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::events::v1::Event as V1Event;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Client, Resource};
use lastmile_events::envelope::stable_id;
use lastmile_events::{
    CiEvent, CloudEvent, ClusterSnapshot, Incident, IncidentFamily, IncidentStatus, K8sObservation,
    KubeEvent, subjects,
};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher, TRACEPARENT_HEADER};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::correlate::Correlator;
use crate::incidents::{Tracker, TrackerConfig};
use crate::outbox::{Outbox, OutboxConfig};
use crate::store::{ClusterStore, ClusterWide, Relistable, is_empty_array, object_key};
use crate::trim;
use lastmile_events::facts::job_terminal;

/// Which Event API to watch. Both describe the same Events; watching both costs twice the
/// traffic (the tracker merges duplicates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventApi {
    /// core/v1 `Event` (what `kubectl get events` shows).
    #[default]
    Core,
    /// events.k8s.io/v1 `Event`.
    EventsV1,
    /// Both.
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

/// One observation from any watcher, with the namespace scope of the watch it came from.
/// Short-lived (consumed as soon as it arrives), so its size does not matter: not boxed.
#[allow(clippy::large_enum_variant)]
enum Obs {
    Pod(Event<Pod>),
    Job(Event<Job>),
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
}

impl Obs {
    /// The kind, as [`kinds`] names it.
    fn kind(&self) -> &'static str {
        match self {
            Self::Pod(_) => "Pod",
            Self::Job(_) => "Job",
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
        }
    }

    /// True for the end of an initial list (or relist).
    fn is_init_done(&self) -> bool {
        fn done<K>(e: &Event<K>) -> bool {
            matches!(e, Event::InitDone)
        }
        match self {
            Self::Pod(e) => done(e),
            Self::Job(e) => done(e),
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
        }
    }
}

type Scoped = (Option<String>, Obs);
type ObsStream = BoxStream<'static, Result<Scoped, (&'static str, watcher::Error)>>;

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
    let mut out = vec![("Pod", true), ("Job", true)];
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
        ]);
    }
    out
}

/// Every watch stream `cfg` starts, as `(kind, namespace scope)`: what must have listed
/// before incidents can be published informed.
fn stream_keys(cfg: &WatchConfig) -> BTreeSet<(&'static str, Option<String>)> {
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

fn streams(client: &Client, cfg: &WatchConfig) -> SelectAll<ObsStream> {
    let mut all: Vec<ObsStream> = Vec::new();
    for (kind, _) in kinds(cfg) {
        match kind {
            "Pod" => all.extend(namespaced(client, cfg, true, kind, Obs::Pod)),
            "Job" => all.extend(namespaced(client, cfg, true, kind, Obs::Job)),
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
            other => tracing::error!(kind = other, "No watch for this kind; not watched."),
        }
    }
    futures::stream::select_all(all)
}

/// Counters the loop keeps, for logs and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LoopStats {
    /// Watch events processed.
    pub observed: u64,
    /// Incidents (opened, updated, resolved) handed to the outbox.
    pub incidents: u64,
    /// Job completions/failures announced.
    pub announced: u64,
    /// Watch errors (each followed by a retry).
    pub watch_errors: u64,
}

/// The loop's state: tracker, store and correlation, owned by one task.
pub struct Watcher {
    cfg: WatchConfig,
    tracker: Tracker,
    store: ClusterStore,
    pods_seen: Relistable<()>,
    correlator: Correlator,
    outbox: Outbox,
    stats: LoopStats,
    /// The last cluster-wide snapshot part and the store version it was taken at.
    wide: Option<(u64, Arc<ClusterWide>)>,
    /// Watch streams whose initial list has not ended yet.
    awaiting: BTreeSet<(&'static str, Option<String>)>,
    /// When the first observation or tick came, for [`WatchConfig::initial_list_timeout`].
    started: Option<DateTime<Utc>>,
}

impl Watcher {
    /// A watcher that publishes through `outbox`.
    pub fn new(cfg: WatchConfig, outbox: Outbox) -> Self {
        let mut tracker = Tracker::new(cfg.tracker.clone());
        tracker.hold();
        Self {
            tracker,
            awaiting: stream_keys(&cfg),
            started: None,
            store: ClusterStore::default(),
            pods_seen: Relistable::default(),
            correlator: Correlator::new(10_000),
            outbox,
            stats: LoopStats::default(),
            wide: None,
            cfg,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> LoopStats {
        self.stats
    }

    /// The correlator, to feed CI deploy events into.
    pub fn correlator_mut(&mut self) -> &mut Correlator {
        &mut self.correlator
    }

    fn denied(&self, ns: Option<&str>) -> bool {
        ns.is_some_and(|ns| self.cfg.deny_namespaces.iter().any(|d| d == ns))
    }

    /// Processes one observation.
    fn observe(&mut self, scope: Option<String>, obs: Obs, now: DateTime<Utc>) {
        self.stats.observed += 1;
        self.started.get_or_insert(now);
        let listed = obs.is_init_done().then(|| (obs.kind(), scope.clone()));
        let scope = scope.as_deref();
        let mut out = match obs {
            Obs::Pod(ev) => self.on_pod(scope, ev, now),
            Obs::Job(ev) => self.on_job(ev, now),
            Obs::CoreEvent(Event::Apply(e) | Event::InitApply(e)) => {
                self.on_event(KubeEvent::from_core(&e), now)
            }
            Obs::V1Event(Event::Apply(e) | Event::InitApply(e)) => {
                self.on_event(KubeEvent::from_events_v1(&e), now)
            }
            Obs::CoreEvent(_) | Obs::V1Event(_) => Vec::new(),
            Obs::Node(ev) => apply(&mut self.store.nodes, scope, ev, |set, n| {
                set.apply_json(object_key(&n), &trim::node(&n));
            }),
            Obs::Quota(ev) => apply(&mut self.store.quotas, scope, ev, keep),
            Obs::LimitRange(ev) => apply(&mut self.store.limit_ranges, scope, ev, keep),
            Obs::Pvc(ev) => apply(&mut self.store.pvcs, scope, ev, keep),
            Obs::Pv(ev) => apply(&mut self.store.pvs, scope, ev, keep),
            Obs::StorageClass(ev) => apply(&mut self.store.storage_classes, scope, ev, keep),
            Obs::Service(ev) => apply(&mut self.store.services, scope, ev, |set, svc| {
                set.apply_json(object_key(&svc), &crate::live::service(&svc));
            }),
            Obs::Slice(Event::Delete(slice)) => {
                if let Some(key) = ClusterStore::slice_key(&slice) {
                    self.store.endpoint_slices.delete(&key);
                }
                Vec::new()
            }
            Obs::Slice(ev) => apply(&mut self.store.endpoint_slices, scope, ev, |set, slice| {
                if let Some(key) = ClusterStore::slice_key(&slice) {
                    set.apply_json(key, &crate::live::endpoint_slice(&slice));
                }
            }),
        };
        if let Some(stream) = listed
            && self.awaiting.remove(&stream)
            && self.awaiting.is_empty()
            && self.tracker.is_held()
        {
            tracing::info!("Initial lists read; publishing incidents.");
            out.extend(self.tracker.release(now));
        }
        self.emit(out, now);
    }

    /// True once every watched kind has listed (or the wait for it timed out): incidents
    /// are being published.
    pub fn publishing(&self) -> bool {
        !self.tracker.is_held()
    }

    fn on_event(&mut self, ev: KubeEvent, now: DateTime<Utc>) -> Vec<Incident> {
        if self.denied(ev.regarding.namespace.as_deref()) {
            return Vec::new();
        }
        self.tracker.observe_event(ev, now)
    }

    fn on_pod(&mut self, scope: Option<&str>, ev: Event<Pod>, now: DateTime<Utc>) -> Vec<Incident> {
        match ev {
            Event::Init => {
                self.pods_seen.relist_start(scope);
                self.store.pods_relist_start(scope);
                Vec::new()
            }
            Event::InitDone => {
                self.store.pods_relist_done(scope);
                let mut out = Vec::new();
                for gone in self.pods_seen.relist_done(scope) {
                    if let Some((ns, name)) = gone.split_once('/') {
                        out.extend(self.tracker.forget_pod(ns, name, now));
                    }
                }
                out
            }
            Event::Apply(p) | Event::InitApply(p) => {
                if self.denied(p.metadata.namespace.as_deref()) {
                    return Vec::new();
                }
                self.pods_seen.apply(object_key(&p), ());
                self.store.apply_pod(&p);
                self.tracker.observe_pod(&p, now)
            }
            Event::Delete(p) => {
                let key = object_key(&p);
                self.pods_seen.delete(&key);
                self.store.delete_pod(&key);
                let ns = p.metadata.namespace.as_deref().unwrap_or_default();
                self.tracker
                    .forget_pod(ns, p.metadata.name.as_deref().unwrap_or_default(), now)
            }
        }
    }

    fn on_job(&mut self, ev: Event<Job>, now: DateTime<Utc>) -> Vec<Incident> {
        match ev {
            Event::Apply(j) | Event::InitApply(j) => {
                if self.denied(j.metadata.namespace.as_deref()) {
                    return Vec::new();
                }
                self.announce_terminal(&j, now);
                self.tracker.observe_job(&j, now)
            }
            Event::Delete(j) => self.tracker.forget_job(
                j.metadata.namespace.as_deref().unwrap_or_default(),
                j.metadata.name.as_deref().unwrap_or_default(),
                now,
            ),
            Event::Init | Event::InitDone => Vec::new(),
        }
    }

    /// The readiness signal: a finished Job is published as an observation on
    /// `lastmile.k8s.job.<namespace>` (what `lastmile gate` waits for).
    fn announce_terminal(&mut self, job: &Job, now: DateTime<Utc>) {
        let Some(terminal) = job_terminal(job) else {
            return;
        };
        let state = terminal.state();
        let since = job
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| {
                cs.iter()
                    .filter(|c| c.status == "True")
                    .filter_map(|c| c.last_transition_time.as_ref())
                    .map(|t| lastmile_events::k8s::ts(&t.0))
                    .max()
            });
        let window =
            chrono::Duration::from_std(self.cfg.announce_window).unwrap_or(chrono::Duration::MAX);
        if since.is_some_and(|t| now - t > window) {
            return;
        }
        let ns = job.metadata.namespace.as_deref();
        let name = job.metadata.name.as_deref().unwrap_or_default();
        let uid = job.metadata.uid.as_deref().unwrap_or_default();
        let id = stable_id(&["job-terminal", ns.unwrap_or_default(), name, uid, state]);
        let subject = format!("job/{}/{name}", ns.unwrap_or_default());
        let ce = CloudEvent::new(
            id.clone(),
            self.cfg.source.clone(),
            Some(subject),
            now,
            K8sObservation::Job(trim::job(job)),
        );
        match ce.to_vec() {
            Ok(body) => {
                let mut headers = BTreeMap::new();
                headers.insert(MSG_ID_HEADER.to_owned(), id);
                self.outbox.push(
                    None,
                    Message {
                        subject: subjects::k8s("Job", ns),
                        headers,
                        payload: body.into(),
                    },
                );
                self.stats.announced += 1;
            }
            Err(e) => tracing::error!(error = %e, "Could not serialise a Job observation."),
        }
    }

    /// The cluster-wide part of Pending snapshots, shared by every incident queued while the
    /// nodes and bound pods stay the same.
    fn cluster_wide(&mut self) -> Arc<ClusterWide> {
        let version = self.store.cluster_wide_version();
        match &self.wide {
            Some((v, snap)) if *v == version => snap.clone(),
            _ => {
                let snap = Arc::new(self.store.cluster_wide());
                self.wide = Some((version, snap.clone()));
                snap
            }
        }
    }

    /// Queues incidents. Their snapshots are rendered only when sent (see
    /// [`DeferredIncident`]): queued, an incident holds its small namespace-local snapshot
    /// part and a shared reference to the cluster-wide one.
    fn emit(&mut self, incidents: Vec<Incident>, now: DateTime<Utc>) {
        for mut inc in incidents {
            self.correlator.link(&mut inc);
            // The envelope's incident must not carry the snapshot: the view adds it.
            let own = std::mem::take(&mut inc.snapshot);
            let (local, wide) = if inc.status == IncidentStatus::Open {
                let wide = (inc.family == IncidentFamily::Pending).then(|| self.cluster_wide());
                (self.store.snapshot_local(&inc, now), wide)
            } else {
                (own, None)
            };
            tracing::info!(incident = %inc.key, family = %inc.family, status = ?inc.status, count = inc.count, "Incident published.");
            let key = inc.key.clone();
            let (head, envelope) = incident_envelope(inc, &self.cfg.source, now);
            let deferred = DeferredIncident {
                envelope,
                local,
                wide,
            };
            self.outbox
                .push_deferred(Some(key), head, Arc::new(move || deferred.render()));
            self.stats.incidents += 1;
        }
    }

    /// Re-evaluates time thresholds.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        let started = *self.started.get_or_insert(now);
        let patience = chrono::Duration::from_std(self.cfg.initial_list_timeout)
            .unwrap_or(chrono::Duration::MAX);
        let mut out = Vec::new();
        if self.tracker.is_held() && now - started >= patience {
            let missing: Vec<String> = self
                .awaiting
                .iter()
                .map(|(kind, scope)| {
                    format!("{kind} in {}", scope.as_deref().unwrap_or("all namespaces"))
                })
                .collect();
            tracing::warn!(
                ?missing,
                "Initial lists not read in time (RBAC?); publishing with what is known."
            );
            out.extend(self.tracker.release(now));
        }
        out.extend(self.tracker.tick(now));
        self.emit(out, now);
    }

    /// Sizes of what is held: `(suspect pods, jobs, event subjects, bound pods, nodes)`.
    pub fn held(&self) -> (usize, usize, usize, usize, usize) {
        let (s, j, e) = self.tracker.sizes();
        (s, j, e, self.store.bound_pods.len(), self.store.nodes.len())
    }
}

/// Keeps an object as it came.
fn keep<K: Resource>(set: &mut Relistable<K>, o: K) {
    set.apply(object_key(&o), o);
}

fn apply<K: Resource, T>(
    set: &mut Relistable<T>,
    scope: Option<&str>,
    ev: Event<K>,
    keep: fn(&mut Relistable<T>, K),
) -> Vec<Incident> {
    match ev {
        Event::Init => set.relist_start(scope),
        Event::InitDone => {
            set.relist_done(scope);
        }
        Event::Apply(o) | Event::InitApply(o) => keep(set, o),
        Event::Delete(o) => set.delete(&object_key(&o)),
    }
    Vec::new()
}

/// The bus message for an incident: a structured CloudEvent on `lastmile.incident.<family>`,
/// with a `Nats-Msg-Id` derived from what the incident says (so a restart that re-derives
/// the same incident is de-duplicated) and the CI run's `traceparent` when linked.
pub fn incident_message(
    inc: &Incident,
    source: &str,
    now: DateTime<Utc>,
) -> Result<Message, serde_json::Error> {
    let (mut head, envelope) = incident_envelope(inc.clone(), source, now);
    head.payload = envelope.to_vec()?.into();
    Ok(head)
}

/// The head of [`incident_message`] (subject and headers, empty payload) and the envelope
/// its payload serialises.
fn incident_envelope(
    inc: Incident,
    source: &str,
    now: DateTime<Utc>,
) -> (Message, CloudEvent<Incident>) {
    let mut facts: Vec<String> = inc
        .events
        .iter()
        .map(|e| format!("{}:{}", e.reason, e.clean_message()))
        .collect();
    facts.sort();
    let status = match inc.status {
        IncidentStatus::Open => "open",
        IncidentStatus::Resolved => "resolved",
    };
    let count = inc.count.to_string();
    let facts = facts.join("\n");
    let id = stable_id(&[
        &inc.key,
        status,
        &count,
        inc.resolution.as_deref().unwrap_or_default(),
        &facts,
    ]);
    let mut headers = BTreeMap::new();
    headers.insert(MSG_ID_HEADER.to_owned(), id.clone());
    let span = tracing::info_span!("incident.publish", incident = %inc.key);
    if let Some(tp) = inc.ci.as_ref().and_then(|c| c.traceparent.clone()) {
        let mut parent = BTreeMap::new();
        parent.insert(TRACEPARENT_HEADER.to_owned(), tp.clone());
        lastmile_runtime::telemetry::set_parent_from(&span, &parent);
        headers.insert(TRACEPARENT_HEADER.to_owned(), tp);
    }
    span.in_scope(|| lastmile_runtime::telemetry::inject_current(&mut headers));
    let head = Message {
        subject: subjects::incident(inc.family),
        headers,
        payload: bytes::Bytes::new(),
    };
    let subject = Some(inc.subject.to_string());
    let mut ce = CloudEvent::new(id, source, subject, now, inc);
    ce.traceparent = head.headers.get(TRACEPARENT_HEADER).cloned();
    (head, ce)
}

/// A queued incident whose body is serialised only when it is sent: the envelope (its
/// incident without snapshot), the namespace-local snapshot part, and the cluster-wide
/// part (already JSON) shared with the other incidents queued at the same time. Serialises
/// exactly as the incident with the whole snapshot would ([`incident_message`]).
struct DeferredIncident {
    envelope: CloudEvent<Incident>,
    local: ClusterSnapshot,
    wide: Option<Arc<ClusterWide>>,
}

impl DeferredIncident {
    fn render(&self) -> Result<bytes::Bytes, String> {
        let e = &self.envelope;
        let wide = self.wide.as_deref();
        let view = CloudEvent {
            specversion: e.specversion.clone(),
            id: e.id.clone(),
            source: e.source.clone(),
            ty: e.ty.clone(),
            subject: e.subject.clone(),
            time: e.time,
            datacontenttype: e.datacontenttype.clone(),
            traceparent: e.traceparent.clone(),
            tracestate: e.tracestate.clone(),
            data: IncidentView {
                incident: &e.data,
                snapshot: SnapshotView {
                    taken_at: self.local.taken_at.as_ref(),
                    nodes: wide.map_or(Part::Objects(&self.local.nodes), |w| Part::Json(&w.nodes)),
                    pods: wide.map_or(Part::Objects(&self.local.pods), |w| Part::Json(&w.pods)),
                    resource_quotas: &self.local.resource_quotas,
                    limit_ranges: &self.local.limit_ranges,
                    pvcs: &self.local.pvcs,
                    pvs: &self.local.pvs,
                    storage_classes: &self.local.storage_classes,
                },
            },
        };
        serde_json::to_vec(&view)
            .map(Into::into)
            .map_err(|e| format!("serialising an incident: {e}"))
    }
}

/// An incident (whose own snapshot is empty, so it is skipped) with a borrowed snapshot.
#[derive(Serialize)]
struct IncidentView<'a> {
    #[serde(flatten)]
    incident: &'a Incident,
    #[serde(skip_serializing_if = "SnapshotView::is_empty")]
    snapshot: SnapshotView<'a>,
}

/// A list of a snapshot: objects, or their JSON array already serialised.
#[derive(Serialize)]
#[serde(untagged)]
enum Part<'a, T> {
    Objects(&'a [T]),
    Json(&'a RawValue),
}

impl<T> Part<'_, T> {
    fn is_empty(&self) -> bool {
        match self {
            Part::Objects(objects) => objects.is_empty(),
            Part::Json(raw) => is_empty_array(raw),
        }
    }
}

/// [`ClusterSnapshot`] borrowed, serialised with the same names and omissions.
#[derive(Serialize)]
struct SnapshotView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    taken_at: Option<&'a DateTime<Utc>>,
    #[serde(skip_serializing_if = "Part::is_empty")]
    nodes: Part<'a, Node>,
    #[serde(skip_serializing_if = "Part::is_empty")]
    pods: Part<'a, Pod>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    resource_quotas: &'a [ResourceQuota],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    limit_ranges: &'a [LimitRange],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pvcs: &'a [PersistentVolumeClaim],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pvs: &'a [PersistentVolume],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    storage_classes: &'a [StorageClass],
}

impl SnapshotView<'_> {
    /// As [`ClusterSnapshot::is_empty`]: no objects (a time alone does not count).
    fn is_empty(&self) -> bool {
        self.nodes.is_empty()
            && self.pods.is_empty()
            && self.resource_quotas.is_empty()
            && self.limit_ranges.is_empty()
            && self.pvcs.is_empty()
            && self.pvs.is_empty()
            && self.storage_classes.is_empty()
    }
}

/// Watch errors.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// No kubeconfig and not in a cluster, or the config is invalid: permanent.
    #[error("cannot configure the Kubernetes client: {0}")]
    Config(String),
}

/// Builds a client: from `kubeconfig` (and `context`) when given, else in-cluster config or
/// the default kubeconfig (`KUBECONFIG`, `~/.kube/config`).
pub async fn client(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
) -> Result<Client, WatchError> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| WatchError::Config(format!("reading {}: {e}", path.display())))?;
            let opts = kube::config::KubeConfigOptions {
                context: context.map(str::to_owned),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig(kc, &opts)
                .await
                .map_err(|e| WatchError::Config(e.to_string()))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| WatchError::Config(e.to_string()))?,
    };
    Client::try_from(config).map_err(|e| WatchError::Config(e.to_string()))
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
    let mut merged = streams(&client, &cfg);
    let mut tick = tokio::time::interval(cfg.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut w = Watcher::new(cfg, outbox.clone());
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => w.tick(Utc::now()),
            ci = ci_events.next() => match ci {
                Some(ev) => w.correlator.learn(&ev),
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use lastmile_events::ObjectRef;

    fn store() -> ClusterStore {
        let mut s = ClusterStore::default();
        for i in 0..3 {
            let node: Node = serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("node-{i}"), "labels": {"kubernetes.io/os": "linux"}},
                "spec": {"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]},
                "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}}
            }))
            .unwrap();
            s.nodes.apply_json(object_key(&node), &trim::node(&node));
            let pod: Pod = serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("web-{i}"), "namespace": "team", "labels": {"app": "web"}},
                "spec": {"nodeName": format!("node-{i}"), "containers": [{"name": "app", "resources": {"requests": {"cpu": "7500m"}}}]},
                "status": {"phase": "Running"}
            }))
            .unwrap();
            s.apply_pod(&pod);
        }
        let quota: ResourceQuota = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "compute", "namespace": "ci"},
            "spec": {"hard": {"requests.cpu": "4"}}, "status": {"used": {"requests.cpu": "4"}}
        }))
        .unwrap();
        s.quotas.apply(object_key(&quota), quota);
        s
    }

    fn pending() -> Incident {
        let subject = ObjectRef {
            kind: "Pod".into(),
            namespace: Some("ci".into()),
            name: "migrate-x7k2p".into(),
            ..Default::default()
        };
        Incident::new(IncidentFamily::Pending, subject, None, Utc::now())
    }

    #[test]
    fn deferred_incident_renders_exactly_the_whole_incident() {
        let s = store();
        let now = Utc::now();
        let inc = pending();
        let mut whole = inc.clone();
        whole.snapshot = s.snapshot_for(&whole, now);
        assert_eq!(
            (whole.snapshot.nodes.len(), whole.snapshot.pods.len()),
            (3, 3)
        );
        assert_eq!(whole.snapshot.resource_quotas.len(), 1);
        let expected = incident_message(&whole, "/lastmile/watcher/test", now).unwrap();

        let (head, envelope) = incident_envelope(inc.clone(), "/lastmile/watcher/test", now);
        let deferred = DeferredIncident {
            envelope,
            local: s.snapshot_local(&inc, now),
            wide: Some(Arc::new(s.cluster_wide())),
        };
        let body = deferred.render().unwrap();
        assert_eq!(head.subject, expected.subject);
        assert_eq!(
            head.headers.get(MSG_ID_HEADER),
            expected.headers.get(MSG_ID_HEADER)
        );
        let got = CloudEvent::<Incident>::from_slice(&body).unwrap();
        let want = CloudEvent::<Incident>::from_slice(&expected.payload).unwrap();
        assert_eq!(got, want);
        assert!(String::from_utf8_lossy(&body).contains("dedicated"));
    }

    #[test]
    fn resolved_incident_renders_without_snapshot() {
        let now = Utc::now();
        let mut inc = pending();
        inc.status = IncidentStatus::Resolved;
        inc.resolution = Some("pod scheduled".into());
        let (_, envelope) = incident_envelope(inc.clone(), "/w", now);
        let deferred = DeferredIncident {
            envelope,
            local: ClusterSnapshot::default(),
            wide: None,
        };
        let body = deferred.render().unwrap();
        let got = CloudEvent::<Incident>::from_slice(&body).unwrap();
        assert_eq!(got.data, inc);
        assert!(!String::from_utf8_lossy(&body).contains("\"snapshot\""));
    }

    #[test]
    fn cluster_wide_part_is_shared_until_the_store_changes() {
        let mut s = store();
        let v = s.cluster_wide_version();
        let quota: ResourceQuota = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "more", "namespace": "ci"}
        }))
        .unwrap();
        s.quotas.apply(object_key(&quota), quota);
        assert_eq!(s.cluster_wide_version(), v, "quotas are not cluster-wide");
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-9", "namespace": "team"},
            "spec": {"nodeName": "node-0", "containers": []}, "status": {"phase": "Running"}
        }))
        .unwrap();
        s.apply_pod(&pod);
        assert_ne!(s.cluster_wide_version(), v);
    }
}
