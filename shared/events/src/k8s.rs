//! Kubernetes observations: the objects diagnosis reasons about, as the API returns them.
//!
//! Objects are carried as `k8s-openapi` types, so a `kubectl get -o json` document parses
//! without translation and no field a diagnosis might need is dropped on the way. Events
//! are the exception: core/v1 and events.k8s.io/v1 Events describe the same thing with
//! different field names, so both are normalised into [`KubeEvent`].

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
    Secret, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::envelope::EventType;
use crate::incident::ObjectRef;

/// A Kubernetes Event, normalised from core/v1 `Event` or events.k8s.io/v1 `Event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct KubeEvent {
    /// `Normal` or `Warning`.
    #[serde(default, rename = "type")]
    pub ty: String,
    /// Machine-readable reason, e.g. `FailedScheduling`, `FailedCreate`, `Failed`.
    #[serde(default)]
    pub reason: String,
    /// Human-readable message, exactly as recorded (may carry
    /// `(combined from similar events): ` or be truncated).
    #[serde(default)]
    pub message: String,
    /// The object the event is about (`involvedObject` / `regarding`).
    pub regarding: ObjectRef,
    /// How many times it occurred (`count` / `series.count`), at least 1.
    #[serde(default = "one")]
    pub count: u32,
    /// First occurrence, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_time: Option<DateTime<Utc>>,
    /// Last occurrence, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<DateTime<Utc>>,
    /// The component that reported it, e.g. `default-scheduler`, `kubelet`, `job-controller`.
    #[serde(default)]
    pub reporting_controller: String,
}

fn one() -> u32 {
    1
}

/// Converts a Kubernetes timestamp (`k8s-openapi` uses `jiff`) to the `chrono` time used in
/// lastmile's own types. Out-of-range values clamp to the Unix epoch.
pub fn ts(t: &k8s_openapi::jiff::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(
        t.as_second(),
        u32::try_from(t.subsec_nanosecond()).unwrap_or(0),
    )
    .unwrap_or_default()
}

/// [`ts`] for the `metav1.Time` wrapper.
pub fn time(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> DateTime<Utc> {
    ts(&t.0)
}

impl KubeEvent {
    /// Normalises a core/v1 Event.
    pub fn from_core(ev: &k8s_openapi::api::core::v1::Event) -> Self {
        let io = &ev.involved_object;
        let count = ev
            .series
            .as_ref()
            .and_then(|s| s.count)
            .or(ev.count)
            .unwrap_or(1)
            .max(1);
        Self {
            ty: ev.type_.clone().unwrap_or_default(),
            reason: ev.reason.clone().unwrap_or_default(),
            message: ev.message.clone().unwrap_or_default(),
            regarding: ObjectRef {
                kind: io.kind.clone().unwrap_or_default(),
                namespace: io.namespace.clone(),
                name: io.name.clone().unwrap_or_default(),
                uid: io.uid.clone(),
                field_path: io.field_path.clone(),
            },
            count: u32::try_from(count).unwrap_or(u32::MAX),
            first_time: ev
                .first_timestamp
                .as_ref()
                .map(|t| ts(&t.0))
                .or_else(|| ev.event_time.as_ref().map(|t| ts(&t.0))),
            last_time: ev
                .series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref().map(|t| ts(&t.0)))
                .or_else(|| ev.last_timestamp.as_ref().map(|t| ts(&t.0)))
                .or_else(|| ev.event_time.as_ref().map(|t| ts(&t.0))),
            reporting_controller: ev
                .reporting_component
                .clone()
                .filter(|c| !c.is_empty())
                .or_else(|| ev.source.as_ref().and_then(|s| s.component.clone()))
                .unwrap_or_default(),
        }
    }

    /// Normalises an events.k8s.io/v1 Event.
    pub fn from_events_v1(ev: &k8s_openapi::api::events::v1::Event) -> Self {
        let regarding = ev.regarding.as_ref();
        let count = ev
            .series
            .as_ref()
            .map(|s| s.count)
            .or(ev.deprecated_count)
            .unwrap_or(1)
            .max(1);
        Self {
            ty: ev.type_.clone().unwrap_or_default(),
            reason: ev.reason.clone().unwrap_or_default(),
            message: ev.note.clone().unwrap_or_default(),
            regarding: ObjectRef {
                kind: regarding.and_then(|r| r.kind.clone()).unwrap_or_default(),
                namespace: regarding.and_then(|r| r.namespace.clone()),
                name: regarding.and_then(|r| r.name.clone()).unwrap_or_default(),
                uid: regarding.and_then(|r| r.uid.clone()),
                field_path: regarding.and_then(|r| r.field_path.clone()),
            },
            count: u32::try_from(count).unwrap_or(u32::MAX),
            first_time: ev
                .deprecated_first_timestamp
                .as_ref()
                .map(|t| ts(&t.0))
                .or_else(|| ev.event_time.as_ref().map(|t| ts(&t.0))),
            last_time: ev
                .series
                .as_ref()
                .map(|s| ts(&s.last_observed_time.0))
                .or_else(|| ev.deprecated_last_timestamp.as_ref().map(|t| ts(&t.0)))
                .or_else(|| ev.event_time.as_ref().map(|t| ts(&t.0))),
            reporting_controller: ev
                .reporting_controller
                .clone()
                .filter(|c| !c.is_empty())
                .or_else(|| {
                    ev.deprecated_source
                        .as_ref()
                        .and_then(|s| s.component.clone())
                })
                .unwrap_or_default(),
        }
    }

    /// The message with the event recorder's aggregation prefix removed.
    pub fn clean_message(&self) -> &str {
        strip_aggregation_prefix(&self.message)
    }
}

