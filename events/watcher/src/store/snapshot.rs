//! The snapshot an incident carries: what its family's diagnosis needs, picked from the
//! [`ClusterStore`] (and, for Pending incidents, the cluster-wide nodes and bound pods,
//! assembled from their JSON text without deserialising it).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod};
use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily};
use serde_json::value::{RawValue, to_raw_value};

use super::{
    ClusterStore, MAX_SNAPSHOT_INIT_PODS, MAX_SNAPSHOT_JOB_PODS, MAX_SNAPSHOT_NODES,
    MAX_SNAPSHOT_PODS, MAX_SNAPSHOT_SERVICES, SNAPSHOT_PODS_BUDGET,
};
use crate::live;

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

impl ClusterStore {
    /// What an Init incident's diagnosis needs: the pods waiting in init in the namespaces
    /// involved (the incident's and those its init commands name), their Services and
    /// those Services' EndpointSlices.
    fn init_state(&self, incident: &Incident, snap: &mut ClusterSnapshot) {
        let own = incident.subject.namespace.clone().unwrap_or_default();
        let namespaces = match incident.pod.as_deref() {
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
            IncidentFamily::ImagePull => self.pod_node(incident, &mut snap),
            IncidentFamily::Init => self.init_state(incident, &mut snap),
            IncidentFamily::Job => self.job_state(incident, &mut snap),
            IncidentFamily::Build => {}
            IncidentFamily::Runtime => {
                // The node's platform: `exec format error` is compared with the image's.
                self.pod_node(incident, &mut snap);
                self.claimed_storage(incident, ns, &mut snap);
                crate::runtime::state(self, incident, ns, &mut snap);
            }
        }
        snap
    }

    /// The node the incident's pod is bound to (its platform, cloud and labels), when kept.
    fn pod_node(&self, incident: &Incident, snap: &mut ClusterSnapshot) {
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
}
