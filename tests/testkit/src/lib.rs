//! Harnesses that start the real servers lastmile's tests run against.
//!
//! Each harness starts its own instance on a free loopback port in a temp dir and stops it
//! on `Drop` (the pattern of nats.rs's test harness), so tests never share state and never
//! depend on a service left running on the machine.

pub mod bin;
pub mod tools;

pub mod apiserver;
pub mod cpu;
pub mod files;
pub mod gobuild;
pub mod lambda_api;
pub mod lambda_invoke;
pub mod nats;
pub mod otlp;
pub mod registry;
pub mod s3;
