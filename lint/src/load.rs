//! Reading manifests: YAML or JSON, one or many documents, `kind: List` expanded, each object
//! with the file and line it came from.
//!
//! JSON is YAML, so one parser (serde-saphyr, already in the workspace) reads both. Each
//! document is read as a [`serde_saphyr::Spanned`] value for its first line; the lines of
//! the objects inside a `List` and of containers are found in the document's own lines.

use std::sync::Arc;

use serde_json::Value;

/// The largest manifest input read (one file or stdin): `helm template` of a large chart is
/// a few MiB; anything far beyond is not a manifest set.
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;

/// Why a manifest input cannot be linted. Each renders as one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The input is over [`MAX_INPUT_BYTES`].
    #[error("{file}: {size} bytes is over the {limit}-byte limit for one manifest input")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: usize,
    },
    /// Not valid UTF-8 text.
    #[error("{file}: not UTF-8 text (a manifest is YAML or JSON)")]
    NotText {
        /// The file.
        file: String,
    },
    /// Not valid YAML or JSON.
    #[error("{file}: invalid YAML/JSON: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message, on one line.
        message: String,
    },
    /// A document that is not a Kubernetes object (no mapping, or no `apiVersion`/`kind`).
    #[error("{file}:{line}: not a Kubernetes object ({what})")]
    NotAnObject {
        /// The file.
        file: String,
        /// The document's line.
        line: usize,
        /// What is missing.
        what: &'static str,
    },
    /// A kind that does not exist in the API group it names (a typo, or a removed version).
    #[error("{file}:{line}: unknown kind `{kind}` in {api_version}")]
    UnknownKind {
        /// The file.
        file: String,
        /// The object's line.
        line: usize,
        /// Its apiVersion.
        api_version: String,
        /// Its kind.
        kind: String,
    },
}

/// One Kubernetes object read from a manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file it came from (`-` for stdin).
    pub file: Arc<str>,
    /// The 1-based line of the object (its document, or its entry in a `List`).
    pub line: usize,
    /// The object as JSON.
    pub value: Value,
    /// The lines of its document, 1-based `[first, last]`, and the source, for finding the
    /// line of a field inside it.
    span: (usize, usize),
    source: Arc<str>,
}

impl Manifest {
    /// A manifest not read from a file (an admission request): line 1, no source text.
    pub fn detached(file: &str, value: Value) -> Self {
        Self {
            file: file.into(),
            line: 1,
            value,
            span: (1, 1),
            source: "".into(),
        }
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// `metadata.namespace`, when set.
    pub fn namespace(&self) -> Option<&str> {
        self.value["metadata"]["namespace"]
            .as_str()
            .filter(|ns| !ns.is_empty())
    }

    /// The line of the first `name: <value>` (YAML or JSON) at or after the object's own
    /// line in its document; the object's line when there is none.
    pub fn line_of_name(&self, value: &str) -> usize {
        self.find_line(self.line, |l| names(l, value))
            .unwrap_or(self.line)
    }

    /// Like [`Manifest::line_of_name`], but only after the line of the key `key:` (the
    /// `initContainers` list, so a container named like its workload is found in the list).
    pub fn line_of_name_under(&self, key: &str, value: &str) -> usize {
        let quoted = format!("\"{key}\"");
        let from = self
            .find_line(self.line, |l| {
                let l = l.trim_start();
                l.starts_with(&format!("{key}:")) || l.starts_with(&quoted)
            })
            .unwrap_or(self.line);
        self.find_line(from, |l| names(l, value))
            .unwrap_or_else(|| self.line_of_name(value))
    }

    /// The first line at or after `from` within the object's document that matches.
    fn find_line(&self, from: usize, hit: impl Fn(&str) -> bool) -> Option<usize> {
        let (_, last) = self.span;
        self.source
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .take((last + 1).saturating_sub(from))
            .find(|(_, l)| hit(l))
            .map(|(i, _)| i + 1)
    }
}

/// True when `line` holds `name: value` (block or flow YAML, quoted or not, or JSON).
fn names(line: &str, value: &str) -> bool {
    line.match_indices("name").any(|(i, _)| {
        let before = line[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return false;
        }
        let rest = line[i + 4..]
            .trim_start_matches('"')
            .trim_start_matches('\'');
        let Some(rest) = rest.trim_start().strip_prefix(':') else {
            return false;
        };
        let rest = rest.trim_start();
        let rest = rest
            .strip_prefix('"')
            .or_else(|| rest.strip_prefix('\''))
            .unwrap_or(rest);
        rest.strip_prefix(value).is_some_and(|after| {
            after.is_empty() || after.starts_with(['"', '\'', ',', '}', ' ', '#'])
        })
    })
}

/// Reads every object in `text` (the contents of `file`).
pub fn parse(file: &str, text: &str) -> Result<Vec<Manifest>, LoadError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(LoadError::TooLarge {
            file: file.to_owned(),
            size: text.len() as u64,
            limit: MAX_INPUT_BYTES,
        });
    }
    let options = serde_saphyr::options! { with_snippet: false };
    let docs: Vec<serde_saphyr::Spanned<Value>> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| LoadError::Syntax {
            file: file.to_owned(),
            message: one_line(&e.to_string()),
        })?;
    let file: Arc<str> = file.into();
    let source: Arc<str> = text.into();
    let total = text.lines().count().max(1);
    let starts: Vec<usize> = docs
        .iter()
        .map(|d| usize::try_from(d.referenced.line()).unwrap_or(1).max(1))
        .collect();
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let line = starts[i];
        let last = starts
            .get(i + 1)
            .map_or(total, |next| next.saturating_sub(1));
        let whole = Manifest {
            file: file.clone(),
            line,
            value: doc.value,
            span: (line, last.max(line)),
            source: source.clone(),
        };
        expand(whole, &mut out)?;
    }
    Ok(out)
}

/// Checks `m` and pushes it, or each item of a `List`.
fn expand(m: Manifest, out: &mut Vec<Manifest>) -> Result<(), LoadError> {
    let not = |what| LoadError::NotAnObject {
        file: m.file.to_string(),
        line: m.line,
        what,
    };
    if m.value.is_null() {
        return Ok(());
    }
    if !m.value.is_object() {
        return Err(not("the document is not a mapping"));
    }
    let (Some(api_version), Some(kind)) = (
        m.value["apiVersion"].as_str().map(str::to_owned),
        m.value["kind"].as_str().map(str::to_owned),
    ) else {
        return Err(not("no apiVersion or kind"));
    };
    if kind == "List" || (kind.ends_with("List") && m.value["items"].is_array()) {
        let items = m.value["items"].as_array().cloned().unwrap_or_default();
        for item in items {
            let name = item["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let mut child = Manifest {
                value: item,
                ..m.clone()
            };
            child.line = m.line_of_name(&name);
            expand(child, out)?;
        }
        return Ok(());
    }
    if !crate::kinds::is_known(&api_version, &kind) {
        return Err(LoadError::UnknownKind {
            file: m.file.to_string(),
            line: m.line,
            api_version,
            kind,
        });
    }
    out.push(m);
    Ok(())
}

/// A multi-line parser message as one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
