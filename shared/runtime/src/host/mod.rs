//! Hosts: where a function runs. All call [`crate::executor::Executor`].

pub mod inprocess;
pub mod lambda;
pub mod nats;
