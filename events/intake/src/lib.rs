//! Intake: turns what people paste or record into lastmile [`Incident`]s.
//!
//! Two entry points, both pure and deterministic (no clock, no network):
//!
//! * [`read_json`] (and, for small recordings, [`incidents_from_json`]) reads what
//!   `kubectl get ... -o json` prints (a `List` of mixed kinds, a typed list such as
//!   `PodList`, or a single object) or a CloudEvent carrying an Incident, finds the stuck workloads and groups them into incidents keyed like the
//!   watcher keys them ([`Incident::key_for`]), so replaying a recording and watching a live
//!   cluster produce the same incidents.
//! * [`incident_from_text`] reads `kubectl describe` output, `kubectl get events` tables and
//!   raw log lines, recovers the Events rows it can, and keeps the full text for the
//!   message-level rules of every function.
//!
//! The main design choice: intake only *routes* (it guesses the family); it never diagnoses.
//! Classification lives in the functions, which `lastmile explain` runs all of, so a wrong
//! family guess here cannot hide a diagnosis.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod document;
mod family;
mod group;
mod index;
mod lenient;
mod recording;
mod stuck;
mod table;
mod text;
mod time;

pub use family::guess_family;
pub use lenient::Ignored;
pub use recording::Recording;
pub use text::incident_from_text;

use lastmile_events::{CloudEvent, ClusterSnapshot, EnvelopeError, Incident};

/// Why bytes could not be turned into incidents. Every variant is **bad input**: retrying
/// the same bytes cannot help.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The bytes are not JSON.
    #[error("input is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A CloudEvent envelope that is malformed or does not carry an Incident.
    #[error("input looks like a CloudEvent but is not a valid incident event: {0}")]
    Envelope(#[from] EnvelopeError),
    /// JSON that is neither a Kubernetes object, a list of them, nor a CloudEvent.
    #[error("input is JSON but not a Kubernetes object or list (no \"kind\" or \"items\")")]
    NotKubernetes,
}

impl IntakeError {
    /// Always false: intake errors describe the input, which does not change on retry.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// Reads a JSON document into a [`Recording`]: its incidents, the cluster state they share
/// (one copy, not one per incident) and what could not be read.
///
/// Accepts a `kubectl get ... -o json` document (a `List` or typed list of Pods, Jobs, core/v1
/// and events.k8s.io/v1 Events, Nodes, ResourceQuotas, LimitRanges, PVCs, PVs,
/// StorageClasses), a single such object, or a structured-mode CloudEvent whose data is an
/// Incident. Stuck pods of one owner in one family become one incident with `count`; events
/// about the pods and their owner are attached; every other object goes into the shared
/// cluster state. Timestamps come from the newest time found in the document, never the wall
/// clock. A document with nothing stuck gives no incidents. A field of the wrong type costs
/// that field only, and is listed in [`Recording::ignored`]. Cost is linear in the document.
pub fn read_json(bytes: &[u8]) -> Result<Recording, IntakeError> {
    // A list is read one item at a time (the document is never held as one `Value`).
    if let Some(objects) = document::Objects::from_list_slice(bytes) {
        return Ok(Recording::from_objects(objects?));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    if value.get("specversion").is_some() {
        let event = CloudEvent::<Incident>::from_slice(bytes)?;
        return Ok(Recording::carrying(vec![event.data]));
    }
    let objects = document::Objects::from_value(value)?;
    Ok(Recording::from_objects(objects))
}

/// Builds the incidents a JSON document describes, each self-contained: its own copy of the
/// cluster state (without its own stuck pods) in `snapshot`, as an incident travels alone on
/// the bus to a function with no cluster view. An owned snapshot per incident costs
/// incidents × cluster objects, so this is for small recordings and tests; [`read_json`]
/// shares one cluster state between the incidents and is linear (`explain` and `replay` use
/// it, with the shared state behind the functions' `ClusterView`).
pub fn incidents_from_json(bytes: &[u8]) -> Result<Vec<Incident>, IntakeError> {
    Ok(read_json(bytes)?.into_incidents_with_snapshots())
}

/// Reads a JSON document's cluster objects (nodes, pods, quotas, limit ranges, volumes,
/// storage classes) into a snapshot, e.g. for `lastmile explain --snapshot`.
pub fn snapshot_from_json(bytes: &[u8]) -> Result<ClusterSnapshot, IntakeError> {
    if let Some(objects) = document::Objects::from_list_slice(bytes) {
        return Ok(objects?.into_cluster());
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    Ok(document::Objects::from_value(value)?.into_cluster())
}

/// Adds `extra`'s objects to `into`, skipping objects already present (same kind, namespace
/// and name), so merging a `--snapshot` file into an incident never duplicates a node.
pub fn merge_snapshot(into: &mut ClusterSnapshot, extra: &ClusterSnapshot) {
    document::merge_snapshot(into, extra);
}

#[cfg(test)]
mod tests;
