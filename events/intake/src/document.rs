//! Reads a `kubectl get -o json` document into typed objects, by kind.

use chrono::{DateTime, Utc};
use k8s_openapi::Metadata;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lastmile_events::{ClusterSnapshot, KubeEvent};
use serde_json::Value;

use crate::IntakeError;
use crate::time::newest_timestamp;

/// The objects of one document, sorted into buckets by kind. Items of other kinds, and
/// items whose shape does not parse, are skipped: a recording with one odd object still
/// yields the rest.
#[derive(Debug, Default)]
pub(crate) struct Objects {
    pub pods: Vec<Pod>,
    pub jobs: Vec<Job>,
    pub events: Vec<KubeEvent>,
    pub nodes: Vec<Node>,
    pub resource_quotas: Vec<ResourceQuota>,
    pub limit_ranges: Vec<LimitRange>,
    pub pvcs: Vec<PersistentVolumeClaim>,
    pub pvs: Vec<PersistentVolume>,
    pub storage_classes: Vec<StorageClass>,
    /// The newest timestamp anywhere in the document.
    pub newest: Option<DateTime<Utc>>,
}

impl Objects {
    /// Sorts a list, typed list or single object into buckets.
    pub fn from_value(value: &Value) -> Result<Self, IntakeError> {
        let mut objects = Self {
            newest: newest_timestamp(value),
            ..Self::default()
        };
        if let Some(items) = value.get("items").and_then(Value::as_array) {
            // `kubectl get` prints kind `List` with typed items; the raw API returns e.g.
            // `PodList` whose items carry no kind of their own.
            let list_kind = value.get("kind").and_then(Value::as_str).unwrap_or("List");
            let default_kind = list_kind.strip_suffix("List").unwrap_or("");
            let default_api = value
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("v1");
            for item in items {
                objects.add(item, default_kind, default_api);
            }
        } else if value.get("kind").is_some() {
            objects.add(value, "", "v1");
        } else {
            return Err(IntakeError::NotKubernetes);
        }
        Ok(objects)
    }

    fn add(&mut self, item: &Value, default_kind: &str, default_api: &str) {
        let kind = item
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or(default_kind);
        let api = item
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or(default_api);
        // Nested lists (`kubectl get -o json` of several resource types in old clients).
        if item.get("items").is_some() {
            if let Ok(nested) = Self::from_value(item) {
                self.absorb(nested);
            }
            return;
        }
        let body = without_type_fields(item);
        match kind {
            "Pod" => push(&mut self.pods, body),
            "Job" => push(&mut self.jobs, body),
            "Node" => push(&mut self.nodes, body),
            "ResourceQuota" => push(&mut self.resource_quotas, body),
            "LimitRange" => push(&mut self.limit_ranges, body),
            "PersistentVolumeClaim" => push(&mut self.pvcs, body),
            "PersistentVolume" => push(&mut self.pvs, body),
            "StorageClass" => push(&mut self.storage_classes, body),
            "Event" if api.starts_with("events.k8s.io") => {
                if let Ok(ev) = serde_json::from_value::<k8s_openapi::api::events::v1::Event>(body)
                {
                    self.events.push(KubeEvent::from_events_v1(&ev));
                }
            }
            "Event" => {
                if let Ok(ev) = serde_json::from_value::<k8s_openapi::api::core::v1::Event>(body) {
                    self.events.push(KubeEvent::from_core(&ev));
                }
            }
            _ => {}
        }
    }

    fn absorb(&mut self, other: Self) {
        self.pods.extend(other.pods);
        self.jobs.extend(other.jobs);
        self.events.extend(other.events);
        self.nodes.extend(other.nodes);
        self.resource_quotas.extend(other.resource_quotas);
        self.limit_ranges.extend(other.limit_ranges);
        self.pvcs.extend(other.pvcs);
        self.pvs.extend(other.pvs);
        self.storage_classes.extend(other.storage_classes);
        self.newest = self.newest.max(other.newest);
    }

    /// The cluster state of the document, leaving out the pods named in `exclude`
    /// (`(namespace, name)`: the stuck pods an incident already carries).
    pub fn snapshot(&self, exclude: &[(String, String)]) -> ClusterSnapshot {
        let pods = self
            .pods
            .iter()
            .filter(|p| {
                let (ns, name) = ns_name(p.metadata());
                !exclude.iter().any(|(en, ename)| en == ns && ename == name)
            })
            .cloned()
            .collect();
        let mut snapshot = ClusterSnapshot {
            taken_at: None,
            nodes: self.nodes.clone(),
            pods,
            resource_quotas: self.resource_quotas.clone(),
            limit_ranges: self.limit_ranges.clone(),
            pvcs: self.pvcs.clone(),
            pvs: self.pvs.clone(),
            storage_classes: self.storage_classes.clone(),
            ..ClusterSnapshot::default()
        };
        // An empty snapshot is not serialised, so it must not carry a time either (an
        // incident must survive a round trip through its CloudEvent unchanged).
        if !snapshot.is_empty() {
            snapshot.taken_at = self.newest;
        }
        snapshot
    }
}

/// A copy of the object without `apiVersion`/`kind`: the bucket already fixes the type, and
/// k8s-openapi rejects other API versions (`events.k8s.io/v1beta1`, `batch/v1beta1`) whose
/// fields are the same.
fn without_type_fields(item: &Value) -> Value {
    let mut body = item.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    body
}

fn push<T: serde::de::DeserializeOwned>(bucket: &mut Vec<T>, body: Value) {
    if let Ok(obj) = serde_json::from_value(body) {
        bucket.push(obj);
    }
}

/// Namespace and name of an object (empty strings when absent).
pub(crate) fn ns_name(meta: &ObjectMeta) -> (&str, &str) {
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

/// Merges `extra` into `into`, skipping objects whose namespace and name are already there.
pub(crate) fn merge_snapshot(into: &mut ClusterSnapshot, extra: &ClusterSnapshot) {
    merge(&mut into.nodes, &extra.nodes);
    merge(&mut into.pods, &extra.pods);
    merge(&mut into.resource_quotas, &extra.resource_quotas);
    merge(&mut into.limit_ranges, &extra.limit_ranges);
    merge(&mut into.pvcs, &extra.pvcs);
    merge(&mut into.pvs, &extra.pvs);
    merge(&mut into.storage_classes, &extra.storage_classes);
    into.taken_at = into.taken_at.max(extra.taken_at);
}

fn merge<T: Metadata<Ty = ObjectMeta> + Clone>(into: &mut Vec<T>, extra: &[T]) {
    for obj in extra {
        let key = ns_name(obj.metadata());
        if !into.iter().any(|o| ns_name(o.metadata()) == key) {
            into.push(obj.clone());
        }
    }
}
