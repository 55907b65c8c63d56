//! Finding `os-release` in an image's layers without a container runtime: pure logic over
//! bytes, fed as they arrive.
//!
//! [`TarScan`] is a push-mode tar reader (it implements [`std::io::Write`], so a
//! `flate2::write` decoder can stream into it): headers are parsed with the `tar` crate's
//! [`tar::Header`], entry data is skipped unless the entry is a path being looked for, and
//! nothing is kept but those few small files. Memory stays constant whatever the layer size.
//!
//! [`Search`] merges layers as an overlay filesystem would, top layer first: the first layer
//! that has a path decides it; a whiteout (`.wh.<name>`) or an opaque directory
//! (`.wh..wh..opq`) in a layer hides the path in every lower layer. It follows
//! `etc/os-release` (usually a symlink to `../usr/lib/os-release`) and, when that does not
//! exist, falls back to `usr/lib/os-release`, as `os-release(5)` says readers must.
//!
//! Other readers of layers (the build function's Go binary reader) attach an [`EntryTap`]
//! ([`TarScan::tapped`]): every regular file the scan does not keep is offered to it and,
//! when it accepts, streamed to it chunk by chunk, so whole executables are read with no
//! more memory than the tap itself holds.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// Where `os-release(5)` lives, in the order readers look.
pub const OS_RELEASE_PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];
/// Bytes kept of a wanted file (an os-release is a few hundred bytes).
const MAX_KEPT: u64 = 64 * 1024;
/// Bytes kept of a GNU long name or a PAX header.
const MAX_META: u64 = 64 * 1024;
/// Symlink hops followed.
const MAX_HOPS: usize = 8;
const BLOCK: usize = 512;
/// Larger entries are not a real layer's (and would overflow offsets).
const MAX_ENTRY: u64 = 1 << 40;
/// Whiteouts and opaque markers kept per layer; more makes the layer unreadable.
const MAX_WHITEOUTS: usize = 4096;
/// Paths followed at once (the os-release paths and the links between them).
const MAX_WANTED: usize = 32;

/// What a layer holds at a wanted path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file (its first `MAX_KEPT` bytes).
    File(Vec<u8>),
    /// A symbolic or hard link to this normalised path.
    Link(String),
}

/// Receives the regular files a [`TarScan`] passes over, streamed in order.
pub trait EntryTap {
    /// A regular file of `size` bytes at normalised `path` starts; `true` asks for its bytes.
    fn start(&mut self, path: &str, size: u64) -> bool;
    /// The next bytes of the file last accepted.
    fn data(&mut self, bytes: &[u8]);
    /// The file last accepted ended (every byte was given to [`EntryTap::data`]).
    fn end(&mut self);
}

/// The tap of a plain [`TarScan`]: accepts nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTap;

impl EntryTap for NoTap {
    fn start(&mut self, _path: &str, _size: u64) -> bool {
        false
    }
    fn data(&mut self, _bytes: &[u8]) {}
    fn end(&mut self) {}
}

#[derive(Debug)]
enum Meta {
    LongName,
    LongLink,
    Pax,
}

#[derive(Debug)]
enum State {
    /// Collecting a 512-byte header.
    Header,
    /// Skipping `remaining` bytes (data and padding).
    Skip(u64),
    /// Streaming `remaining` data bytes to the tap, then skipping `padding`.
    Stream { remaining: u64, padding: u64 },
    /// Keeping up to a limit of `remaining` data bytes, then skipping `padding`.
    Keep {
        target: Target,
        remaining: u64,
        padding: u64,
    },
    /// The end-of-archive block was read.
    End,
}

#[derive(Debug)]
enum Target {
    File(String),
    Meta(Meta),
}

