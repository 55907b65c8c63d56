//! Where an executable keeps its Go build information: ELF, Mach-O and PE headers read just
//! far enough to find the data region the Go linker writes it into, and to map virtual
//! addresses to file offsets (the pre-1.18 format stores pointers).
//!
//! Like Go's own `debug/buildinfo`: the `.go.buildinfo` section (ELF) or `__go_buildinfo`
//! (Mach-O) when section headers exist; otherwise the first writable, non-executable
//! segment (stripped ELF without section headers, Mach-O `__DATA`), or for PE the first
//! initialised, writable data section. Every table read is bounded by a count or byte cap,
//! so a crafted header cannot make this read much of a large file.

use super::ReadError;
use super::source::{Source, read_at};

/// Section or program headers read at most.
const MAX_HEADERS: u64 = 4096;
/// Bytes of a section-name string table read at most.
const MAX_NAMES: u64 = 1 << 20;
/// Bytes of Mach-O load commands read at most.
const MAX_LOAD_COMMANDS: u64 = 4 << 20;

/// A file-backed range of the address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Virtual address of its first byte.
    pub vaddr: u64,
    /// Its file offset.
    pub offset: u64,
    /// Bytes present in the file.
    pub filesz: u64,
}

/// What the headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// `ELF 64-bit LSB x86-64`, `Mach-O 64-bit arm64`, `PE32+ x86-64`.
    pub format: String,
    /// Where to search for the build information: virtual address and size.
    pub data: Option<(u64, u64)>,
    /// Address-to-file mapping.
    pub segments: Vec<Segment>,
}

impl Layout {
    /// The file offset of virtual address `addr` and the bytes available from there.
    pub fn file_range(&self, addr: u64) -> Option<(u64, u64)> {
        self.segments.iter().find_map(|s| {
            let delta = addr.checked_sub(s.vaddr)?;
            (delta < s.filesz).then(|| (s.offset + delta, s.filesz - delta))
        })
    }
}

/// Executable formats recognised by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Elf,
    MachO,
    Pe,
}

/// The executable format `head` (the first bytes of a file) starts, if any.
pub(crate) fn kind(head: &[u8]) -> Option<Kind> {
    match head.get(..4)? {
        [0x7f, b'E', b'L', b'F'] => Some(Kind::Elf),
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => Some(Kind::MachO),
        [b'M', b'Z', ..] => Some(Kind::Pe),
        _ => None,
    }
}

/// One line saying what a non-executable file starts like.
pub(crate) fn describe_other(head: &[u8]) -> String {
    match head {
        [] => "an empty file".into(),
        [0xca, 0xfe, 0xba, 0xbe, ..] => {
            "a universal (fat) Mach-O or a Java class file; extract one architecture with `lipo -thin`".into()
        }
        [0x1f, 0x8b, ..] => "gzip data".into(),
        [b'#', b'!', ..] => "a script".into(),
        h if h.iter().all(|&b| b == 0) => "all zero bytes".into(),
        h if std::str::from_utf8(h).is_ok() => "text".into(),
        h => format!(
            "unknown data starting {}",
            h.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// Reads the headers of the executable in `src`.
pub(crate) fn layout(src: &mut dyn Source, kind: Kind) -> Result<Layout, ReadError> {
    match kind {
        Kind::Elf => elf(src),
        Kind::MachO => macho(src),
        Kind::Pe => pe(src),
    }
}

/// Little- or big-endian field reads out of a header buffer; `None` past its end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub bytes: &'a [u8],
    pub big: bool,
}

impl Fields<'_> {
    pub fn u16(&self, at: usize) -> Option<u64> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(u64::from(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }))
    }
    pub fn u32(&self, at: usize) -> Option<u64> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(u64::from(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }))
    }
    pub fn u64(&self, at: usize) -> Option<u64> {
        let b: [u8; 8] = self.bytes.get(at..at + 8)?.try_into().ok()?;
        Some(if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }
    /// A 4- or 8-byte word.
    pub fn word(&self, at: usize, wide: bool) -> Option<u64> {
        if wide { self.u64(at) } else { self.u32(at) }
    }
}

fn malformed(format: &str, reason: impl Into<String>) -> ReadError {
    ReadError::Malformed {
        format: format.to_owned(),
        reason: reason.into(),
    }
}

