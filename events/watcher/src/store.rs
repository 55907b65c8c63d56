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

use k8s_openapi::api::core::v1::{
    LimitRange, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
};
use k8s_openapi::api::storage::v1::StorageClass;
use lastmile_events::ConfigObject;
use serde_json::value::RawValue;

use crate::{live, trim};

mod relist;
mod snapshot;

pub use relist::{Relistable, object_key};
pub(crate) use snapshot::parse_one;
pub use snapshot::{ClusterWide, is_empty_array};

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

/// The reduced cluster state.
#[derive(Debug, Default)]
pub struct ClusterStore {
    /// Nodes, trimmed ([`trim::node`]) and held as JSON.
    pub nodes: Relistable<Box<RawValue>>,
    /// Pods bound to a node and not finished, reduced to requests ([`trim::bound_pod`]) and
    /// held as JSON.
    pub bound_pods: Relistable<Box<RawValue>>,
    /// ResourceQuotas, whole: Pending, Job and Runtime incidents carry their namespace's.
    pub quotas: Relistable<ResourceQuota>,
    /// LimitRanges, whole: their defaults may be what a pod is denied or OOM-killed by.
    pub limit_ranges: Relistable<LimitRange>,
    /// PersistentVolumeClaims, for the claims an incident's pod mounts.
    pub pvcs: Relistable<PersistentVolumeClaim>,
    /// PersistentVolumes, for the volumes those claims are bound to.
    pub pvs: Relistable<PersistentVolume>,
    /// StorageClasses, added to a Pending snapshot whose pod mounts a claim.
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
