//! Which nodes could run the pod, and what blocks each of the others.
//!
//! Unlike the scheduler, which stops at a node's first failing plugin, every check runs on
//! every node: "tolerate the taint *and* it would still not fit" is what decides the
//! smallest fix. Checks that depend on other pods (anti-affinity, topology spread) are
//! prepared once per pod, then each node costs a few map lookups.

mod block;
mod check;
mod group;
mod needs;
mod prepare;

pub use block::Block;
pub use check::{FitReport, NodeCheck, check_all};
pub use group::{NodeGroup, group};
pub use needs::PodNeeds;
