//! End-to-end tests across crates, against real servers started by `lastmile_e2e`'s
//! harnesses (one test binary: link time hurts with this many dependencies).

#![allow(clippy::unwrap_used)]

mod watcher;
mod bus;
mod host;
mod evidence;
mod image_pull;
mod telemetry;
mod lambda;
mod pipeline;
mod webhook;
mod gate;
mod cli;
mod infra;
mod storm;
