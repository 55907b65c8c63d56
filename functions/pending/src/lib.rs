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
pub mod messages;
pub mod quantity;
pub mod remedy;
pub mod resources;
pub mod selectors;
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
    diagnose(incident, &snapshot)
}

/// The pure core of [`handle`]: diagnoses `incident` against `snapshot`.
pub fn diagnose(incident: &Incident, snapshot: &ClusterSnapshot) -> Result<Outcome, FunctionError> {
    // An empty snapshot still indexes (cheaply): pod-level checks such as scheduling gates
    // need no cluster state.
    let index = SnapshotIndex::build(snapshot);
    let (causes, analysis) = combine::decide(incident, Some(&index));
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
            d.function = Some(SPEC.name.to_owned());
            d.incident = Some(incident.key.clone());
            d.ci = incident.ci.clone();
            d
        })
        .collect();
    // A pod that is known but unexplained still gets an answer with what was checked.
    if diagnoses.is_empty() && (incident.pod.is_some() || !incident.events.is_empty()) {
        let mut d = Diagnosis::new(
            lastmile_events::Class::UNKNOWN,
            0.2,
            match &analysis {
                Some(a) if a.fitting > 0 => format!("no blocking cause found: the pod fits {} of {} nodes in the snapshot; it should schedule on the next attempt", a.fitting, a.nodes),
                _ => "no known scheduling, admission or scaling message and no cluster state to check against".to_owned(),
            },
            subject.clone(),
        );
        d.function = Some(SPEC.name.to_owned());
        d.incident = Some(incident.key.clone());
        diagnoses.push(d);
    }
    diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    let evidence = evidence::collect(incident, analysis.as_ref(), SPEC.max_evidence_bytes)?;
    Ok(Outcome {
        diagnoses,
        evidence,
    })
}

/// The registered function.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};
