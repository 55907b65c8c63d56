//! The runtime lastmile functions share: bus, evidence store, redaction, telemetry, hosts.
//!
//! Functions (see `lastmile-contract`) are pure handlers; everything with I/O lives here and
//! is built once at start-up. The central piece is the [`executor::Executor`]: it turns one
//! bus message into a diagnosis — parse, call the function under its deadline, store the
//! redacted evidence bundle, publish diagnoses and remediation commands — and every host
//! (NATS consumer, Lambda, in-process replay) calls that same path, so behaviour cannot drift
//! between hosts.

pub mod bus;
pub mod error;
pub mod evidence;
pub mod executor;
pub mod host;
pub mod http;
pub mod redact;
pub mod telemetry;
pub mod tls;
