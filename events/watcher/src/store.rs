//! The cluster state the functions reason against, kept in reduced form.
//!
//! Nodes without their image lists, bound pods reduced to their requests, and the
//! namespace-scoped admission and storage objects. [`ClusterStore::snapshot_local`] picks what
//! an incident's family needs; [`ClusterStore::cluster_wide`] adds the nodes and bound pods
//! a Pending incident needs, capped so an incident stays well under the stream's message
//! size limit.
//!
//! Nodes and bound pods are the bulk (thousands of them) and are only ever read to be
//! published, so they are held as their JSON text ([`RawValue`], allocated to size), and the
//! cluster-wide part is assembled from that text without deserialising it: a deserialised
//! `Pod` is mostly empty `Option`s (2.4 KB, plus 2.3 KB per container) several times the size
//! of its trimmed JSON.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{
    LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::ResourceExt;
use lastmile_events::{ClusterSnapshot, ConfigObject, Incident, IncidentFamily};
use serde_json::value::{RawValue, to_raw_value};

use crate::{live, trim};

/// Most nodes put in one snapshot.
pub const MAX_SNAPSHOT_NODES: usize = 1000;
/// Most bound pods put in one snapshot.
pub const MAX_SNAPSHOT_PODS: usize = 5000;
/// Most pods waiting in init put in an Init snapshot.
pub const MAX_SNAPSHOT_INIT_PODS: usize = 200;
/// Most Services (and slices per Service) put in an Init snapshot.
pub const MAX_SNAPSHOT_SERVICES: usize = 300;
/// Most ConfigMap/Secret names put in a Runtime snapshot.
pub const MAX_SNAPSHOT_CONFIGS: usize = 500;
/// Most other pods mounting a Runtime incident's claims put in its snapshot.
pub const MAX_SNAPSHOT_CLAIM_HOLDERS: usize = 50;
/// Most pods of one Job put in a Job snapshot.
pub const MAX_SNAPSHOT_JOB_PODS: usize = 50;
/// Serialized bytes the bound pods of one snapshot may take: an incident must fit NATS'
/// default 1 MiB message limit together with its nodes, pod, Job and events. Beyond it the
/// remaining pods are left out (and logged): functions then see less node usage than
/// there is, which they must treat as "state incomplete".
pub const SNAPSHOT_PODS_BUDGET: usize = 512 * 1024;

/// A keyed set of objects that can be rebuilt by a relist: objects not seen again during
/// a relist were deleted while the watch was down. Relists are scoped by namespace (one
/// watch per allowed namespace), `None` meaning every namespace.
#[derive(Debug)]
pub struct Relistable<T> {
    live: BTreeMap<String, T>,
    relisting: BTreeMap<Option<String>, HashSet<String>>,
    /// Bumped on every change, so derived views can be cached.
    version: u64,
}

impl<T> Default for Relistable<T> {
    fn default() -> Self {
        Self {
            live: BTreeMap::new(),
            relisting: BTreeMap::new(),
            version: 0,
        }
    }
}

fn in_scope(key: &str, scope: Option<&str>) -> bool {
    match scope {
        None => true,
        Some(ns) => key
            .strip_prefix(ns)
            .is_some_and(|rest| rest.starts_with('/')),
    }
}

