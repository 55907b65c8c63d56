//! Incidents: "this workload is stuck", with everything a function needs to say why.
//!
//! An incident is keyed by the owning workload and the failure family, so 500 pods of one
//! Job pending for the same reason are one incident whose `count` grows, not 500.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ci::CiRunRef;
use crate::envelope::{EventType, stable_id};
use crate::k8s::{ClusterSnapshot, KubeEvent};

/// A reference to a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
pub struct ObjectRef {
    /// Kind, e.g. `Pod`, `Job`.
    pub kind: String,
    /// Namespace; absent for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name.
    pub name: String,
    /// UID, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Field path inside the object, e.g. `spec.initContainers{wait-db}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind.to_lowercase(), ns, self.name),
            None => write!(f, "{}/{}", self.kind.to_lowercase(), self.name),
        }
    }
}

/// The failure family an incident belongs to; it picks the subject
/// `lastmile.incident.<family>` and therefore the function that diagnoses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentFamily {
    /// A pod stays Pending (scheduling, admission, scaling).
    Pending,
    /// ErrImagePull / ImagePullBackOff / InvalidImageName.
    ImagePull,
    /// An init container never finishes or crash-loops.
    Init,
    /// A Job failed, ran past its deadline, or is stuck active.
    Job,
    /// A CI build step failed (Go modules, reproducibility).
    Build,
    /// A scheduled, pulled pod whose main containers never become Ready (crash loops, OOM
    /// kills, missing config, failed mounts, failing probes, exec failures).
    Runtime,
}

impl IncidentFamily {
    /// Every family, in subject order.
    pub const ALL: [IncidentFamily; 6] = [
        Self::Pending,
        Self::ImagePull,
        Self::Init,
        Self::Job,
        Self::Build,
        Self::Runtime,
    ];

    /// The subject token, e.g. `image-pull`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::ImagePull => "image-pull",
            Self::Init => "init",
            Self::Job => "job",
            Self::Build => "build",
            Self::Runtime => "runtime",
        }
    }
}

impl std::fmt::Display for IncidentFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the incident is still happening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Still stuck.
    #[default]
    Open,
    /// The workload made progress (e.g. the pod scheduled); `resolution` says how.
    Resolved,
}

/// A stuck workload and the evidence captured when it was noticed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Incident {
    /// Stable key: the same workload stuck in the same family always has the same key.
    pub key: String,
    /// The failure family.
    pub family: IncidentFamily,
    /// The object that is stuck (usually a Pod).
    pub subject: ObjectRef,
    /// The workload that owns it (e.g. the Job), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<ObjectRef>,
    /// Open or resolved.
    #[serde(default)]
    pub status: IncidentStatus,
    /// How it was resolved, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// How many stuck objects this incident stands for (e.g. pending pods of one Job).
    #[serde(default = "one")]
    pub count: u32,
    /// When it was first noticed.
    pub first_seen: DateTime<Utc>,
    /// When it was last observed.
    pub last_seen: DateTime<Utc>,
    /// The CI run that deployed the workload, when linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiRunRef>,
    // Boxed, like `job`: a `Pod` is 2.5 KB inline, and incidents are moved and collected by
    // the hundred thousand (a pasted event storm).
    /// The stuck pod, as the API returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Box<Pod>>,
    /// The owning Job, as the API returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<Box<Job>>,
    /// Events about the pod and its owner, captured before Kubernetes expires them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<KubeEvent>,
    // Shared: a clone of the incident, or a function handed its cluster state, reads the
    // same copy (the state is often most of an incident's bytes); `Arc::make_mut` changes it.
    /// Cluster state relevant to the family (nodes, quotas, …); may be empty.
    #[serde(default, skip_serializing_if = "snapshot_is_empty")]
    pub snapshot: Arc<ClusterSnapshot>,
    /// Free text (a CI log excerpt, a pasted report) when the incident came from text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

fn one() -> u32 {
    1
}

impl EventType for Incident {
    const TYPE: &'static str = "dev.lastmile.incident.v1";
}

impl Incident {
    /// The stable key for a workload stuck in a family: owner when known, else the subject.
    pub fn key_for(
        family: IncidentFamily,
        subject: &ObjectRef,
        owner: Option<&ObjectRef>,
    ) -> String {
        let who = owner.unwrap_or(subject);
        let ns = who.namespace.as_deref().unwrap_or("");
        let readable = format!("{}.{}.{}.{}", family, ns, who.kind.to_lowercase(), who.name);
        let sanitized: String = readable
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // A short hash keeps keys unique even when sanitising merged two names.
        format!(
            "{sanitized}.{}",
            &stable_id(&[family.as_str(), ns, &who.kind, &who.name])[..8]
        )
    }

    /// A minimal open incident about `subject`, for producers and tests to fill in.
    pub fn new(
        family: IncidentFamily,
        subject: ObjectRef,
        owner: Option<ObjectRef>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            key: Self::key_for(family, &subject, owner.as_ref()),
            family,
            subject,
            owner,
            status: IncidentStatus::Open,
            resolution: None,
            count: 1,
            first_seen: now,
            last_seen: now,
            ci: None,
            pod: None,
            job: None,
            events: Vec::new(),
            snapshot: Arc::default(),
            text: None,
        }
    }

    /// Events whose `regarding` object is the subject or the owner.
    pub fn events_about<'a>(&'a self, reason: &'a str) -> impl Iterator<Item = &'a KubeEvent> + 'a {
        self.events
            .iter()
            .filter(move |e| e.reason.eq_ignore_ascii_case(reason))
    }
}

/// For `skip_serializing_if`: an incident without cluster state carries no `snapshot`.
fn snapshot_is_empty(snapshot: &Arc<ClusterSnapshot>) -> bool {
    snapshot.is_empty()
}

#[cfg(test)]
mod tests;
