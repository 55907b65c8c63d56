//! Reading the build information the Go toolchain embeds in every binary it links
//! (`runtime/debug.BuildInfo`): the toolchain, the main module, every dependency with its
//! version and `h1:` sum, replacements, and the build settings.
//!
//! The linker writes a 32-byte header starting with the magic `\xff Go buildinf:` at a
//! 16-byte boundary near the start of the data region ([`exe`] finds that region in ELF,
//! Mach-O and PE files). Byte 14 is the pointer size, byte 15 flags: bit 1 says the two
//! strings (version, then `modinfo`) follow inline as varint-length-prefixed bytes (Go ≥
//! 1.18); otherwise two pointers follow, each to a Go string header `(data, len)` elsewhere
//! in the file (Go 1.13–1.17), with bit 0 saying big-endian. The `modinfo` string is framed
//! by 16-byte sentinels, removed here, and parsed by [`modinfo`].
//!
//! The design choice: all reads go through a bounded [`Source`], so a truncated, garbage or
//! huge file costs at most a few megabytes and never panics; the SHA-256 of a file is
//! streamed. [`stream`] finds the same information in a byte stream (files inside image
//! layers) without random access.

pub mod exe;
pub mod golist;
pub mod input;
pub mod layers;
pub mod modinfo;
pub mod registry;
pub mod source;
pub mod stream;

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use modinfo::{BuildInfo, Listing, Module, Setting};
pub use source::{SeekSource, SliceSource, Source};

use exe::{Fields, Layout};
use source::read_at;

/// The header's magic.
pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// Bytes of the data region searched for the header.
const SEARCH: u64 = 1 << 20;
/// Longest version or `modinfo` string read.
const MAX_STRING: u64 = 8 << 20;
/// Bytes read after the header on the first try (most `modinfo` strings are smaller).
const FIRST_TRY: usize = 64 * 1024;

/// Why a file's build information could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// Not an ELF, Mach-O or PE executable.
    #[error("not an executable (ELF, Mach-O or PE): {0}")]
    NotExecutable(String),
    /// An executable without Go build information.
    #[error(
        "{format} executable with no Go build information: not built by the Go toolchain, or built before Go 1.13"
    )]
    NotGo {
        /// What the executable is.
        format: String,
    },
    /// The headers or the build information make no sense.
    #[error("{format}: {reason}")]
    Malformed {
        /// What the executable is.
        format: String,
        /// What is wrong.
        reason: String,
    },
    /// The file ends before something it points at.
    #[error("truncated: {0}")]
    Truncated(String),
}

/// How the build information is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// Strings inline after the header (Go ≥ 1.18).
    Inline,
    /// Pointers to string headers (Go 1.13–1.17).
    Pointer,
}

/// A Go binary and what it records.
#[derive(Debug, Clone, Serialize)]
pub struct GoBinary {
    /// The file as named (a path, or `layer:path` inside an image).
    pub file: String,
    /// The executable format (`ELF 64-bit LSB x86-64`).
    pub format: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    /// How the information was stored.
    pub encoding: Encoding,
    /// What the binary records.
    pub info: BuildInfo,
}

/// Reads the Go build information of the executable at `path`, and its SHA-256.
pub fn read_file(path: &Path) -> Result<GoBinary, ReadError> {
    let file = std::fs::File::open(path)?;
    let mut src = SeekSource::new(file)?;
    let (format, encoding, info) = read(&mut src)?;
    let size = src.len();
    Ok(GoBinary {
        file: path.display().to_string(),
        format,
        size,
        sha256: sha256_file(path)?,
        encoding,
        info,
    })
}

/// Streams `path` through SHA-256 in 1 MiB reads.
pub fn sha256_file(path: &Path) -> Result<String, std::io::Error> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => hasher.update(&buf[..n]),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Reads the Go build information from `src`: the format, the encoding and what it records.
pub fn read(src: &mut dyn Source) -> Result<(String, Encoding, BuildInfo), ReadError> {
    let head_len = src.len().min(64);
    let head = read_at(src, 0, head_len)?;
    let Some(kind) = exe::kind(&head) else {
        return Err(ReadError::NotExecutable(exe::describe_other(&head)));
    };
    let layout = exe::layout(src, kind)?;
    let not_go = || ReadError::NotGo {
        format: layout.format.clone(),
    };
    let (addr, size) = layout.data.ok_or_else(not_go)?;
    let (offset, available) = layout.file_range(addr).ok_or_else(not_go)?;
    let window = read_at(src, offset, size.min(available).min(SEARCH))?;
    let at = window
        .chunks(16)
        .position(|c| c.len() >= MAGIC.len() && c.starts_with(MAGIC))
        .ok_or_else(not_go)?;
    let at = offset + at as u64 * 16;
    let (version, modinfo, encoding) = decode(src, &layout, at)?;
    if !version.starts_with("go") {
        return Err(ReadError::Malformed {
            format: layout.format,
            reason: format!("the recorded Go version {version:?} does not start with \"go\""),
        });
    }
    let mut info = BuildInfo::parse(&modinfo);
    info.go_version = Some(version);
    Ok((layout.format, encoding, info))
}

