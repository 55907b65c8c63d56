//! One module per subcommand.

pub mod function;
pub mod replay;
pub mod image;
pub mod registry_probe;
pub mod explain;
pub mod gate;
pub mod watch;
pub mod webhook;
// -- more modules: add one per line above this marker --
