//! The loop's state: what each observation does to the tracker, the store and the outbox.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Resource;
use kube::runtime::watcher::Event;
use lastmile_events::envelope::stable_id;
use lastmile_events::facts::{job_terminal, workload_key};
use lastmile_events::{
    CiEvent, CiEventKind, CloudEvent, ConfigObject, Incident, IncidentFamily, IncidentStatus,
    K8sObservation, KubeEvent, ObjectRef, subjects,
};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message};

use super::WatchConfig;
use super::render::{DeferredIncident, incident_envelope};
use super::rollouts::RolloutAnnouncer;
use super::streams::{Obs, stream_keys};
use crate::correlate::Correlator;
use crate::incidents::Tracker;
use crate::init_trace::InitTracer;
use crate::outbox::Outbox;
use crate::store::{ClusterStore, ClusterWide, Relistable, object_key};
use crate::trim;

/// Counters the loop keeps, for logs and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LoopStats {
    /// Watch events processed.
    pub observed: u64,
    /// Incidents (opened, updated, resolved) handed to the outbox.
    pub incidents: u64,
    /// Job completions/failures and rollout state changes announced.
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
    pub(super) correlator: Correlator,
    outbox: Outbox,
    pub(super) stats: LoopStats,
    /// The last cluster-wide snapshot part and the store version it was taken at.
    wide: Option<(u64, Arc<ClusterWide>)>,
    /// Watch streams whose initial list has not ended yet.
    awaiting: BTreeSet<(&'static str, Option<String>)>,
    /// When the first observation or tick came, for [`WatchConfig::initial_list_timeout`].
    started: Option<DateTime<Utc>>,
    /// Init-phase spans already recorded, per incident and trace.
    init_tracer: InitTracer,
    /// The rollout state last published per Deployment, StatefulSet and DaemonSet.
    rollouts: RolloutAnnouncer,
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
            init_tracer: InitTracer::default(),
            rollouts: RolloutAnnouncer::new(cfg.announce_window),
            store: ClusterStore::default(),
            pods_seen: Relistable::default(),
            correlator: Correlator::new(crate::ci::RECENT_MAX),
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

    fn forget_rollout(
        &mut self,
        kind: &'static str,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        now: DateTime<Utc>,
    ) -> Vec<Incident> {
        let (ns, name) = ns_name(meta);
        self.rollouts.forget(kind, ns, name);
        self.tracker.forget_rollout(kind, ns, name, now)
    }

    /// A Deployment added or changed (`first_list`: in an initial list or relist): its
    /// rollout observation when the state changed, and the stuck-rollout tracking.
    fn on_deployment(
        &mut self,
        d: &Deployment,
        first_list: bool,
        now: DateTime<Utc>,
    ) -> Vec<Incident> {
        if self.denied(d.metadata.namespace.as_deref()) {
            return Vec::new();
        }
        let m = self
            .rollouts
            .deployment(d, first_list, &self.cfg.source, now);
        self.announce(m);
        self.tracker.observe_deployment(d, now)
    }

    /// [`Self::on_deployment`] for a StatefulSet.
    fn on_statefulset(
        &mut self,
        s: &StatefulSet,
        first_list: bool,
        now: DateTime<Utc>,
    ) -> Vec<Incident> {
        if self.denied(s.metadata.namespace.as_deref()) {
            return Vec::new();
        }
        let m = self
            .rollouts
            .statefulset(s, first_list, &self.cfg.source, now);
        self.announce(m);
        self.tracker.observe_statefulset(s, now)
    }

    /// [`Self::on_deployment`] for a DaemonSet.
    fn on_daemonset(
        &mut self,
        d: &DaemonSet,
        first_list: bool,
        now: DateTime<Utc>,
    ) -> Vec<Incident> {
        if self.denied(d.metadata.namespace.as_deref()) {
            return Vec::new();
        }
        let m = self
            .rollouts
            .daemonset(d, first_list, &self.cfg.source, now);
        self.announce(m);
        self.tracker.observe_daemonset(d, now)
    }

    /// Queues a rollout observation (see `rollouts`), replacing a queued one of the same
    /// workload.
    fn announce(&mut self, announcement: Option<super::rollouts::Announcement>) {
        if let Some((key, m)) = announcement {
            self.outbox.push(Some(key), m);
            self.stats.announced += 1;
        }
    }

    /// Processes one observation.
    pub(super) fn observe(&mut self, scope: Option<String>, obs: Obs, now: DateTime<Utc>) {
        self.stats.observed += 1;
        self.started.get_or_insert(now);
        let listed = obs.is_init_done().then(|| (obs.kind(), scope.clone()));
        let scope = scope.as_deref();
        let mut out = match obs {
            Obs::Pod(ev) => self.on_pod(scope, ev, now),
            Obs::Job(ev) => self.on_job(ev, now),
            Obs::Deployment(Event::Apply(d)) => self.on_deployment(&d, false, now),
            Obs::Deployment(Event::InitApply(d)) => self.on_deployment(&d, true, now),
            Obs::Deployment(Event::Delete(d)) => {
                let (ns, name) = ns_name(&d.metadata);
                self.rollouts.forget("Deployment", ns, name);
                self.tracker.forget_deployment(ns, name, now)
            }
            Obs::Deployment(Event::Init | Event::InitDone) => Vec::new(),
            Obs::StatefulSet(Event::Apply(w)) => self.on_statefulset(&w, false, now),
            Obs::StatefulSet(Event::InitApply(w)) => self.on_statefulset(&w, true, now),
            Obs::DaemonSet(Event::Apply(w)) => self.on_daemonset(&w, false, now),
            Obs::DaemonSet(Event::InitApply(w)) => self.on_daemonset(&w, true, now),
            Obs::StatefulSet(Event::Delete(w)) => {
                self.forget_rollout("StatefulSet", &w.metadata, now)
            }
            Obs::DaemonSet(Event::Delete(w)) => self.forget_rollout("DaemonSet", &w.metadata, now),
            Obs::StatefulSet(Event::Init | Event::InitDone)
            | Obs::DaemonSet(Event::Init | Event::InitDone) => Vec::new(),
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
            Obs::ConfigMap(ev) => apply(&mut self.store.config_maps, scope, ev, |set, cm| {
                set.apply(object_key(&cm), ConfigObject::from_config_map(&cm));
            }),
            Obs::Secret(ev) => apply(&mut self.store.secrets, scope, ev, |set, secret| {
                set.apply(object_key(&secret), ConfigObject::from_secret(&secret));
            }),
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

    /// Learns a CI event. Incidents already published about a workload a deploy event
    /// names are published again, now linked to the run (and so in its trace): their first
    /// publish came before the event.
    pub(super) fn learn_ci(&mut self, ev: &CiEvent, now: DateTime<Utc>) {
        self.correlator.learn(ev);
        if ev.kind != CiEventKind::DeployRequested || ev.workloads.is_empty() {
            return;
        }
        let deployed: BTreeSet<String> = ev
            .workloads
            .iter()
            .map(|w| workload_key(&w.kind, &w.namespace, &w.name))
            .collect();
        let named = |o: &ObjectRef| {
            deployed.contains(&workload_key(
                &o.kind,
                o.namespace.as_deref().unwrap_or_default(),
                &o.name,
            ))
        };
        let out = self.tracker.touch(
            |inc| {
                inc.ci.is_none() && (inc.owner.as_ref().is_some_and(named) || named(&inc.subject))
            },
            now,
        );
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
                (Arc::unwrap_or_clone(own), None)
            };
            tracing::info!(incident = %inc.key, family = %inc.family, status = ?inc.status, count = inc.count, "Incident published.");
            let key = inc.key.clone();
            let (head, envelope) = incident_envelope(inc, &self.cfg.source, now);
            self.init_tracer
                .on_publish(&envelope.data, &head.headers, now);
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

fn ns_name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (&str, &str) {
    (
        meta.namespace.as_deref().unwrap_or_default(),
        meta.name.as_deref().unwrap_or_default(),
    )
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