/// Removes client-go's `(combined from similar events): ` prefix, if present.
pub fn strip_aggregation_prefix(message: &str) -> &str {
    const PREFIX: &str = "(combined from similar events):";
    let trimmed = message.trim_start();
    match trimmed.get(..PREFIX.len()) {
        Some(head) if head.eq_ignore_ascii_case(PREFIX) => trimmed[PREFIX.len()..].trim_start(),
        _ => trimmed,
    }
}

/// The cluster state a diagnosis reasons against. Every list may be empty: a function must
/// then say that it worked from messages alone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterSnapshot {
    /// When the snapshot was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<DateTime<Utc>>,
    /// Nodes: allocatable capacity, labels, taints, conditions, cordons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
    /// Pods (bound ones count against node capacity).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<Pod>,
    /// ResourceQuotas: hard limits against what is used, and the resources they make pods specify.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_quotas: Vec<ResourceQuota>,
    /// LimitRanges: the defaults they fill into containers that set none, and their min/max.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limit_ranges: Vec<LimitRange>,
    /// PersistentVolumeClaims (a pod's claims are looked up here): phase, storage class, the volume they bound.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pvcs: Vec<PersistentVolumeClaim>,
    /// PersistentVolumes: the node affinity (zone) a bound claim pins the pod to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pvs: Vec<PersistentVolume>,
    /// StorageClasses: provisioner and binding mode of a claim still waiting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub storage_classes: Vec<StorageClass>,
    /// Services (what init containers' DNS names resolve to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// EndpointSlices of those Services (which endpoints are ready).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_slices: Vec<EndpointSlice>,
    /// ConfigMaps and Secrets by name and key names only (never values): what a missing
    /// `configMapKeyRef`/`secretKeyRef` or volume is checked against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ConfigObject>,
}

/// A ConfigMap or Secret as a diagnosis may see it: where it is, which keys it has and when
/// it was created. The values are dropped when it is read, so a snapshot can never leak one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub struct ConfigObject {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Its namespace.
    #[serde(default)]
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The names of its keys (`data` and `binaryData`/`stringData`), sorted.
    #[serde(default)]
    pub keys: Vec<String>,
    /// `metadata.creationTimestamp`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
}

impl ConfigObject {
    /// The names-only view of a ConfigMap.
    pub fn from_config_map(cm: &ConfigMap) -> Self {
        let keys = cm
            .data
            .iter()
            .flat_map(|d| d.keys())
            .chain(cm.binary_data.iter().flat_map(|d| d.keys()))
            .cloned()
            .collect();
        Self::named("ConfigMap", &cm.metadata, keys)
    }

    /// The names-only view of a Secret: its values are never copied.
    pub fn from_secret(secret: &Secret) -> Self {
        let keys = secret
            .data
            .iter()
            .flat_map(|d| d.keys())
            .chain(secret.string_data.iter().flat_map(|d| d.keys()))
            .cloned()
            .collect();
        Self::named("Secret", &secret.metadata, keys)
    }

    fn named(
        kind: &str,
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        mut keys: Vec<String>,
    ) -> Self {
        keys.sort();
        keys.dedup();
        Self {
            kind: kind.to_owned(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            keys,
            created: meta.creation_timestamp.as_ref().map(time),
        }
    }
}

impl ClusterSnapshot {
    /// True when the snapshot holds no objects at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
            && self.pods.is_empty()
            && self.resource_quotas.is_empty()
            && self.limit_ranges.is_empty()
            && self.pvcs.is_empty()
            && self.pvs.is_empty()
            && self.storage_classes.is_empty()
            && self.services.is_empty()
            && self.endpoint_slices.is_empty()
            && self.configs.is_empty()
    }
}

/// One Kubernetes object seen by the watcher, published on `lastmile.k8s.<kind>.<namespace>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "object")]
#[allow(clippy::large_enum_variant)]
pub enum K8sObservation {
    /// A Pod.
    Pod(Pod),
    /// A Job.
    Job(Job),
    /// A normalised Event (from either Event API).
    Event(KubeEvent),
    /// A Node.
    Node(Node),
    /// A ResourceQuota.
    ResourceQuota(ResourceQuota),
    /// A LimitRange.
    LimitRange(LimitRange),
    /// A PersistentVolumeClaim.
    PersistentVolumeClaim(PersistentVolumeClaim),
    /// A PersistentVolume.
    PersistentVolume(PersistentVolume),
    /// A StorageClass.
    StorageClass(StorageClass),
    /// A Deployment, compact ([`rollout::compact_deployment`](crate::rollout::compact_deployment)):
    /// published when its rollout state changes.
    Deployment(Deployment),
    /// A StatefulSet, compact: published when its rollout state changes.
    StatefulSet(StatefulSet),
    /// A DaemonSet, compact: published when its rollout state changes.
    DaemonSet(DaemonSet),
}

impl EventType for K8sObservation {
    const TYPE: &'static str = "dev.lastmile.k8s.observation.v1";
}

impl K8sObservation {
    /// The object's kind, as Kubernetes spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Pod(_) => "Pod",
            Self::Job(_) => "Job",
            Self::Event(_) => "Event",
            Self::Node(_) => "Node",
            Self::ResourceQuota(_) => "ResourceQuota",
            Self::LimitRange(_) => "LimitRange",
            Self::PersistentVolumeClaim(_) => "PersistentVolumeClaim",
            Self::PersistentVolume(_) => "PersistentVolume",
            Self::StorageClass(_) => "StorageClass",
            Self::Deployment(_) => "Deployment",
            Self::StatefulSet(_) => "StatefulSet",
            Self::DaemonSet(_) => "DaemonSet",
        }
    }
}

#[cfg(test)]
mod tests;
