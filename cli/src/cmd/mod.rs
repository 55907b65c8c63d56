//! One module per subcommand.

pub mod function;
pub mod replay;
// -- more modules: add one per line above this marker --
