//! Reads a `kubectl get -o json` document into typed objects, by kind.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use k8s_openapi::Metadata;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
    Secret, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lastmile_events::{ClusterSnapshot, ConfigObject, KubeEvent};
use serde_json::Value;

use crate::IntakeError;
use crate::lenient::{At, Ignored, read};
use crate::time::newest_timestamp;

/// The top of a list document; the items stay borrowed JSON text until each is read.
#[derive(serde::Deserialize)]
struct ListHead<'a> {
    #[serde(borrow, default)]
    items: Option<Vec<&'a serde_json::value::RawValue>>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(rename = "apiVersion", default)]
    api_version: Option<String>,
    /// A CloudEvent is not a list, whatever its data holds.
    #[serde(default)]
    specversion: Option<serde::de::IgnoredAny>,
}

/// The objects of one document, sorted into buckets by kind. Items of other kinds are not
/// read; items of a known kind keep every field that parses (see [`crate::lenient`]), and
/// whatever had to be left out is listed in `ignored`.
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
    pub services: Vec<Service>,
    pub endpoint_slices: Vec<EndpointSlice>,
    /// ConfigMaps and Secrets, names and key names only (values dropped as they are read).
    pub configs: Vec<ConfigObject>,
    /// The newest timestamp anywhere in the document.
    pub newest: Option<DateTime<Utc>>,
    /// Fields and objects that could not be read, in document order.
    pub ignored: Vec<Ignored>,
}

impl Objects {
    /// Sorts a list, typed list or single object into buckets. Takes the document by value:
    /// items are moved into their typed form, never copied.
    pub fn from_value(value: Value) -> Result<Self, IntakeError> {
        let mut objects = Self {
            newest: newest_timestamp(&value),
            ..Self::default()
        };
        objects.add_document(value, "")?;
        Ok(objects)
    }

    /// As [`Self::from_value`] for a list document (`{"kind":"List","items":[…]}`), read
    /// one item at a time: each item is parsed from its borrowed JSON text, sorted and
    /// dropped, so memory is the input plus the typed objects, never the whole document as
    /// a `Value` (several times the input's size). `None` when `bytes` is not a list.
    pub fn from_list_slice(bytes: &[u8]) -> Option<Result<Self, IntakeError>> {
        let head: ListHead<'_> = serde_json::from_slice(bytes).ok()?;
        let items = head.items?;
        if head.specversion.is_some() {
            return None;
        }
        let list_kind = head.kind.as_deref().unwrap_or("List");
        let default_kind = list_kind.strip_suffix("List").unwrap_or("");
        let default_api = head.api_version.as_deref().unwrap_or("v1");
        let mut objects = Self::default();
        for (i, raw) in items.into_iter().enumerate() {
            let item: Value = match serde_json::from_str(raw.get()) {
                Ok(v) => v,
                Err(e) => return Some(Err(e.into())),
            };
            if let Some(t) = newest_timestamp(&item) {
                objects.newest = Some(objects.newest.map_or(t, |n| n.max(t)));
            }
            objects.add(item, default_kind, default_api, &format!("items[{i}]"));
        }
        Some(Ok(objects))
    }

    fn add_document(&mut self, mut value: Value, path: &str) -> Result<(), IntakeError> {
        if let Some(items) = value.get_mut("items").map(Value::take) {
            // `kubectl get` prints kind `List` with typed items; the raw API returns e.g.
            // `PodList` whose items carry no kind of their own.
            let list_kind = value.get("kind").and_then(Value::as_str).unwrap_or("List");
            let default_kind = list_kind.strip_suffix("List").unwrap_or("").to_owned();
            let default_api = value
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("v1")
                .to_owned();
            let Value::Array(items) = items else {
                self.ignored.push(Ignored {
                    path: format!("{path}.items").trim_start_matches('.').to_owned(),
                    object: String::new(),
                    reason: "expected a list".into(),
                    whole_object: true,
                });
                return Ok(());
            };
            for (i, item) in items.into_iter().enumerate() {
                let at = format!("{path}items[{i}]");
                self.add(item, &default_kind, &default_api, &at);
            }
        } else if value.get("kind").is_some() {
            self.add(value, "", "v1", path.trim_end_matches('.'));
        } else {
            return Err(IntakeError::NotKubernetes);
        }
        Ok(())
    }

