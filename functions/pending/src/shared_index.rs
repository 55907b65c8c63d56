//! One index per shared snapshot. `explain` and `replay` hand every incident of a document
//! the same `Arc<ClusterSnapshot>` (one copy of the cluster state); indexing it once per
//! incident would cost incidents × objects (500 Pending Jobs against 5,000 running pods:
//! 2.5 million pod visits). The last snapshot's index is kept, owning an `Arc` of the
//! snapshot it borrows from, and reused while incidents keep arriving with that snapshot.
//! Only the newest is kept, so a long-running host holds at most one extra snapshot.

use std::sync::{Arc, Mutex};

use lastmile_events::ClusterSnapshot;
use yoke::Yoke;

use crate::index::SnapshotIndex;

/// An index together with the snapshot it borrows from.
pub type OwnedIndex = Yoke<SnapshotIndex<'static>, Arc<ClusterSnapshot>>;

/// A one-entry cache of indexes.
#[derive(Debug, Default)]
pub struct IndexCache(Mutex<Option<Arc<OwnedIndex>>>);

impl IndexCache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// The index of `snapshot`: the cached one when it was built for this same `Arc`,
    /// else a new one (which then replaces the cached one).
    pub fn index_for(&self, snapshot: &Arc<ClusterSnapshot>) -> Arc<OwnedIndex> {
        if let Ok(last) = self.0.lock()
            && let Some(cached) = last.as_ref()
            && Arc::ptr_eq(cached.backing_cart(), snapshot)
        {
            return Arc::clone(cached);
        }
        // Built outside the lock: other incidents are not held up by a big snapshot.
        let built = Arc::new(Yoke::attach_to_cart(Arc::clone(snapshot), |s| {
            SnapshotIndex::build(s)
        }));
        if let Ok(mut last) = self.0.lock() {
            *last = Some(Arc::clone(&built));
        }
        built
    }
}

static SHARED: IndexCache = IndexCache::new();

/// [`IndexCache::index_for`] on the process's cache.
pub fn index_for(snapshot: &Arc<ClusterSnapshot>) -> Arc<OwnedIndex> {
    SHARED.index_for(snapshot)
}

#[cfg(test)]
mod tests;
