//! `go list -m -json all`: a stream of JSON objects, one per module of the build list
//! (`{"Path": …, "Version": …, "Replace": {…}, "Main": true, "Sum": …}`), read into the
//! same [`BuildInfo`] shape as a binary's so the two compare alike.

use serde::Deserialize;

use super::modinfo::{BuildInfo, Module};

/// The fields of `go list -m -json` used here (cmd/go's `modinfo.ModulePublic`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedModule {
    path: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    sum: Option<String>,
    #[serde(default)]
    main: bool,
    #[serde(default)]
    replace: Option<Box<ListedModule>>,
}

impl ListedModule {
    fn module(self) -> Module {
        let version = self.version.unwrap_or_else(|| "(devel)".into());
        Module {
            path: self.path,
            version,
            sum: self.sum,
            replace: self.replace.map(|r| Box::new(r.module())),
        }
    }
}

/// Why a `go list` stream could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not `go list -m -json` output: {0}")]
pub struct GoListError(#[from] serde_json::Error);

/// Reads `go list -m -json all` output. The module with `"Main": true` is the main module;
/// the others are dependencies, in the listed order.
pub fn parse(text: &str) -> Result<BuildInfo, GoListError> {
    let mut info = BuildInfo::default();
    for item in serde_json::Deserializer::from_str(text).into_iter::<ListedModule>() {
        let m = item?;
        if m.main {
            info.path = Some(m.path.clone());
            info.main = Some(m.module());
        } else {
            info.deps.push(m.module());
        }
    }
    Ok(info)
}

/// True when `text` starts like `go list -m -json` output.
pub fn looks_like_go_list(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with('{') && t.get(..200).unwrap_or(t).contains("\"Path\"")
}

#[cfg(test)]
mod tests;