    fn add(&mut self, mut item: Value, default_kind: &str, default_api: &str, path: &str) {
        // Nested lists (`kubectl get -o json` of several resource types in old clients).
        if item.get("items").is_some() {
            let nested = format!("{path}.");
            if self.add_document(item, &nested).is_err() {
                self.ignored.push(Ignored {
                    path: path.to_owned(),
                    object: String::new(),
                    reason: "a nested list that is not a Kubernetes list".into(),
                    whole_object: true,
                });
            }
            return;
        }
        // The bucket fixes the type, and k8s-openapi rejects other API versions
        // (`events.k8s.io/v1beta1`, `batch/v1beta1`) whose fields are the same.
        let (kind, api) = match item.as_object_mut() {
            Some(map) => {
                let kind = take_str(map.remove("kind")).unwrap_or_else(|| default_kind.into());
                let api = take_str(map.remove("apiVersion")).unwrap_or_else(|| default_api.into());
                (kind, api)
            }
            None => {
                self.ignored.push(Ignored {
                    path: path.to_owned(),
                    object: String::new(),
                    reason: "expected an object".into(),
                    whole_object: true,
                });
                return;
            }
        };
        let object = describe(&kind, &item);
        let essential: &[&str] = match kind.as_str() {
            "Pod" | "Job" => &["metadata", "spec"],
            "Event" if !api.starts_with("events.k8s.io") => &["metadata", "involvedObject"],
            _ => &["metadata"],
        };
        let at = At {
            path,
            object: &object,
            essential,
        };
        let notes = &mut self.ignored;
        match kind.as_str() {
            "Pod" => push(&mut self.pods, read(item, &at, notes)),
            "Job" => push(&mut self.jobs, read(item, &at, notes)),
            "Node" => push(&mut self.nodes, read(item, &at, notes)),
            "ResourceQuota" => push(&mut self.resource_quotas, read(item, &at, notes)),
            "LimitRange" => push(&mut self.limit_ranges, read(item, &at, notes)),
            "PersistentVolumeClaim" => push(&mut self.pvcs, read(item, &at, notes)),
            "PersistentVolume" => push(&mut self.pvs, read(item, &at, notes)),
            "StorageClass" => push(&mut self.storage_classes, read(item, &at, notes)),
            "Service" => push(&mut self.services, read(item, &at, notes)),
            "EndpointSlice" => push(&mut self.endpoint_slices, read(item, &at, notes)),
            "ConfigMap" => {
                let cm: Option<ConfigMap> = read(item, &at, notes);
                push(
                    &mut self.configs,
                    cm.map(|c| ConfigObject::from_config_map(&c)),
                );
            }
            "Secret" => {
                let secret: Option<Secret> = read(item, &at, notes);
                push(
                    &mut self.configs,
                    secret.map(|s| ConfigObject::from_secret(&s)),
                );
            }
            "Event" if api.starts_with("events.k8s.io") => {
                let ev: Option<k8s_openapi::api::events::v1::Event> = read(item, &at, notes);
                push(&mut self.events, ev.map(|e| KubeEvent::from_events_v1(&e)));
            }
            "Event" => {
                let ev: Option<k8s_openapi::api::core::v1::Event> = read(item, &at, notes);
                push(&mut self.events, ev.map(|e| KubeEvent::from_core(&e)));
            }
            _ => {}
        }
    }

    /// The cluster state of the document with every pod, consuming the objects.
    pub fn into_cluster(self) -> ClusterSnapshot {
        let snapshot = ClusterSnapshot {
            taken_at: None,
            nodes: self.nodes,
            pods: self.pods,
            resource_quotas: self.resource_quotas,
            limit_ranges: self.limit_ranges,
            pvcs: self.pvcs,
            pvs: self.pvs,
            storage_classes: self.storage_classes,
            services: self.services,
            endpoint_slices: self.endpoint_slices,
            configs: self.configs,
        };
        stamped(snapshot, self.newest)
    }
}

/// An empty snapshot is not serialised, so it must not carry a time either (an incident
/// must survive a round trip through its CloudEvent unchanged).
fn stamped(mut snapshot: ClusterSnapshot, newest: Option<DateTime<Utc>>) -> ClusterSnapshot {
    if !snapshot.is_empty() {
        snapshot.taken_at = newest;
    }
    snapshot
}

fn take_str(value: Option<Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// `Kind namespace/name` for notes, from the raw item (its metadata may not parse).
fn describe(kind: &str, item: &Value) -> String {
    let meta = item.get("metadata");
    let field = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
    match (field("namespace"), field("name")) {
        (Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
        (None, Some(name)) => format!("{kind} {name}"),
        _ => kind.to_owned(),
    }
}

fn push<T>(bucket: &mut Vec<T>, obj: Option<T>) {
    bucket.extend(obj);
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
    merge(&mut into.services, &extra.services);
    merge(&mut into.endpoint_slices, &extra.endpoint_slices);
    for c in &extra.configs {
        let present = into
            .configs
            .iter()
            .any(|o| (&o.kind, &o.namespace, &o.name) == (&c.kind, &c.namespace, &c.name));
        if !present {
            into.configs.push(c.clone());
        }
    }
    into.taken_at = into.taken_at.max(extra.taken_at);
}

fn merge<T: Metadata<Ty = ObjectMeta> + Clone>(into: &mut Vec<T>, extra: &[T]) {
    let present: HashSet<(String, String)> = into
        .iter()
        .map(|o| {
            let (ns, name) = ns_name(o.metadata());
            (ns.to_owned(), name.to_owned())
        })
        .collect();
    let mut added: HashSet<(&str, &str)> = HashSet::new();
    for obj in extra {
        let key = ns_name(obj.metadata());
        if !present.contains(&(key.0.to_owned(), key.1.to_owned())) && added.insert(key) {
            into.push(obj.clone());
        }
    }
}
