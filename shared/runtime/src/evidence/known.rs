//! Objects a store is known to hold, remembered by this process so a bundle whose objects
//! were written (or seen) a moment ago skips the existence check (a `stat` for the local
//! store, a `HeadObject` round trip for S3).
//!
//! Objects are content-addressed, so a key seen once names the same bytes for ever; the
//! only way a remembered key goes stale is the object being deleted behind the process's
//! back (a lifecycle rule, an operator). Memory and staleness are both bounded: the set is
//! forgotten as a whole once it holds [`CAPACITY`] keys or is older than [`LIFETIME`], after
//! which keys are checked against the store again.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Keys remembered at most (a key is ~80 bytes: about 2 MiB at most).
pub(crate) const CAPACITY: usize = 16 * 1024;
/// How long a generation of keys is trusted before every key is checked again.
pub(crate) const LIFETIME: Duration = Duration::from_secs(300);

/// A bounded set of object keys known to exist in one store.
#[derive(Debug)]
pub(crate) struct KnownObjects {
    generation: Mutex<Generation>,
    capacity: usize,
    lifetime: Duration,
}

#[derive(Debug)]
struct Generation {
    keys: HashSet<String>,
    since: Instant,
}

impl Generation {
    /// Starts over: no key is known.
    fn forget(&mut self) {
        self.keys.clear();
        self.since = Instant::now();
    }
}

impl Default for KnownObjects {
    fn default() -> Self {
        Self::with_bounds(CAPACITY, LIFETIME)
    }
}

impl KnownObjects {
    /// A set forgotten at `capacity` keys or after `lifetime`, whichever comes first.
    pub(crate) fn with_bounds(capacity: usize, lifetime: Duration) -> Self {
        Self {
            generation: Mutex::new(Generation {
                keys: HashSet::new(),
                since: Instant::now(),
            }),
            capacity: capacity.max(1),
            lifetime,
        }
    }

    /// True when `key` was remembered in the current generation.
    pub(crate) fn contains(&self, key: &str) -> bool {
        let generation = self.lock();
        generation.since.elapsed() < self.lifetime && generation.keys.contains(key)
    }

    /// The blobs of `objects` not remembered: the ones a bundle still has to check or write.
    pub(crate) fn unknown(&self, objects: Vec<super::Blob>) -> Vec<super::Blob> {
        objects
            .into_iter()
            .filter(|o| !self.contains(&o.key))
            .collect()
    }

    /// Remembers `keys` (they exist in the store now), starting a new generation first when
    /// the current one is full or too old.
    pub(crate) fn insert_all<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let mut generation = self.lock();
        if generation.since.elapsed() >= self.lifetime {
            generation.forget();
        }
        for key in keys {
            if generation.keys.contains(key) {
                continue;
            }
            if generation.keys.len() >= self.capacity {
                generation.forget();
            }
            generation.keys.insert(key.to_owned());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generation> {
        // The set holds no invariant a panicking holder could break.
        self.generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests;
