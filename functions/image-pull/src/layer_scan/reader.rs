//! [`TarScan`]: the push-mode tar reader (headers through the `tar` crate, data skipped,
//! kept or streamed to the tap as each entry asks).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::{
    BLOCK, Entry, EntryTap, MAX_ENTRY, MAX_KEPT, MAX_META, MAX_WANTED, MAX_WHITEOUTS, NoTap, join,
    normalise, resolve_link, split,
};

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
    /// Paths looked for, grown by the links found at them (read by the overlay merge).
    pub(super) wanted: BTreeSet<String>,
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
