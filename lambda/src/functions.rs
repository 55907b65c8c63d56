//! The functions compiled into this binary (one cargo feature each), and which one to host.

use lastmile_contract::Function;

/// The functions this build links, in feature order. Usually exactly one.
pub static FUNCTIONS: &[Function] = &[
    #[cfg(feature = "pending")]
    lastmile_fn_pending::FUNCTION,
    #[cfg(feature = "image-pull")]
    lastmile_fn_image_pull::FUNCTION,
    #[cfg(feature = "workload")]
    lastmile_fn_workload::FUNCTION,
    #[cfg(feature = "runtime")]
    lastmile_fn_runtime::FUNCTION,
    #[cfg(feature = "build")]
    lastmile_fn_build::FUNCTION,
    #[cfg(feature = "wording")]
    lastmile_fn_wording::FUNCTION,
];

/// Every function a build can link, by feature name (= function name).
pub const FEATURES: &[&str] = &[
    "pending",
    "image-pull",
    "workload",
    "runtime",
    "build",
    "wording",
];

/// The function to host: the one requested (`LASTMILE_FUNCTION`), or the only one linked.
pub fn select(requested: Option<&str>) -> Result<Function, SelectError> {
    let names: Vec<&str> = FUNCTIONS.iter().map(|f| f.spec.name).collect();
    pick(&names, requested).map(|i| FUNCTIONS[i])
}

/// Why no function can be hosted by this binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// The binary was built with no function feature.
    NoneLinked,
    /// `LASTMILE_FUNCTION` names a function this binary does not link.
    NotLinked {
        /// The requested function name.
        requested: String,
        /// The linked function names, comma-separated.
        linked: String,
    },
    /// Several functions are linked and none was requested.
    Ambiguous {
        /// The linked function names, comma-separated.
        linked: String,
    },
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoneLinked => write!(
                f,
                "this binary was built without a function: build it with one of --features {}",
                FEATURES.join(", --features ")
            ),
            Self::NotLinked { requested, linked } => write!(
                f,
                "LASTMILE_FUNCTION={requested:?}, but this binary hosts only {linked} (build it with --features {requested})"
            ),
            Self::Ambiguous { linked } => write!(
                f,
                "this binary hosts several functions ({linked}): set LASTMILE_FUNCTION to one"
            ),
        }
    }
}

impl std::error::Error for SelectError {}

/// Index of the function to host among `linked`, or why none can be.
fn pick(linked: &[&str], requested: Option<&str>) -> Result<usize, SelectError> {
    let requested = requested.map(str::trim).filter(|r| !r.is_empty());
    match (requested, linked) {
        (_, []) => Err(SelectError::NoneLinked),
        (Some(name), _) => {
            linked
                .iter()
                .position(|l| *l == name)
                .ok_or_else(|| SelectError::NotLinked {
                    requested: name.to_owned(),
                    linked: linked.join(", "),
                })
        }
        (None, [_]) => Ok(0),
        (None, _) => Err(SelectError::Ambiguous {
            linked: linked.join(", "),
        }),
    }
}

#[cfg(test)]
mod tests;
