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
use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily};
use serde_json::value::{RawValue, to_raw_value};

use crate::trim;

/// Most nodes put in one snapshot.
pub const MAX_SNAPSHOT_NODES: usize = 1000;
/// Most bound pods put in one snapshot.
pub const MAX_SNAPSHOT_PODS: usize = 5000;
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
            self.bound_pods.apply_json(key, &trim::bound_pod(pod));
        } else {
            self.bound_pods.delete(&key);
        }
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
        if matches!(
            incident.family,
            IncidentFamily::Pending | IncidentFamily::Job
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
                let claims: HashSet<String> = incident
                    .pod
                    .as_ref()
                    .and_then(|p| p.spec.as_ref())
                    .and_then(|s| s.volumes.as_ref())
                    .into_iter()
                    .flatten()
                    .filter_map(|v| {
                        v.persistent_volume_claim
                            .as_ref()
                            .map(|c| format!("{ns}/{}", c.claim_name))
                    })
                    .collect();
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
            IncidentFamily::Job | IncidentFamily::Init | IncidentFamily::Build => {}
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