/// A push-mode tar reader recording wanted paths, whiteouts and opaque directories, and
/// streaming other regular files to its tap `T`.
#[derive(Debug)]
pub struct TarScan<T: EntryTap = NoTap> {
    wanted: BTreeSet<String>,
    state: State,
    buf: Vec<u8>,
    long_name: Option<String>,
    long_link: Option<String>,
    pax_size: Option<u64>,
    /// Wanted paths found in this layer.
    pub found: BTreeMap<String, Entry>,
    /// Paths this layer deletes from lower layers (`.wh.<name>`).
    pub whiteouts: BTreeSet<String>,
    /// Directories whose lower-layer content this layer hides (`.wh..wh..opq`).
    pub opaque: BTreeSet<String>,
    /// Why the stream stopped making sense, if it did.
    pub error: Option<String>,
    /// Where other regular files are streamed.
    pub tap: T,
}

impl TarScan {
    /// A reader looking for `wanted` (normalised paths, no leading `/`).
    pub fn new(wanted: BTreeSet<String>) -> Self {
        TarScan::tapped(wanted, NoTap)
    }
}

impl<T: EntryTap> TarScan<T> {
    /// A reader looking for `wanted` that offers every other regular file to `tap`.
    pub fn tapped(wanted: BTreeSet<String>, tap: T) -> Self {
        Self {
            wanted,
            state: State::Header,
            buf: Vec::with_capacity(BLOCK),
            long_name: None,
            long_link: None,
            pax_size: None,
            found: BTreeMap::new(),
            whiteouts: BTreeSet::new(),
            opaque: BTreeSet::new(),
            error: None,
            tap,
        }
    }

    /// True once the end-of-archive block was read.
    pub fn ended(&self) -> bool {
        matches!(self.state, State::End)
    }