fn elf(src: &mut dyn Source) -> Result<Layout, ReadError> {
    let head = read_at(src, 0, 64)?;
    let wide = match head.get(4) {
        Some(2) => true,
        Some(1) => false,
        _ => return Err(malformed("ELF", "unknown ELF class")),
    };
    let big = head.get(5) == Some(&2);
    let f = Fields { bytes: &head, big };
    let machine = match f.u16(18).unwrap_or(0) {
        0x3e => "x86-64",
        0xb7 => "aarch64",
        0x03 => "386",
        0x28 => "arm",
        0xf3 => "riscv",
        0x15 => "ppc64",
        0x16 => "s390x",
        0x08 => "mips",
        0x102 => "loongarch",
        _ => "unknown machine",
    };
    let format = format!(
        "ELF {}-bit {} {machine}",
        if wide { 64 } else { 32 },
        if big { "MSB" } else { "LSB" }
    );
    let bad = |why: &str| malformed(&format, why);
    let (phoff, phentsize, phnum, shoff, shentsize, shnum, shstrndx) = if wide {
        (
            f.u64(32),
            f.u16(54),
            f.u16(56),
            f.u64(40),
            f.u16(58),
            f.u16(60),
            f.u16(62),
        )
    } else {
        (
            f.u32(28),
            f.u16(42),
            f.u16(44),
            f.u32(32),
            f.u16(46),
            f.u16(48),
            f.u16(50),
        )
    };
    let (
        Some(phoff),
        Some(phentsize),
        Some(phnum),
        Some(shoff),
        Some(shentsize),
        Some(shnum),
        Some(shstrndx),
    ) = (phoff, phentsize, phnum, shoff, shentsize, shnum, shstrndx)
    else {
        return Err(bad("truncated ELF header"));
    };
    let mut segments = Vec::new();
    let mut writable = None;
    if phnum > 0 {
        let min = if wide { 56 } else { 32 };
        if phentsize < min {
            return Err(bad("program header entries too small"));
        }
        let table = read_at(src, phoff, phentsize * phnum.min(MAX_HEADERS))
            .map_err(|_| bad("program headers lie past the end of the file"))?;
        for ph in table.chunks_exact(usize::try_from(phentsize).unwrap_or(usize::MAX)) {
            let p = Fields { bytes: ph, big };
            let (kind, flags, offset, vaddr, filesz, memsz) = if wide {
                (
                    p.u32(0),
                    p.u32(4),
                    p.u64(8),
                    p.u64(16),
                    p.u64(32),
                    p.u64(40),
                )
            } else {
                (
                    p.u32(0),
                    p.u32(24),
                    p.u32(4),
                    p.u32(8),
                    p.u32(16),
                    p.u32(20),
                )
            };
            let (Some(1), Some(flags), Some(offset), Some(vaddr), Some(filesz), Some(memsz)) =
                (kind, flags, offset, vaddr, filesz, memsz)
            else {
                continue; // not PT_LOAD
            };
            segments.push(Segment {
                vaddr,
                offset,
                filesz,
            });
            // PF_X = 1, PF_W = 2: writable and not executable.
            if writable.is_none() && flags & 3 == 2 {
                writable = Some((vaddr, memsz));
            }
        }
    }
    let mut data = None;
    if shnum > 0 && shoff > 0 {
        let min = if wide { 64 } else { 40 };
        if shentsize < min {
            return Err(bad("section header entries too small"));
        }
        let table = read_at(src, shoff, shentsize * shnum.min(MAX_HEADERS))
            .map_err(|_| bad("section headers lie past the end of the file"))?;
        let entries: Vec<&[u8]> = table
            .chunks_exact(usize::try_from(shentsize).unwrap_or(usize::MAX))
            .collect();
        let section = |e: &[u8]| {
            let s = Fields { bytes: e, big };
            if wide {
                (s.u32(0), s.u64(16), s.u64(24), s.u64(32))
            } else {
                (s.u32(0), s.u32(12), s.u32(16), s.u32(20))
            }
        };
        let names = usize::try_from(shstrndx)
            .ok()
            .and_then(|i| entries.get(i))
            .and_then(|e| match section(e) {
                (_, _, Some(off), Some(size)) => read_at(src, off, size.min(MAX_NAMES)).ok(),
                _ => None,
            })
            .unwrap_or_default();
        for e in &entries {
            let (Some(name), Some(addr), Some(_), Some(size)) = section(e) else {
                continue;
            };
            let name = usize::try_from(name)
                .ok()
                .and_then(|n| names.get(n..))
                .map(|n| &n[..n.iter().position(|&b| b == 0).unwrap_or(n.len())]);
            if name == Some(b".go.buildinfo") {
                data = Some((addr, size));
                break;
            }
        }
    }
    Ok(Layout {
        format,
        data: data.or(writable),
        segments,
    })
}

