//! The cluster watcher: turns what Kubernetes shows into incidents worth diagnosing.
//!
//! The main design choice is a split between a **pure incident tracker**
//! ([`incidents::Tracker`]: observations in, incidents out, no I/O, unit-tested with recorded
//! objects) and a thin **watch loop** ([`watch`]) that feeds it from kube-rs watchers and
//! hands its output to a bounded, retrying [`outbox::Outbox`] in front of any
//! [`lastmile_runtime::bus::Publisher`]. Nothing is cached that diagnosis does not need:
//! objects are trimmed ([`trim`]), Events are kept only while they are recent and relevant,
//! and cluster state for the functions is kept in reduced form ([`store::ClusterStore`]).

pub mod ci;
pub mod correlate;
pub mod incidents;
pub mod init_trace;
pub mod live;
pub mod outbox;
pub mod runtime;
pub mod store;
pub mod trim;
pub mod watch;

pub use ci::CiConsumer;
pub use incidents::{Tracker, TrackerConfig};
pub use outbox::{Outbox, OutboxConfig};
pub use watch::{EventApi, WatchConfig, run};