impl<T> Relistable<T> {
    /// Adds or replaces.
    pub fn apply(&mut self, key: String, value: T) {
        for (scope, seen) in &mut self.relisting {
            if in_scope(&key, scope.as_deref()) {
                seen.insert(key.clone());
            }
        }
        self.live.insert(key, value);
        self.version = self.version.wrapping_add(1);
    }
    /// Removes.
    pub fn delete(&mut self, key: &str) {
        if self.live.remove(key).is_some() {
            self.version = self.version.wrapping_add(1);
        }
    }
    /// Changes so far; equal versions mean equal contents.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// A relist of `scope` starts.
    pub fn relist_start(&mut self, scope: Option<&str>) {
        self.relisting
            .insert(scope.map(str::to_owned), HashSet::new());
    }
    /// The relist of `scope` ended: what it did not list is gone. Returns the removed keys.
    pub fn relist_done(&mut self, scope: Option<&str>) -> Vec<String> {
        let Some(seen) = self.relisting.remove(&scope.map(str::to_owned)) else {
            return Vec::new();
        };
        let gone: Vec<String> = self
            .live
            .keys()
            .filter(|k| in_scope(k, scope) && !seen.contains(*k))
            .cloned()
            .collect();
        for k in &gone {
            self.live.remove(k);
        }
        if !gone.is_empty() {
            self.version = self.version.wrapping_add(1);
        }
        gone
    }
    /// The objects.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.live.values()
    }
    /// One object.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.live.get(key)
    }
    /// The objects whose key starts with `prefix` (e.g. `namespace/`), in key order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a String, &'a T)> {
        self.live
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
    }
    /// True when some object lives in `namespace` (keys `namespace/…`).
    pub fn any_in(&self, namespace: &str) -> bool {
        self.with_prefix(&format!("{namespace}/")).next().is_some()
    }
    /// How many.
    pub fn len(&self) -> usize {
        self.live.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

/// `namespace/name`, or `name` for cluster-scoped objects.
pub fn object_key<K: kube::Resource>(obj: &K) -> String {
    match obj.meta().namespace.as_deref() {
        Some(ns) => format!("{ns}/{}", obj.name_any()),
        None => obj.name_any(),
    }
}

/// The reduced cluster state.
#[derive(Debug, Default)]
pub struct ClusterStore {
    /// Nodes, trimmed ([`trim::node`]) and held as JSON.
    pub nodes: Relistable<Box<RawValue>>,
    /// Pods bound to a node and not finished, reduced to requests ([`trim::bound_pod`]) and
    /// held as JSON.
    pub bound_pods: Relistable<Box<RawValue>>,
    /// ResourceQuotas.
    pub quotas: Relistable<ResourceQuota>,
    /// LimitRanges.
    pub limit_ranges: Relistable<LimitRange>,
    /// PersistentVolumeClaims.
    pub pvcs: Relistable<PersistentVolumeClaim>,
    /// PersistentVolumes.
    pub pvs: Relistable<PersistentVolume>,
    /// StorageClasses.
    pub storage_classes: Relistable<StorageClass>,
    /// Pods whose init containers have not finished, reduced ([`live::init_pod`]), as JSON.
    pub init_pods: Relistable<Box<RawValue>>,
    /// Pods of Jobs, reduced to how they ended ([`live::job_pod`]), as JSON.
    pub job_pods: Relistable<Box<RawValue>>,
    /// Services, reduced ([`live::service`]), as JSON, keyed `namespace/name`.
    pub services: Relistable<Box<RawValue>>,
    /// EndpointSlices, reduced ([`live::endpoint_slice`]), as JSON, keyed
    /// `namespace/service/slice` so a Service's slices are one key range.
    pub endpoint_slices: Relistable<Box<RawValue>>,
    /// ConfigMaps by name and key names only ([`ConfigObject`]).
    pub config_maps: Relistable<ConfigObject>,
    /// Secrets by name and key names only ([`ConfigObject`], never values).
    pub secrets: Relistable<ConfigObject>,
}

/// The part of a Pending snapshot that is the same for every incident, serialised: the JSON
/// arrays of the nodes and of the bound pods (capped by count and serialised size).
#[derive(Debug)]
pub struct ClusterWide {
    /// JSON array of trimmed nodes.
    pub nodes: Box<RawValue>,
    /// JSON array of reduced bound pods.
    pub pods: Box<RawValue>,
}

/// True when `raw` is an empty JSON array (as [`ClusterWide`]'s parts are written).
pub fn is_empty_array(raw: &RawValue) -> bool {
    raw.get() == "[]"
}

/// A JSON array of `items`, verbatim.
fn raw_array<'a>(items: impl Iterator<Item = &'a RawValue>) -> Box<RawValue> {
    let items: Vec<&RawValue> = items.collect();
    match to_raw_value(&items) {
        Ok(raw) => raw,
        Err(e) => {
            // Unreachable in practice: every item is already valid JSON.
            tracing::warn!(error = %e, "Could not assemble a snapshot array; left empty.");
            empty_array()
        }
    }
}

fn empty_array() -> Box<RawValue> {
    RawValue::from_string("[]".to_owned()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Parses one object held as text; logs and skips what does not parse.
pub(crate) fn parse_one<T: serde::de::DeserializeOwned>(raw: &RawValue) -> Option<T> {
    serde_json::from_str(raw.get())
        .inspect_err(|e| tracing::warn!(error = %e, "A kept object does not parse; left out."))
        .ok()
}

/// Parses the objects of a JSON array held as text (for tests and [`ClusterStore::snapshot_for`]).
fn parse_array<T: serde::de::DeserializeOwned>(raw: &RawValue) -> Vec<T> {
    serde_json::from_str(raw.get()).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "A kept snapshot part does not parse; left out.");
        Vec::new()
    })
}