/// The inline strings after a header at the start of `bytes`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Inline {
    /// Both strings: the version and the raw `modinfo`.
    Done(String, String),
    /// At least this many bytes (from the header) are needed.
    Need(usize),
}

/// Decodes the inline format from `bytes` (header first).
pub(crate) fn inline(bytes: &[u8]) -> Result<Inline, String> {
    let mut pos = 32usize;
    let mut strings = Vec::with_capacity(2);
    for _ in 0..2 {
        let Some((len, used)) = uvarint(bytes.get(pos..).unwrap_or(&[])) else {
            return Ok(Inline::Need(pos + 10));
        };
        if len > MAX_STRING {
            return Err(format!("a build information string claims {len} bytes"));
        }
        let start = pos + used;
        let end = start + usize::try_from(len).unwrap_or(usize::MAX);
        let Some(s) = bytes.get(start..end) else {
            return Ok(Inline::Need(end));
        };
        strings.push(s);
        pos = end;
    }
    let modinfo = strings.pop().unwrap_or_default();
    let version = strings.pop().unwrap_or_default();
    Ok(Inline::Done(
        String::from_utf8_lossy(version).into_owned(),
        strip_sentinels(modinfo),
    ))
}

/// The header's pointer size and flags, checked.
fn header(bytes: &[u8]) -> Result<(u8, u8), String> {
    match (bytes.get(14), bytes.get(15)) {
        (Some(&p), Some(&f)) if p == 4 || p == 8 => Ok((p, f)),
        (Some(&p), Some(_)) => Err(format!(
            "the build information header claims pointers of {p} bytes"
        )),
        _ => Err("the build information header is cut off".into()),
    }
}

fn decode(
    src: &mut dyn Source,
    layout: &Layout,
    at: u64,
) -> Result<(String, String, Encoding), ReadError> {
    let bad = |reason: String| ReadError::Malformed {
        format: layout.format.clone(),
        reason,
    };
    let len = (FIRST_TRY as u64).min(src.len().saturating_sub(at));
    let first = read_at(src, at, len)?;
    let (ptr_size, flags) = header(&first).map_err(bad)?;
    if flags & 2 != 0 {
        let bytes = match inline(&first).map_err(bad)? {
            Inline::Done(v, m) => return Ok((v, m, Encoding::Inline)),
            Inline::Need(n) => read_at(src, at, n as u64)?,
        };
        // The lengths are known now, so the second read holds everything.
        return match inline(&bytes).map_err(bad)? {
            Inline::Done(v, m) => Ok((v, m, Encoding::Inline)),
            Inline::Need(_) => Err(ReadError::Truncated(
                "the build information strings are cut off".into(),
            )),
        };
    }
    let wide = ptr_size == 8;
    let big = flags & 1 != 0;
    let f = Fields { bytes: &first, big };
    let p = usize::from(ptr_size);
    let (Some(version_ptr), Some(mod_ptr)) = (f.word(16, wide), f.word(16 + p, wide)) else {
        return Err(ReadError::Truncated(
            "the build information header is cut off".into(),
        ));
    };
    let version = pointed_string(src, layout, version_ptr, wide, big)?;
    let modinfo = pointed_string(src, layout, mod_ptr, wide, big)?;
    Ok((
        String::from_utf8_lossy(&version).into_owned(),
        strip_sentinels(&modinfo),
        Encoding::Pointer,
    ))
}

/// The Go string whose header `(data, len)` is at virtual address `addr`.
fn pointed_string(
    src: &mut dyn Source,
    layout: &Layout,
    addr: u64,
    wide: bool,
    big: bool,
) -> Result<Vec<u8>, ReadError> {
    let missing = |what: &str| ReadError::Malformed {
        format: layout.format.clone(),
        reason: format!("the build information points at {what} outside the file"),
    };
    let word = if wide { 8 } else { 4 };
    let (off, avail) = layout
        .file_range(addr)
        .ok_or_else(|| missing("a string header"))?;
    if avail < 2 * word {
        return Err(missing("a string header"));
    }
    let hdr = read_at(src, off, 2 * word)?;
    let f = Fields { bytes: &hdr, big };
    let (Some(data), Some(len)) = (f.word(0, wide), f.word(word as usize, wide)) else {
        return Err(missing("a string header"));
    };
    if len == 0 {
        return Ok(Vec::new());
    }
    if len > MAX_STRING {
        return Err(ReadError::Malformed {
            format: layout.format.clone(),
            reason: format!("a build information string claims {len} bytes"),
        });
    }
    let (off, avail) = layout
        .file_range(data)
        .ok_or_else(|| missing("string data"))?;
    if avail < len {
        return Err(missing("string data"));
    }
    read_at(src, off, len)
}

/// Removes the 16-byte sentinels around `modinfo` (as `debug/buildinfo` does).
fn strip_sentinels(b: &[u8]) -> String {
    if b.len() >= 33 && b[b.len() - 17] == b'\n' {
        String::from_utf8_lossy(&b[16..b.len() - 16]).into_owned()
    } else {
        String::new()
    }
}

/// A protobuf/Go unsigned varint: the value and the bytes it used.
fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests;
