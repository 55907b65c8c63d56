//! The contract every lastmile function is written against.
//!
//! A function is a plain async handler, `(incident, context) -> outcome`. It does no I/O of
//! its own: everything outside the incident comes through [`Context`] (clock, live cluster
//! view, HTTP access to registries). Hosts — the NATS consumer, the Lambda runtime, the
//! in-process replay — build the context once and call the same handler, so a function runs
//! unchanged everywhere and its tests need no servers.
//!
//! This crate deliberately depends on no transport crate (no NATS, AWS SDK or HTTP client).

pub mod compliance;
mod context;
mod error;
pub mod finalize;
mod function;
mod outcome;
mod settings;

pub use context::{
    Clock, ClusterRead, ClusterView, Context, FixedClock, HttpExchange, HttpRequest, HttpResponse,
    NoCluster, NoHttp, PullSecret, RegistryHttp, SystemClock, TransportError, TransportErrorKind,
};
pub use error::{ErrorKind, FunctionError};
pub use function::{Function, FunctionSpec, HandleFuture};
pub use outcome::{EvidenceItem, Outcome};
pub use settings::{ENV_PREFIX, Settings};

pub use lastmile_events as events;
