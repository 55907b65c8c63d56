//! How a function declares itself to hosts.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use lastmile_events::{Incident, IncidentFamily};

use crate::{Context, FunctionError, Outcome};

/// What a host needs to know to run a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Name: CLI argument, durable consumer name, DLQ subject token (`pending`, `image-pull`).
    pub name: &'static str,
    /// One line on what it diagnoses.
    pub description: &'static str,
    /// Incident families it consumes (`lastmile.incident.<family>`).
    pub families: &'static [IncidentFamily],
    /// The host cancels an invocation that runs longer and retries it.
    pub deadline: Duration,
    /// Upper bound on the evidence one invocation may return.
    pub max_evidence_bytes: usize,
}

/// The future a handler returns.
pub type HandleFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Outcome, FunctionError>> + Send + 'a>>;

/// A registered function: its spec and its handler. Hosts keep a plain static table of these.
#[derive(Clone, Copy)]
pub struct Function {
    /// The spec.
    pub spec: &'static FunctionSpec,
    /// The handler: `async fn handle(&Incident, &Context) -> Result<Outcome, FunctionError>`.
    pub handle: for<'a> fn(&'a Incident, &'a Context) -> HandleFuture<'a>,
}

impl Function {
    /// Calls the handler.
    pub fn call<'a>(&self, incident: &'a Incident, ctx: &'a Context) -> HandleFuture<'a> {
        (self.handle)(incident, ctx)
    }
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("spec", self.spec)
            .finish_non_exhaustive()
    }
}
