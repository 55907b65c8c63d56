//! The signature policy: which images must carry a cosign signature, and which keys may
//! have made it.
//!
//! A policy is a list of entries `PATTERN=KEY.pem`, matched against the image's normalised
//! name `registry/repository` (e.g. `docker.io/library/nginx`, `ghcr.io/acme/api`). In a
//! pattern, `*` matches within one path segment and `**` across segments; an entry without
//! `PATTERN=` applies to every image (`**`). An image that any entry matches must be signed by
//! one of the keys of the entries that match it (their union); other images are not checked.
//!
//! Parsing the entry list is pure; [`SignaturePolicy::load`] reads the key files, which only
//! hosts and the CLI do, once, at start-up.

use std::path::PathBuf;

use crate::cosign::{KeyError, TrustedKey};

/// One policy entry as written: a pattern and a key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySpec {
    /// Glob over `registry/repository`.
    pub pattern: String,
    /// PEM public key file.
    pub key_file: PathBuf,
}

/// A policy that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// An entry is empty or has an empty pattern or path.
    #[error("signature policy entry {entry:?} is not [PATTERN=]KEY.pem")]
    BadEntry {
        /// The entry as written.
        entry: String,
    },
    /// A key file could not be read.
    #[error("cannot read signature key {path}: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// A key file holds no usable key.
    #[error(transparent)]
    BadKey(#[from] KeyError),
}

/// Which images need signatures, by which keys.
#[derive(Debug, Clone, Default)]
pub struct SignaturePolicy {
    entries: Vec<(String, TrustedKey)>,
}

impl SignaturePolicy {
    /// A policy from (pattern, key) pairs.
    pub fn new(entries: Vec<(String, TrustedKey)>) -> Self {
        Self { entries }
    }

    /// Parses `[PATTERN=]KEY.pem` entries (comma-separated when several).
    pub fn parse_entries(text: &str) -> Result<Vec<EntrySpec>, PolicyError> {
        text.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(EntrySpec::parse)
            .collect()
    }

    /// Reads and parses every key file.
    pub fn load(specs: &[EntrySpec]) -> Result<Self, PolicyError> {
        let mut entries = Vec::new();
        for s in specs {
            let name = s.key_file.display().to_string();
            let pem =
                std::fs::read_to_string(&s.key_file).map_err(|e| PolicyError::Unreadable {
                    path: name.clone(),
                    reason: e.to_string(),
                })?;
            entries.push((s.pattern.clone(), TrustedKey::from_pem(&name, &pem)?));
        }
        Ok(Self { entries })
    }

    /// True when no image needs a signature.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `name` (`registry/repository`) must be signed, and by which keys.
    pub fn keys_for(&self, name: &str) -> Option<Vec<&TrustedKey>> {
        let keys: Vec<&TrustedKey> = self
            .entries
            .iter()
            .filter(|(p, _)| glob_match(p, name))
            .map(|(_, k)| k)
            .collect();
        (!keys.is_empty()).then_some(keys)
    }
}

impl EntrySpec {
    /// Parses one `[PATTERN=]KEY.pem` entry.
    pub fn parse(entry: &str) -> Result<Self, PolicyError> {
        let bad = || PolicyError::BadEntry {
            entry: entry.to_owned(),
        };
        let (pattern, path) = match entry.split_once('=') {
            Some((p, k)) => (p.trim(), k.trim()),
            None => ("**", entry.trim()),
        };
        if pattern.is_empty() || path.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            pattern: pattern.to_owned(),
            key_file: PathBuf::from(path),
        })
    }
}

/// Glob match: `*` within a segment, `**` across segments, everything else literal.
/// Dynamic programming over (pattern, name) positions: linear in their product, never
/// exponential whatever the pattern.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    // matches[i][j]: pattern[i..] matches name[j..].
    let mut matches = vec![vec![false; n.len() + 1]; p.len() + 2];
    matches[p.len()][n.len()] = true;
    for i in (0..p.len()).rev() {
        for j in (0..=n.len()).rev() {
            let next = n.get(j).copied();
            matches[i][j] = if p[i] == b'*' && p.get(i + 1) == Some(&b'*') {
                matches[i + 2][j] || (next.is_some() && matches[i][j + 1])
            } else if p[i] == b'*' {
                matches[i + 1][j] || (next.is_some_and(|c| c != b'/') && matches[i][j + 1])
            } else {
                next == Some(p[i]) && matches[i + 1][j + 1]
            };
        }
    }
    matches[0][0]
}

#[cfg(test)]
mod tests;
