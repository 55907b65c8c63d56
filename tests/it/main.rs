//! End-to-end tests across crates, against real servers started by `lastmile_tests`'s
//! harnesses (one test binary: link time hurts with this many dependencies).

#![allow(clippy::unwrap_used)]

mod admission;
mod architecture;
mod attestation;
mod build;
mod bus;
mod cli;
mod dispatch;
mod evidence;
mod gate;
mod host;
mod hostile_input;
mod image_pull;
mod image_pull_hosted;
mod infra;
mod lambda;
mod lint;
mod live_state;
mod nats_cluster;
mod nats_tls;
mod otlp_tls;
mod pipeline;
mod registry_health;
mod remediate;
mod rollout_ready;
mod runtime;
mod runtime_exec_arch;
mod runtime_live;
mod secrets;
mod signatures;
mod storm;
mod support;
mod telemetry;
mod trace_ci;
mod wait;
mod watcher;
mod webhook;
mod wording;
