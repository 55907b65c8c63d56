//! One module per subcommand.

pub mod explain;
pub mod function;
pub mod gate;
pub mod image;
pub mod registry_probe;
pub mod replay;
pub mod watch;
pub mod webhook;
pub mod build;
// -- more modules: add one per line above this marker --
