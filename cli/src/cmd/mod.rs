//! One module per subcommand.

pub mod admission;
pub mod build;
pub mod ci;
pub mod dispatch;
pub mod explain;
pub mod function;
pub mod gate;
pub mod image;
pub mod lint;
pub mod registry_probe;
pub mod remediate;
pub mod replay;
pub mod watch;
pub mod webhook;
// -- more modules: add one per line above this marker --
