//! Function settings: the configuration a host hands to functions through [`crate::Context`].
//!
//! A function is a `const` with a plain fn pointer, so it cannot be constructed with its own
//! configuration. Hosts instead read `LASTMILE_*` environment variables once at start-up into
//! [`Settings`] ([`Settings::from_env`]); a function reads the values it documents with
//! [`Settings::get`]. Configuration that needs work to load (files to read, keys to parse)
//! is parsed once by the host, which fails at start-up on a bad value, and stored as a typed
//! extension ([`Settings::insert`]); the function then reads it with [`Settings::extension`]
//! and never touches the file system itself.
//!
//! The contract stays free of function-specific types: extensions are keyed by their Rust
//! type, and values are plain strings. Variables whose names look secret (`SECRET`, `TOKEN`,
//! `PASSWORD`, `CREDENTIAL`) are never copied, and `Debug` shows variable names only.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The prefix of the environment variables copied into [`Settings`].
pub const ENV_PREFIX: &str = "LASTMILE_";

/// Name fragments of variables that are never copied (they hold secrets meant for hosts).
const SECRET_NAME_PARTS: &[&str] = &["SECRET", "TOKEN", "PASSWORD", "CREDENTIAL"];

/// Configuration for functions: `LASTMILE_*` values plus typed extensions parsed by the host.
#[derive(Clone, Default)]
pub struct Settings {
    values: BTreeMap<String, String>,
    extensions: BTreeMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Settings {
    /// No settings: every function uses its documented defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `LASTMILE_*` variables among `vars`, secret-looking names left out.
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let values = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, _)| {
                k.starts_with(ENV_PREFIX) && !SECRET_NAME_PARTS.iter().any(|s| k.contains(s))
            })
            .collect();
        Self {
            values,
            extensions: BTreeMap::new(),
        }
    }

    /// The process environment's `LASTMILE_*` variables (non-UTF-8 values are skipped).
    pub fn from_env() -> Self {
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// Sets one value (tests, flags that override the environment).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.values.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The value of `name` (e.g. `LASTMILE_BASE_OS_MAX_BYTES`), trimmed; `None` when unset or
    /// blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Stores a typed extension (one per type), replacing any earlier one.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.extensions.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The extension of type `T`, when the host stored one.
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.extensions
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .field("extensions", &self.extensions.len())
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