    /// Feeds decompressed tar bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.error.is_none() {
            match &mut self.state {
                State::End => return,
                State::Header => {
                    let take = (BLOCK - self.buf.len()).min(data.len());
                    self.buf.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.buf.len() == BLOCK {
                        let block = std::mem::take(&mut self.buf);
                        self.header(&block);
                    }
                }
                State::Skip(remaining) => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    *remaining -= take as u64;
                    data = &data[take..];
                    if *remaining == 0 {
                        self.state = State::Header;
                    }
                }
                State::Stream { remaining, padding } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    self.tap.data(&data[..take]);
                    *remaining -= take as u64;
                    data = &data[take..];
                    if *remaining == 0 {
                        self.state = if *padding > 0 {
                            State::Skip(*padding)
                        } else {
                            State::Header
                        };
                        self.tap.end();
                    }
                }
                State::Keep {
                    remaining,
                    padding,
                    target,
                } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    let limit = match target {
                        Target::File(_) => MAX_KEPT,
                        Target::Meta(_) => MAX_META,
                    };
                    let room = usize::try_from(limit.saturating_sub(self.buf.len() as u64))
                        .unwrap_or(0)
                        .min(take);
                    self.buf.extend_from_slice(&data[..room]);
                    *remaining -= take as u64;
                    data = &data[take..];
                    if *remaining == 0 {
                        let padding = *padding;
                        let State::Keep { target, .. } =
                            std::mem::replace(&mut self.state, State::Header)
                        else {
                            return;
                        };
                        let kept = std::mem::take(&mut self.buf);
                        self.kept(target, kept);
                        if padding > 0 {
                            self.state = State::Skip(padding);
                        }
                    }
                }
            }
        }
    }

    fn header(&mut self, block: &[u8]) {
        if block.iter().all(|&b| b == 0) {
            self.state = State::End;
            return;
        }
        let mut h = tar::Header::new_old();
        h.as_mut_bytes().copy_from_slice(block);
        let Ok(header_size) = h.entry_size() else {
            self.error = Some("a tar header with an unreadable size".into());
            return;
        };
        let kind = h.entry_type();
        let meta = kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink();
        let size = if meta {
            header_size
        } else {
            self.pax_size.take().unwrap_or(header_size)
        };
        if size > MAX_ENTRY {
            self.error = Some(format!(
                "a tar entry claims an implausible size ({size} bytes)"
            ));
            return;
        }
        let padding = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        let keep = |target| State::Keep {
            target,
            remaining: size,
            padding,
        };
        let skip = State::Skip(size + padding);
        if kind.is_gnu_longname() {
            self.state = keep(Target::Meta(Meta::LongName));
            return;
        }
        if kind.is_gnu_longlink() {
            self.state = keep(Target::Meta(Meta::LongLink));
            return;
        }
        if kind.is_pax_local_extensions() {
            self.state = keep(Target::Meta(Meta::Pax));
            return;
        }
        let path = self
            .long_name
            .take()
            .unwrap_or_else(|| String::from_utf8_lossy(&h.path_bytes()).into_owned());
        let link = self.long_link.take().or_else(|| {
            h.link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
        });
        self.state = if size == 0 { State::Header } else { skip };
        if kind.is_pax_global_extensions() {
            return;
        }
        let path = normalise(&path);
        if let Some((dir, base)) = split(&path)
            && let Some(hidden) = base.strip_prefix(".wh.")
        {
            if self.whiteouts.len() + self.opaque.len() >= MAX_WHITEOUTS {
                self.error = Some(format!("more than {MAX_WHITEOUTS} whiteouts in one layer"));
            } else if hidden == ".wh..opq" {
                self.opaque.insert(dir.to_owned());
            } else if !hidden.is_empty() {
                self.whiteouts.insert(join(dir, hidden));
            }
            return;
        }
        if !self.wanted.contains(&path) {
            if (kind.is_file() || kind.is_contiguous()) && size > 0 && self.tap.start(&path, size) {
                self.state = State::Stream {
                    remaining: size,
                    padding,
                };
            }
            return;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            let target = link.unwrap_or_default();
            // Symlinks are relative to their directory; hard links name an archive path.
            let resolved = if kind.is_symlink() {
                resolve_link(split(&path).map_or("", |(d, _)| d), &target)
            } else {
                normalise(&target)
            };
            if self.wanted.len() < MAX_WANTED {
                self.wanted.insert(resolved.clone());
            }
            self.found.insert(path, Entry::Link(resolved));
        } else if kind.is_file() || kind.is_contiguous() {
            if size == 0 {
                self.found.insert(path, Entry::File(Vec::new()));
            } else {
                self.state = keep(Target::File(path));
            }
        }
    }

    fn kept(&mut self, target: Target, bytes: Vec<u8>) {
        match target {
            Target::File(path) => {
                self.found.insert(path, Entry::File(bytes));
            }
            Target::Meta(Meta::LongName) => self.long_name = Some(c_string(&bytes)),
            Target::Meta(Meta::LongLink) => self.long_link = Some(c_string(&bytes)),
            Target::Meta(Meta::Pax) => {
                for ext in tar::PaxExtensions::new(&bytes).flatten() {
                    let value = String::from_utf8_lossy(ext.value_bytes()).into_owned();
                    match ext.key_bytes() {
                        b"path" => self.long_name = Some(value),
                        b"linkpath" => self.long_link = Some(value),
                        b"size" => self.pax_size = value.trim().parse().ok(),
                        _ => {}
                    }
                }
            }
        }
    }
}

impl<T: EntryTap> Write for TarScan<T> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.feed(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `./etc//os-release/` → `etc/os-release`; `..` pops, never above the root.
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn split(path: &str) -> Option<(&str, &str)> {
    match path.rsplit_once('/') {
        Some((d, b)) => Some((d, b)),
        None if !path.is_empty() => Some(("", path)),
        None => None,
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// A symlink `target` found in directory `dir`, as a path from the image root.
fn resolve_link(dir: &str, target: &str) -> String {
    if target.starts_with('/') {
        normalise(target)
    } else {
        normalise(&join(dir, target))
    }
}

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

/// True when `path` is `dir` itself or inside it.
fn is_within(path: &str, dir: &str) -> bool {
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests;