fn macho(src: &mut dyn Source) -> Result<Layout, ReadError> {
    let head = read_at(src, 0, 32)?;
    let (wide, big) = match head.get(..4) {
        Some([0xfe, 0xed, 0xfa, 0xce]) => (false, true),
        Some([0xfe, 0xed, 0xfa, 0xcf]) => (true, true),
        Some([0xce, 0xfa, 0xed, 0xfe]) => (false, false),
        _ => (true, false),
    };
    let f = Fields { bytes: &head, big };
    let cpu = match f.u32(4).unwrap_or(0) {
        0x0100_0007 => "x86-64",
        0x0100_000c => "arm64",
        7 => "386",
        12 => "arm",
        _ => "unknown cpu",
    };
    let format = format!("Mach-O {}-bit {cpu}", if wide { 64 } else { 32 });
    let bad = |why: &str| malformed(&format, why);
    let (Some(ncmds), Some(sizeofcmds)) = (f.u32(16), f.u32(20)) else {
        return Err(bad("truncated Mach-O header"));
    };
    let start = if wide { 32 } else { 28 };
    let cmds = read_at(src, start, sizeofcmds.min(MAX_LOAD_COMMANDS))
        .map_err(|_| bad("load commands lie past the end of the file"))?;
    let mut segments = Vec::new();
    let mut section = None;
    let mut writable = None;
    let mut at = 0usize;
    for _ in 0..ncmds.min(MAX_HEADERS) {
        let c = Fields { bytes: &cmds, big };
        let (Some(cmd), Some(size)) = (c.u32(at), c.u32(at + 4)) else {
            break;
        };
        let size = usize::try_from(size).unwrap_or(0);
        if size < 8 {
            break;
        }
        let Some(body) = cmds.get(at..at + size) else {
            break;
        };
        let s = Fields { bytes: body, big };
        // LC_SEGMENT = 1, LC_SEGMENT_64 = 0x19.
        let seg = match (cmd, wide) {
            (0x19, true) => Some((
                s.u64(24),
                s.u64(32),
                s.u64(40),
                s.u64(48),
                s.u32(56),
                s.u32(60),
                s.u32(64),
                72,
                80,
            )),
            (0x1, false) => Some((
                s.u32(24),
                s.u32(28),
                s.u32(32),
                s.u32(36),
                s.u32(40),
                s.u32(44),
                s.u32(48),
                56,
                68,
            )),
            _ => None,
        };
        if let Some((
            Some(vmaddr),
            Some(vmsize),
            Some(fileoff),
            Some(filesize),
            Some(maxprot),
            Some(initprot),
            Some(nsects),
            header,
            entry,
        )) = seg
        {
            segments.push(Segment {
                vaddr: vmaddr,
                offset: fileoff,
                filesz: filesize,
            });
            if writable.is_none() && vmaddr != 0 && filesize != 0 && maxprot == 3 && initprot == 3 {
                writable = Some((vmaddr, vmsize));
            }
            for i in 0..usize::try_from(nsects.min(MAX_HEADERS)).unwrap_or(0) {
                let Some(sect) = body.get(header + i * entry..header + (i + 1) * entry) else {
                    break;
                };
                let name = &sect[..16];
                let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(16)];
                if name == b"__go_buildinfo" {
                    let t = Fields { bytes: sect, big };
                    if let (Some(addr), Some(sz)) =
                        (t.word(32, wide), t.word(if wide { 40 } else { 36 }, wide))
                    {
                        section = Some((addr, sz));
                    }
                }
            }
        }
        at += size;
    }
    Ok(Layout {
        format,
        data: section.or(writable),
        segments,
    })
}

fn pe(src: &mut dyn Source) -> Result<Layout, ReadError> {
    let dos = read_at(src, 0, 64).map_err(|_| malformed("PE", "truncated DOS header"))?;
    let lfanew = Fields {
        bytes: &dos,
        big: false,
    }
    .u32(0x3c)
    .ok_or_else(|| malformed("PE", "truncated DOS header"))?;
    let nt = read_at(src, lfanew, 24 + 112).map_err(|_| malformed("PE", "no PE header"))?;
    if nt.get(..4) != Some(b"PE\0\0") {
        return Err(ReadError::NotExecutable(
            "starts with MZ but has no PE header (a DOS program or other data)".into(),
        ));
    }
    let f = Fields {
        bytes: &nt,
        big: false,
    };
    let machine = match f.u16(4).unwrap_or(0) {
        0x8664 => "x86-64",
        0x14c => "386",
        0xaa64 => "arm64",
        0x1c4 => "arm",
        _ => "unknown machine",
    };
    let (Some(nsections), Some(opt_size), Some(magic)) = (f.u16(6), f.u16(20), f.u16(24)) else {
        return Err(malformed("PE", "truncated COFF header"));
    };
    let (kind, image_base) = match magic {
        0x20b => ("PE32+", f.u64(24 + 24)),
        0x10b => ("PE32", f.u32(24 + 28)),
        _ => return Err(malformed("PE", "unknown optional header magic")),
    };
    let format = format!("{kind} {machine}");
    let image_base = image_base.ok_or_else(|| malformed(&format, "truncated optional header"))?;
    let table = read_at(src, lfanew + 24 + opt_size, 40 * nsections.min(MAX_HEADERS))
        .map_err(|_| malformed(&format, "section table past the end of the file"))?;
    let mut segments = Vec::new();
    let mut data = None;
    for s in table.chunks_exact(40) {
        let t = Fields {
            bytes: s,
            big: false,
        };
        let (Some(vsize), Some(va), Some(raw_size), Some(raw_off), Some(ch)) =
            (t.u32(8), t.u32(12), t.u32(16), t.u32(20), t.u32(36))
        else {
            continue;
        };
        segments.push(Segment {
            vaddr: image_base + va,
            offset: raw_off,
            filesz: raw_size,
        });
        // IMAGE_SCN_CNT_INITIALIZED_DATA | MEM_READ | MEM_WRITE, any 32-byte alignment bit.
        if data.is_none() && va != 0 && vsize != 0 && ch & !0x0060_0000 == 0xc000_0040 {
            data = Some((image_base + va, vsize));
        }
    }
    Ok(Layout {
        format,
        data,
        segments,
    })
}
