//! The static table of functions every host can run. No plugin magic: add a line here.

use lastmile_contract::Function;

/// Every function lastmile ships, by name.
pub static FUNCTIONS: &[Function] = &[
    lastmile_fn_pending::FUNCTION,
    lastmile_fn_image_pull::FUNCTION,
    lastmile_fn_workload::FUNCTION,
    lastmile_fn_build::FUNCTION,
    lastmile_fn_runtime::FUNCTION,
    lastmile_fn_wording::FUNCTION,
    // -- more functions: add one per line above this marker --
];

/// Looks a function up by name.
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.spec.name == name)
}

/// The names, for error messages and `--help`.
pub fn names() -> Vec<&'static str> {
    FUNCTIONS.iter().map(|f| f.spec.name).collect()
}
