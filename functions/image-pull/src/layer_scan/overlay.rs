//! [`Search`]: layers merged top-down as an overlay filesystem would, whiteouts and opaque
//! directories hiding what lies below, links followed to the os-release file.

use std::collections::{BTreeMap, BTreeSet};

use super::{Entry, EntryTap, MAX_HOPS, MAX_WANTED, NoTap, OS_RELEASE_PATHS, TarScan, is_within};

/// Where the search stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Found: the file's bytes, its path, and the index of the layer holding it.
    Found {
        /// The file's path (after following links).
        path: String,
        /// Its bytes.
        bytes: Vec<u8>,
        /// Index into the layers as read (0 = top).
        layer: usize,
    },
    /// Lower layers may still decide.
    Pending,
    /// No os-release in the image.
    Absent,
}

/// The overlay merge of layers read top-down.
#[derive(Debug, Default)]
pub struct Search {
    /// Wanted paths decided by an upper layer, with the layer index.
    settled: BTreeMap<String, (Entry, usize)>,
    wanted: BTreeSet<String>,
    /// Whiteouts and opaque directories of every layer merged so far.
    whiteouts: BTreeSet<String>,
    opaque: BTreeSet<String>,
}

impl Search {
    /// A search for [`OS_RELEASE_PATHS`].
    pub fn new() -> Self {
        Self {
            wanted: OS_RELEASE_PATHS.iter().map(|p| (*p).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// A reader for the next layer down.
    pub fn scanner(&self) -> TarScan {
        TarScan::new(self.wanted.clone())
    }

    /// The answer if the layer being read (`current`, index `layer`) were cut off now. Its
    /// files and links count at once: nothing later in the same layer can change them.
    pub fn answer_with<T: EntryTap>(&self, current: Option<(&TarScan<T>, usize)>) -> Answer {
        self.resolve(current, false)
    }

    /// Merges a fully read layer (index `layer`) under the ones before it.
    pub fn merge<T: EntryTap>(&mut self, scan: &TarScan<T>, layer: usize) {
        for (path, entry) in &scan.found {
            if !self.settled.contains_key(path) && !self.hidden(path) {
                self.settled.insert(path.clone(), (entry.clone(), layer));
            }
        }
        for path in &scan.wanted {
            if self.wanted.len() < MAX_WANTED {
                self.wanted.insert(path.clone());
            }
        }
        // A layer's whiteouts hide only what lies below it, so they join after its files.
        self.whiteouts.extend(scan.whiteouts.iter().cloned());
        self.opaque.extend(scan.opaque.iter().cloned());
    }

    /// The final answer once every layer was merged.
    pub fn finish(&self) -> Answer {
        self.resolve::<NoTap>(None, true)
    }

    /// True when an upper layer deleted `path` (or a directory above it).
    fn hidden(&self, path: &str) -> bool {
        self.whiteouts.iter().any(|w| is_within(path, w))
            || self.opaque.iter().any(|d| path != d && is_within(path, d))
    }

    fn resolve<T: EntryTap>(&self, current: Option<(&TarScan<T>, usize)>, bottom: bool) -> Answer {
        'start: for start in OS_RELEASE_PATHS {
            let mut path = start.to_owned();
            for _ in 0..=MAX_HOPS {
                let entry = match self.settled.get(&path) {
                    Some((e, layer)) => Some((e.clone(), *layer)),
                    None if self.hidden(&path) => continue 'start,
                    None => current.and_then(|(scan, layer)| {
                        scan.found.get(&path).map(|e| (e.clone(), layer))
                    }),
                };
                match entry {
                    Some((Entry::File(bytes), layer)) => {
                        return Answer::Found { path, bytes, layer };
                    }
                    Some((Entry::Link(target), _)) => path = target,
                    None if bottom => continue 'start,
                    None => return Answer::Pending,
                }
            }
        }
        Answer::Absent
    }
}
