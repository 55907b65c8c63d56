//! `pending`: why a pod never runs — scheduling, admission and autoscaling — with the
//! smallest fix, computed.
//!
//! Two sources are read and then reconciled ([`combine`]):
//! * **messages** ([`messages`]): every released shape of the scheduler's fit error, quota
//!   and LimitRange rejections, policy denials and autoscaler verdicts, found anywhere in
//!   event messages, pod conditions or pasted text. This is all `lastmile explain` has
//!   without a snapshot, so it must stand on its own.
//! * **state** ([`state`]): the pod checked against every node of an indexed snapshot
//!   ([`index::SnapshotIndex`]), nodes grouped by identical obstacles, plus volume, quota
//!   and LimitRange arithmetic.
//!
//! The main design choice: the state analysis runs *every* check on *every* node (the
//! scheduler stops at the first failing plugin), because the smallest fix is the obstacle
//! that stands alone on the most nodes; the index makes that affordable for 5,000 nodes.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod combine;
pub mod evidence;
pub mod fit;
pub mod index;
pub mod labels;
pub mod messages;
pub mod provenance;
pub mod quantity;
pub mod remedy;
pub mod resources;
pub mod selectors;
pub mod shared_index;
pub mod state;

use std::time::Duration;

use lastmile_contract::{Context, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{
    ClusterSnapshot, Diagnosis, Incident, IncidentFamily, IncidentStatus, Subject,
};

pub use index::SnapshotIndex;

/// The function's spec.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "pending",
    description: "Diagnoses Pending pods and Jobs: scheduling, admission and scaling failures.",
    families: &[IncidentFamily::Pending],
    deadline: Duration::from_secs(10),
    max_evidence_bytes: 512 * 1024,
};

/// Diagnoses one pending incident against the freshest cluster state the context offers.
pub async fn handle(incident: &Incident, ctx: &Context) -> Result<Outcome, FunctionError> {
    if incident.status == IncidentStatus::Resolved {
        return Ok(Outcome::default());
    }
    let snapshot = ctx.snapshot_for(incident).await;
    if incident.pod.as_deref().is_some_and(is_scheduled) {
        return diagnose_indexed(incident, None);
    }
    let index = shared_index::index_for(&snapshot);
    diagnose_indexed(incident, Some(index.get()))
}

/// The pure core of [`handle`]: diagnoses `incident` against `snapshot`.
pub fn diagnose(incident: &Incident, snapshot: &ClusterSnapshot) -> Result<Outcome, FunctionError> {
    // A pod the scheduler already placed (it is in Init, or pulling images) is not pending:
    // state analysis would invent a scheduling cause. Only messages are read for it.
    let scheduled = incident.pod.as_deref().is_some_and(is_scheduled);
    // An empty snapshot still indexes (cheaply): pod-level checks such as scheduling gates
    // need no cluster state.
    let index = (!scheduled).then(|| SnapshotIndex::build(snapshot));
    diagnose_indexed(incident, index.as_ref())
}

/// [`diagnose`] against an index already built (`None` for a pod already scheduled).
pub fn diagnose_indexed(
    incident: &Incident,
    index: Option<&SnapshotIndex<'_>>,
) -> Result<Outcome, FunctionError> {
    let scheduled = index.is_none();
    let (causes, analysis) = combine::decide(incident, index);
    let subject = Subject {
        kind: if incident.subject.kind.is_empty() {
            "Pod".into()
        } else {
            incident.subject.kind.clone()
        },
        namespace: incident.subject.namespace.clone(),
        name: incident.subject.name.clone(),
        container: None,
    };
    let mut diagnoses: Vec<Diagnosis> = causes
        .into_iter()
        .map(|c| {
            let mut d = Diagnosis::new(c.class, c.confidence, c.summary, subject.clone());
            d.evidence = c.evidence;
            d.remediation = c.remediation;
            d.definitive = c.definitive;
            d.details = c.details;
            d
        })
        .collect();
    // A pod that is known but unexplained still gets an answer with what was checked.
    if diagnoses.is_empty() && !scheduled && (incident.pod.is_some() || !incident.events.is_empty())
    {
        let d = Diagnosis::new(
            lastmile_events::Class::Unknown,
            0.2,
            match &analysis {
                Some(a) if a.fitting > 0 => format!("no blocking cause found: the pod fits {} of {} nodes in the snapshot; it should schedule on the next attempt", a.fitting, a.nodes),
                _ => "no known scheduling, admission or scaling message and no cluster state to check against".to_owned(),
            },
            subject.clone(),
        );
        diagnoses.push(d);
    }
    diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let evidence = evidence::collect(incident, analysis.as_ref(), SPEC.max_evidence_bytes)?;
    Ok(Outcome {
        diagnoses,
        evidence,
    })
}

/// True when the pod is bound to a node (`spec.nodeName`, or `PodScheduled=True`).
fn is_scheduled(pod: &k8s_openapi::api::core::v1::Pod) -> bool {
    let bound = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    let condition = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "PodScheduled" && c.status == "True")
        });
    bound || condition
}

/// The registered function.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};

#[cfg(test)]
mod scheduled_pods {
    use lastmile_events::ObjectRef;

    use super::*;

    /// Regression: a pod already placed on a node (stuck in Init) with an empty snapshot
    /// was diagnosed as `scheduling.no_nodes`.
    #[test]
    fn a_scheduled_pod_in_init_gets_no_scheduling_diagnosis() {
        let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "orders-1", "namespace": "shop"},
            "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "app:1"}],
                     "initContainers": [{"name": "wait-db", "image": "busybox"}]},
            "status": {"phase": "Pending", "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized"}]}
        }))
        .unwrap();
        let subject = ObjectRef {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: "orders-1".into(),
            ..Default::default()
        };
        let mut incident = Incident::new(
            IncidentFamily::Init,
            subject,
            None,
            chrono::DateTime::UNIX_EPOCH,
        );
        incident.pod = Some(Box::new(pod.clone()));
        let out = diagnose(&incident, &ClusterSnapshot::default()).unwrap();
        assert!(
            out.diagnoses.is_empty(),
            "{:?}",
            out.diagnoses.iter().map(|d| &d.class).collect::<Vec<_>>()
        );

        // The same pod unscheduled still gets an answer: with no cluster state, an honest
        // `unknown` that says what was missing.
        let mut unscheduled = pod;
        if let Some(spec) = unscheduled.spec.as_mut() {
            spec.node_name = None;
        }
        unscheduled.status = None;
        incident.pod = Some(Box::new(unscheduled));
        let out = diagnose(&incident, &ClusterSnapshot::default()).unwrap();
        let first = out.diagnoses.first().unwrap();
        assert_eq!(first.class.as_str(), "unknown");
        assert!(
            first.summary.contains("no cluster state"),
            "{}",
            first.summary
        );
    }
}
