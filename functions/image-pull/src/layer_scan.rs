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
//!
//! The tar reader is in `reader`, the overlay merge in `overlay`; this module keeps what both
//! share (the entry model and path arithmetic).

mod overlay;
mod reader;

pub use overlay::{Answer, Search};
pub use reader::TarScan;

/// Where `os-release(5)` lives, in the order readers look.
pub const OS_RELEASE_PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];
/// Bytes kept of a wanted file (an os-release is a few hundred bytes).
const MAX_KEPT: u64 = 64 * 1024;
/// Bytes kept of a GNU long name or a PAX header.
const MAX_META: u64 = 64 * 1024;
/// Symlink hops followed.
const MAX_HOPS: usize = 8;
/// A tar block: headers and padded data come in these.
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
