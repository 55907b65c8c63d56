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
mod tests {
    use super::*;

    #[test]
    fn a_go_list_stream_with_a_replacement() {
        let text = r#"{
	"Path": "example.com/app",
	"Main": true,
	"Dir": "/src/app",
	"GoMod": "/src/app/go.mod",
	"GoVersion": "1.19"
}
{
	"Path": "example.com/greet",
	"Version": "v1.1.0",
	"Replace": {
		"Path": "../greet-v1.1.0",
		"Dir": "/src/greet-v1.1.0",
		"GoMod": "/src/greet-v1.1.0/go.mod",
		"GoVersion": "1.19"
	},
	"Dir": "/src/greet-v1.1.0",
	"GoMod": "/src/greet-v1.1.0/go.mod",
	"GoVersion": "1.19"
}
{
	"Path": "golang.org/x/text",
	"Version": "v0.3.7",
	"Time": "2021-08-13T16:37:28Z",
	"Indirect": true,
	"Sum": "h1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=",
	"GoModSum": "h1:9h8Ujou8fOsVw8bFy5kZXLN0eWxYpWm8H5FXYhAPjPM="
}
"#;
        assert!(looks_like_go_list(text));
        let info = parse(text).unwrap();
        assert_eq!(info.path.as_deref(), Some("example.com/app"));
        assert_eq!(info.deps.len(), 2);
        assert_eq!(
            info.deps[0].display(),
            "example.com/greet@v1.1.0 => ../greet-v1.1.0"
        );
        assert!(info.deps[1].sum.as_deref().unwrap().starts_with("h1:olpw"));
        assert!(parse("{\"Path\": 3}").is_err());
    }
}
