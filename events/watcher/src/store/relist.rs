//! [`Relistable`]: a keyed set of objects that a relist can rebuild.

use std::collections::{BTreeMap, HashSet};

use kube::ResourceExt;
use serde_json::value::{RawValue, to_raw_value};

/// A keyed set of objects that can be rebuilt by a relist: objects not seen again during
/// a relist were deleted while the watch was down. Relists are scoped by namespace (one
/// watch per allowed namespace), `None` meaning every namespace.
#[derive(Debug)]
pub struct Relistable<T> {
    live: BTreeMap<String, T>,
    relisting: BTreeMap<Option<String>, HashSet<String>>,
    /// Bumped on every change, so derived views can be cached.
    version: u64,
}

impl<T> Default for Relistable<T> {
    fn default() -> Self {
        Self {
            live: BTreeMap::new(),
            relisting: BTreeMap::new(),
            version: 0,
        }
    }
}

fn in_scope(key: &str, scope: Option<&str>) -> bool {
    match scope {
        None => true,
        Some(ns) => key
            .strip_prefix(ns)
            .is_some_and(|rest| rest.starts_with('/')),
    }
}

impl<T> Relistable<T> {
    /// Adds `value` under `key`, replacing what was there, and counts it as seen by any
    /// relist in progress whose scope covers the key.
    pub fn apply(&mut self, key: String, value: T) {
        for (scope, seen) in &mut self.relisting {
            if in_scope(&key, scope.as_deref()) {
                seen.insert(key.clone());
            }
        }
        self.live.insert(key, value);
        self.version = self.version.wrapping_add(1);
    }
    /// Forgets `key` (the object was deleted); a no-op for a key not held.
    pub fn delete(&mut self, key: &str) {
        if self.live.remove(key).is_some() {
            self.version = self.version.wrapping_add(1);
        }
    }
    /// Changes so far; equal versions mean equal contents.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// A relist of `scope` starts.
    pub fn relist_start(&mut self, scope: Option<&str>) {
        self.relisting
            .insert(scope.map(str::to_owned), HashSet::new());
    }
    /// The relist of `scope` ended: what it did not list is gone. Returns the removed keys.
    pub fn relist_done(&mut self, scope: Option<&str>) -> Vec<String> {
        let Some(seen) = self.relisting.remove(&scope.map(str::to_owned)) else {
            return Vec::new();
        };
        let gone: Vec<String> = self
            .live
            .keys()
            .filter(|k| in_scope(k, scope) && !seen.contains(*k))
            .cloned()
            .collect();
        for k in &gone {
            self.live.remove(k);
        }
        if !gone.is_empty() {
            self.version = self.version.wrapping_add(1);
        }
        gone
    }
    /// The objects held, in key order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.live.values()
    }
    /// The object held under `key` (`namespace/name`, or `name` when cluster-scoped).
    pub fn get(&self, key: &str) -> Option<&T> {
        self.live.get(key)
    }
    /// The objects whose key starts with `prefix` (e.g. `namespace/`), in key order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a String, &'a T)> {
        self.live
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
    }
    /// True when some object lives in `namespace` (keys `namespace/…`).
    pub fn any_in(&self, namespace: &str) -> bool {
        self.with_prefix(&format!("{namespace}/")).next().is_some()
    }
    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.live.len()
    }
    /// True when no object is held.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

/// `namespace/name`, or `name` for cluster-scoped objects.
pub fn object_key<K: kube::Resource>(obj: &K) -> String {
    match obj.meta().namespace.as_deref() {
        Some(ns) => format!("{ns}/{}", obj.name_any()),
        None => obj.name_any(),
    }
}

impl Relistable<Box<RawValue>> {
    /// Adds or replaces `value`, held as its JSON; drops the key when it cannot be
    /// serialised.
    pub fn apply_json<T: serde::Serialize>(&mut self, key: String, value: &T) {
        match to_raw_value(value) {
            Ok(raw) => self.apply(key, raw),
            Err(e) => {
                tracing::warn!(object = %key, error = %e, "Could not keep an object.");
                self.delete(&key);
            }
        }
    }
}