impl Relistable<Box<RawValue>> {
    /// Adds or replaces `value`, held as its JSON; drops the key when it cannot be
    /// serialised.
    pub fn apply_json<T: serde::Serialize>(&mut self, key: String, value: &T) {
        match to_raw_value(value) {
            Ok(raw) => self.apply(key, raw),
            Err(e) => {
                tracing::warn!(object = %key, error = %e, "Could not keep an object.");
                self.delete(&key);
            }
        }
    }
}

impl ClusterStore {
    /// Records a pod: kept (reduced) while bound and running, dropped otherwise.
    pub fn apply_pod(&mut self, pod: &Pod) {
        let key = object_key(pod);
        let bound = pod.spec.as_ref().is_some_and(|s| s.node_name.is_some());
        let done = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|p| p == "Succeeded" || p == "Failed");
        if bound && !done {
            self.bound_pods
                .apply_json(key.clone(), &trim::bound_pod(pod));
        } else {
            self.bound_pods.delete(&key);
        }
        if live::is_init_pod(pod) {
            self.init_pods.apply_json(key.clone(), &live::init_pod(pod));
        } else {
            self.init_pods.delete(&key);
        }
        if live::is_job_pod(pod) {
            self.job_pods.apply_json(key, &live::job_pod(pod));
        } else {
            self.job_pods.delete(&key);
        }
    }

    /// Forgets a deleted pod.
    pub fn delete_pod(&mut self, key: &str) {
        self.bound_pods.delete(key);
        self.init_pods.delete(key);
        self.job_pods.delete(key);
    }

    /// A relist of pods in `scope` starts.
    pub fn pods_relist_start(&mut self, scope: Option<&str>) {
        self.bound_pods.relist_start(scope);
        self.init_pods.relist_start(scope);
        self.job_pods.relist_start(scope);
    }

    /// The relist of pods in `scope` ended: what it did not list is gone.
    pub fn pods_relist_done(&mut self, scope: Option<&str>) {
        self.bound_pods.relist_done(scope);
        self.init_pods.relist_done(scope);
        self.job_pods.relist_done(scope);
    }

    /// Records a Service (reduced).
    pub fn apply_service(&mut self, svc: &k8s_openapi::api::core::v1::Service) {
        self.services
            .apply_json(object_key(svc), &live::service(svc));
    }

    /// The key of an EndpointSlice (`namespace/service/slice`); `None` without a Service.
    pub fn slice_key(slice: &k8s_openapi::api::discovery::v1::EndpointSlice) -> Option<String> {
        Some(format!(
            "{}/{}",
            live::slice_service(slice)?,
            slice.metadata.name.as_deref().unwrap_or_default()
        ))
    }

    /// Records an EndpointSlice (reduced); slices of no Service are not kept.
    pub fn apply_slice(&mut self, slice: &k8s_openapi::api::discovery::v1::EndpointSlice) {
        if let Some(key) = Self::slice_key(slice) {
            self.endpoint_slices
                .apply_json(key, &live::endpoint_slice(slice));
        }
    }

    /// What an Init incident's diagnosis needs: the pods waiting in init in the namespaces
    /// involved (the incident's and those its init commands name), their Services and
    /// those Services' EndpointSlices.
    fn init_state(&self, incident: &Incident, snap: &mut ClusterSnapshot) {
        let own = incident.subject.namespace.clone().unwrap_or_default();
        let namespaces = match incident.pod.as_ref() {
            Some(pod) => live::namespaces_named(pod, |ns| self.services.any_in(ns)),
            None => vec![own],
        };
        for ns in &namespaces {
            let prefix = format!("{ns}/");
            let room = MAX_SNAPSHOT_INIT_PODS.saturating_sub(snap.pods.len());
            snap.pods.extend(
                self.init_pods
                    .with_prefix(&prefix)
                    .take(room)
                    .filter_map(|(_, raw)| parse_one(raw)),
            );
            let room = MAX_SNAPSHOT_SERVICES.saturating_sub(snap.services.len());
            for (key, raw) in self.services.with_prefix(&prefix).take(room) {
                let Some(svc) = parse_one(raw) else { continue };
                snap.services.push(svc);
                let slices = format!("{key}/");
                snap.endpoint_slices.extend(
                    self.endpoint_slices
                        .with_prefix(&slices)
                        .take(MAX_SNAPSHOT_SERVICES)
                        .filter_map(|(_, raw)| parse_one(raw)),
                );
            }
        }
    }

    /// What a Job incident's diagnosis needs besides the Job: its pods, and how they ended.
    fn job_state(&self, incident: &Incident, snap: &mut ClusterSnapshot) {
        let Some(job) = incident.owner.as_ref().filter(|o| o.kind == "Job") else {
            return;
        };
        let prefix = format!(
            "{}/{}-",
            job.namespace.as_deref().unwrap_or_default(),
            job.name
        );
        snap.pods = self
            .job_pods
            .with_prefix(&prefix)
            .filter_map(|(_, raw)| parse_one::<Pod>(raw))
            .filter(|p| {
                lastmile_events::facts::workload_of(p)
                    .is_some_and(|o| o.kind == "Job" && o.name == job.name)
            })
            .take(MAX_SNAPSHOT_JOB_PODS)
            .collect();
    }

    /// The claims the incident's pod mounts (in `ns`) and their volumes.
    fn claimed_storage(&self, incident: &Incident, ns: &str, snap: &mut ClusterSnapshot) {
        let claims: HashSet<String> = incident
            .pod
            .as_ref()
            .map(|p| {
                crate::runtime::claims_of(p)
                    .map(|c| format!("{ns}/{c}"))
                    .collect()
            })
            .unwrap_or_default();
        snap.pvcs = claims
            .iter()
            .filter_map(|k| self.pvcs.get(k))
            .cloned()
            .collect();
        let volumes: HashSet<&str> = snap
            .pvcs
            .iter()
            .filter_map(|c| c.spec.as_ref()?.volume_name.as_deref())
            .collect();
        snap.pvs = volumes
            .iter()
            .filter_map(|v| self.pvs.get(v))
            .cloned()
            .collect();
    }

    /// Changes to what [`ClusterStore::cluster_wide`] returns; equal versions mean equal
    /// contents.
    pub fn cluster_wide_version(&self) -> u64 {
        self.nodes.version().wrapping_add(
            self.bound_pods
                .version()
                .wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )
    }

    /// The part of a Pending snapshot that is the same for every incident: nodes and bound
    /// pods (capped by count and serialized size). Callers share it between incidents (see
    /// [`ClusterStore::cluster_wide_version`]).
    pub fn cluster_wide(&self) -> ClusterWide {
        let nodes = raw_array(
            self.nodes
                .values()
                .take(MAX_SNAPSHOT_NODES)
                .map(AsRef::as_ref),
        );
        let mut used = 0usize;
        let mut kept = 0usize;
        for json in self.bound_pods.values().take(MAX_SNAPSHOT_PODS) {
            used += json.get().len();
            if used > SNAPSHOT_PODS_BUDGET {
                tracing::warn!(
                    kept,
                    bound = self.bound_pods.len(),
                    "Snapshot pods over the size budget; the rest are left out."
                );
                break;
            }
            kept += 1;
        }
        let pods = raw_array(self.bound_pods.values().take(kept).map(AsRef::as_ref));
        ClusterWide { nodes, pods }
    }

    /// The snapshot an incident of this family needs, whole and deserialised (the watch
    /// loop publishes the same without deserialising, see [`ClusterStore::cluster_wide`]).
    pub fn snapshot_for(&self, incident: &Incident, now: DateTime<Utc>) -> ClusterSnapshot {
        let mut snap = self.snapshot_local(incident, now);
        if incident.family == IncidentFamily::Pending {
            let wide = self.cluster_wide();
            snap.nodes = parse_array(&wide.nodes);
            snap.pods = parse_array(&wide.pods);
        }
        snap
    }

    /// The snapshot an incident needs, without the [`ClusterStore::cluster_wide`] part of a
    /// Pending incident (its namespace's quotas, limit ranges and claimed storage only).
    pub fn snapshot_local(&self, incident: &Incident, now: DateTime<Utc>) -> ClusterSnapshot {
        let ns = incident.subject.namespace.as_deref().unwrap_or("");
        let in_ns = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
            m.namespace.as_deref() == Some(ns)
        };
        let mut snap = ClusterSnapshot {
            taken_at: Some(now),
            ..Default::default()
        };
        // Admission (quota, LimitRange) decides both whether a pod is created and whether a
        // Job can make progress, so both families get the namespace's policies.
        // A Runtime incident needs the LimitRanges too: a default limit may be what OOM-kills.
        if matches!(
            incident.family,
            IncidentFamily::Pending | IncidentFamily::Job | IncidentFamily::Runtime
        ) {
            snap.resource_quotas = self
                .quotas
                .values()
                .filter(|q| in_ns(&q.metadata))
                .cloned()
                .collect();
            snap.limit_ranges = self
                .limit_ranges
                .values()
                .filter(|l| in_ns(&l.metadata))
                .cloned()
                .collect();
        }
        match incident.family {
            IncidentFamily::Pending => {
                self.claimed_storage(incident, ns, &mut snap);
                if !snap.pvcs.is_empty() {
                    snap.storage_classes = self.storage_classes.values().cloned().collect();
                }
            }
            IncidentFamily::ImagePull => {
                let node = incident
                    .pod
                    .as_ref()
                    .and_then(|p| p.spec.as_ref()?.node_name.as_deref());
                if let Some(raw) = node.and_then(|n| self.nodes.get(n)) {
                    match serde_json::from_str::<Node>(raw.get()) {
                        Ok(n) => snap.nodes.push(n),
                        Err(e) => {
                            tracing::warn!(error = %e, "A kept node does not parse; left out.")
                        }
                    }
                }
            }
            IncidentFamily::Init => self.init_state(incident, &mut snap),
            IncidentFamily::Job => self.job_state(incident, &mut snap),
            IncidentFamily::Build => {}
            IncidentFamily::Runtime => {
                self.claimed_storage(incident, ns, &mut snap);
                crate::runtime::state(self, incident, ns, &mut snap);
            }
        }
        snap
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn relist_forgets_what_it_did_not_see() {
        let mut r = Relistable::default();
        r.apply("a".into(), 1);
        r.apply("b".into(), 2);
        r.apply("other/c".into(), 4);
        r.relist_start(None);
        r.apply("b".into(), 3);
        assert_eq!(
            r.relist_done(None),
            vec!["a".to_string(), "other/c".to_string()]
        );
        assert_eq!((r.get("a"), r.get("b")), (None, Some(&3)));
    }

    #[test]
    fn namespace_scoped_relist_leaves_other_namespaces_alone() {
        let mut r = Relistable::default();
        r.apply("ci/a".into(), 1);
        r.apply("cid/b".into(), 2);
        r.relist_start(Some("ci"));
        assert_eq!(r.relist_done(Some("ci")), vec!["ci/a".to_string()]);
        assert_eq!(r.get("cid/b"), Some(&2));
    }

    #[test]
    fn pending_snapshot_stays_under_the_message_budget_with_many_bound_pods() {
        let mut s = ClusterStore::default();
        for i in 0..9000 {
            let pod: Pod = serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("pod-{i}"), "namespace": "team", "labels": {"app": format!("app-{}", i % 400), "pod-template-hash": "5d8f7c9b6"}},
                "spec": {"nodeName": format!("node-{}", i % 200), "containers": [{"name": "app", "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}}]},
                "status": {"phase": "Running"}
            }))
            .unwrap();
            s.apply_pod(&pod);
        }
        let subject = lastmile_events::ObjectRef {
            kind: "Pod".into(),
            namespace: Some("ci".into()),
            name: "p".into(),
            ..Default::default()
        };
        let inc = Incident::new(IncidentFamily::Pending, subject, None, Utc::now());
        let snap = s.snapshot_for(&inc, Utc::now());
        let size = serde_json::to_vec(&snap).unwrap().len();
        assert!(size <= SNAPSHOT_PODS_BUDGET + 8 * 1024, "{size}");
        assert!(snap.pods.len() > 1000, "{}", snap.pods.len());
    }

    #[test]
    fn finished_pods_leave_the_bound_set() {
        let mut s = ClusterStore::default();
        let mut pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {"nodeName": "node-a", "containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]},
            "status": {"phase": "Running"}
        }))
        .unwrap();
        s.apply_pod(&pod);
        assert_eq!(s.bound_pods.len(), 1);
        pod.status.as_mut().unwrap().phase = Some("Succeeded".into());
        s.apply_pod(&pod);
        assert!(s.bound_pods.is_empty());
    }
}
