//! Pending pods: why a pod never runs (scheduling, admission, scaling), with the smallest fix.

pub mod index;
pub mod messages;
pub mod quantity;
pub mod resources;
pub mod selectors;

use std::time::Duration;

use lastmile_contract::{Context, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{Incident, IncidentFamily};

/// The function's spec.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "pending",
    description: "Diagnoses Pending pods and Jobs: scheduling, admission and scaling failures.",
    families: &[IncidentFamily::Pending],
    deadline: Duration::from_secs(10),
    max_evidence_bytes: 512 * 1024,
};

/// Diagnoses one pending incident.
pub async fn handle(_incident: &Incident, _ctx: &Context) -> Result<Outcome, FunctionError> {
    Ok(Outcome::default())
}

/// The registered function.
pub const FUNCTION: Function = Function { spec: &SPEC, handle: |i, c| Box::pin(handle(i, c)) };
