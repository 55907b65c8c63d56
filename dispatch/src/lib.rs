//! The Lambda dispatcher: brings incidents from JetStream to the diagnosis functions deployed
//! on AWS Lambda.
//!
//! For each function it opens a durable pull consumer `lambda-<function>` on the function's
//! incident subjects and invokes the function's Lambda (`Invoke`, `RequestResponse`) with the
//! message's bytes, the structured CloudEvent the Lambda host reads. Deliveries are settled by
//! the runtime's consumer loop ([`lastmile_runtime::host::nats::run_consumer`]), so the rules
//! are those of every NATS host: ack only after a successful invocation; throttling, 5xx and
//! timeouts nak'ed with doubling backoff; function errors dead-lettered on
//! `lastmile.dlq.<function>` with the reason ([`outcome`] decides which is which).
//!
//! It is its own crate, not a module of `lastmile-runtime`, so that the AWS Lambda SDK is
//! compiled only by what dispatches (the `lastmile` binary), not by every function crate
//! and test that builds the runtime.

pub mod config;
pub mod dispatcher;
pub mod outcome;

pub use config::LambdaConfig;
pub use dispatcher::{Dispatcher, run};
