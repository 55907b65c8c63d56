//! `lastmile gate`: the CI step that waits for a deploy and fails fast with the cause.
//!
//! The gate reads four kinds of messages and keeps a small state about one target (a CI
//! run, or one workload `kind/namespace/name`):
//!
//! | subject | what it means to the gate |
//! |---|---|
//! | `lastmile.diagnosis.>` | a diagnosis; a *definitive* one about the target fails the gate at once |
//! | `lastmile.incident.>` | the target is stuck (open) or recovered (resolved) |
//! | `lastmile.k8s.job.>` | the watcher's **readiness signal**: a Job reached `Complete` (ready) or `Failed` |
//! | `lastmile.k8s.{deployment,statefulset,daemonset}.>` | the **rollout signal**: the workload's rollout state changed (complete, waiting, stalled; [`lastmile_events::rollout`]) |
//! | `lastmile.ci.>` | a deploy event of the run: the workloads the run deploys |
//!
//! **Ready** means: for a Job, its `Complete` observation; for a Deployment, StatefulSet or
//! DaemonSet, its newest rollout observation says complete (as `kubectl rollout status`
//! decides it) and no incident is open — one of an older generation does not count, and one
//! published before the gate started counts after a 2 s catch-up, so the previous
//! generation's "complete" read through `lookback` cannot pass a fresh `kubectl apply`;
//! without any rollout observation (an older watcher), a resolved incident and none open;
//! or (with `--settle`) no open incident for that long; for a CI run, every workload it
//! deploys is ready by the same rules and none has an open incident. A stalled rollout
//! (`ProgressDeadlineExceeded`) is never ready: the watcher's incident for it brings the
//! diagnosis that fails the gate.
//!
//! **Failed** means: a definitive diagnosis about the target whose incident is not
//! resolved, or a Job that failed (the gate then waits `grace` for a diagnosis to explain
//! it). Verdicts are evaluated after each message and on a one-second tick, so a diagnosis
//! fails the gate as soon as it arrives.
//!
//! Messages come from NATS through ephemeral **ordered JetStream consumers** starting
//! `lookback` before the gate started ([`nats_source`]): a diagnosis published between
//! `kubectl apply` and the gate starting is not missed, nothing durable is left behind on
//! the server, and ordered consumers recreate themselves after a reconnect.

mod output;
mod run;
mod source;
mod state;
mod target;
mod trace;

pub use output::{Output, describe, escape_annotation, markdown};
pub use run::run;
pub use source::{GateError, READINESS_SUBJECTS, nats_source};
pub use state::{CONTEST_WINDOW, Gate, GateConfig, Verdict};
pub use target::{Target, TargetError};

/// Exit code: the deploy is ready.
pub const EXIT_READY: u8 = 0;
/// Exit code: the deploy will not become ready (definitive diagnosis, or the Job failed).
pub const EXIT_FAILED: u8 = 1;
/// Exit code (set by the CLI): bad arguments or NATS unreachable.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: the timeout passed without a verdict.
pub const EXIT_TIMEOUT: u8 = 3;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
