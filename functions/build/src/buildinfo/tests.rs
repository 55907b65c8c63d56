//! Synthetic executables in each container format, laid out as the Go linker lays them out,
//! to pin the format readers; the end-to-end tests read real Go binaries.

use proptest::prelude::*;

use super::stream::{StreamReader, Streamed};
use super::*;

const MODINFO: &str = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\texample.com/greet\tv1.1.0\th1:abc=\nbuild\t-trimpath=true\nbuild\tGOOS=linux\n";

fn framed(modinfo: &str) -> Vec<u8> {
    let mut m = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
    m.extend_from_slice(modinfo.as_bytes());
    m.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
    m
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The inline (Go ≥ 1.18) blob.
fn inline_blob(version: &str, modinfo: &str) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&[8, 2]);
    b.resize(32, 0);
    let m = framed(modinfo);
    varint(version.len(), &mut b);
    b.extend_from_slice(version.as_bytes());
    varint(m.len(), &mut b);
    b.extend_from_slice(&m);
    b
}

/// The pointer (Go 1.13–1.17) blob at `base`, with its strings after it.
fn pointer_blob(base: u64, version: &str, modinfo: &str) -> Vec<u8> {
    let m = framed(modinfo);
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&[8, 0]);
    b.extend_from_slice(&(base + 0x100).to_le_bytes());
    b.extend_from_slice(&(base + 0x110).to_le_bytes());
    b.resize(0x100, 0);
    b.extend_from_slice(&(base + 0x200).to_le_bytes());
    b.extend_from_slice(&(version.len() as u64).to_le_bytes());
    b.extend_from_slice(&(base + 0x300).to_le_bytes());
    b.extend_from_slice(&(m.len() as u64).to_le_bytes());
    b.resize(0x200, 0);
    b.extend_from_slice(version.as_bytes());
    b.resize(0x300, 0);
    b.extend_from_slice(&m);
    b
}

fn put(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    if buf.len() < at + bytes.len() {
        buf.resize(at + bytes.len(), 0);
    }
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

const VADDR: u64 = 0x40_1000;

/// An ELF64 executable: one writable PT_LOAD at file 0x1000 holding `blob`, and (when
/// `sections`) a `.go.buildinfo` section over it.
fn elf(blob: &[u8], sections: bool) -> Vec<u8> {
    let mut f = vec![0u8; 64];
    put(&mut f, 0, b"\x7fELF\x02\x01\x01");
    put(&mut f, 16, &2u16.to_le_bytes());
    put(&mut f, 18, &0x3eu16.to_le_bytes());
    put(&mut f, 32, &64u64.to_le_bytes());
    put(&mut f, 54, &56u16.to_le_bytes());
    put(&mut f, 56, &1u16.to_le_bytes());
    // PT_LOAD, PF_R|PF_W
    put(&mut f, 64, &1u32.to_le_bytes());
    put(&mut f, 68, &6u32.to_le_bytes());
    put(&mut f, 72, &0x1000u64.to_le_bytes());
    put(&mut f, 80, &VADDR.to_le_bytes());
    put(&mut f, 96, &0x1000u64.to_le_bytes());
    put(&mut f, 104, &0x1000u64.to_le_bytes());
    put(&mut f, 0x1000, blob);
    f.resize(0x2000, 0);
    if sections {
        let names = b"\0.go.buildinfo\0.shstrtab\0";
        put(&mut f, 0x2000, names);
        let shoff = 0x2100usize;
        put(&mut f, 40, &(shoff as u64).to_le_bytes());
        put(&mut f, 58, &64u16.to_le_bytes());
        put(&mut f, 60, &3u16.to_le_bytes());
        put(&mut f, 62, &2u16.to_le_bytes());
        let sh = |name: u32, addr: u64, off: u64, size: u64| {
            let mut s = vec![0u8; 64];
            put(&mut s, 0, &name.to_le_bytes());
            put(&mut s, 16, &addr.to_le_bytes());
            put(&mut s, 24, &off.to_le_bytes());
            put(&mut s, 32, &size.to_le_bytes());
            s
        };
        put(&mut f, shoff, &[0u8; 64]);
        put(&mut f, shoff + 64, &sh(1, VADDR, 0x1000, 0x1000));
        put(&mut f, shoff + 128, &sh(15, 0, 0x2000, names.len() as u64));
    }
    f
}

fn macho(blob: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 32];
    put(&mut f, 0, &[0xcf, 0xfa, 0xed, 0xfe]);
    put(&mut f, 4, &0x0100_000cu32.to_le_bytes());
    put(&mut f, 16, &1u32.to_le_bytes());
    put(&mut f, 20, &152u32.to_le_bytes());
    let mut seg = vec![0u8; 152];
    put(&mut seg, 0, &0x19u32.to_le_bytes());
    put(&mut seg, 4, &152u32.to_le_bytes());
    put(&mut seg, 8, b"__DATA");
    put(&mut seg, 24, &0x1_0000_1000u64.to_le_bytes());
    put(&mut seg, 32, &0x1000u64.to_le_bytes());
    put(&mut seg, 40, &0x1000u64.to_le_bytes());
    put(&mut seg, 48, &0x1000u64.to_le_bytes());
    put(&mut seg, 56, &3u32.to_le_bytes());
    put(&mut seg, 60, &3u32.to_le_bytes());
    put(&mut seg, 64, &1u32.to_le_bytes());
    put(&mut seg, 72, b"__go_buildinfo");
    put(&mut seg, 88, b"__DATA");
    put(&mut seg, 104, &0x1_0000_1000u64.to_le_bytes());
    put(&mut seg, 112, &0x1000u64.to_le_bytes());
    put(&mut seg, 120, &0x1000u32.to_le_bytes());
    put(&mut f, 32, &seg);
    put(&mut f, 0x1000, blob);
    f.resize(0x2000, 0);
    f
}

fn pe(blob: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 0x80];
    put(&mut f, 0, b"MZ");
    put(&mut f, 0x3c, &0x80u32.to_le_bytes());
    put(&mut f, 0x80, b"PE\0\0");
    put(&mut f, 0x84, &0x8664u16.to_le_bytes());
    put(&mut f, 0x86, &1u16.to_le_bytes());
    put(&mut f, 0x94, &240u16.to_le_bytes());
    put(&mut f, 0x98, &0x20bu16.to_le_bytes());
    put(&mut f, 0x98 + 24, &0x1_4000_0000u64.to_le_bytes());
    let sec = 0x98 + 240;
    put(&mut f, sec, b".data\0\0\0");
    put(&mut f, sec + 8, &0x1000u32.to_le_bytes());
    put(&mut f, sec + 12, &0x1000u32.to_le_bytes());
    put(&mut f, sec + 16, &0x1000u32.to_le_bytes());
    put(&mut f, sec + 20, &0x1000u32.to_le_bytes());
    put(&mut f, sec + 36, &0xc000_0040u32.to_le_bytes());
    put(&mut f, 0x1000, blob);
    f.resize(0x2000, 0);
    f
}

fn read_bytes(b: &[u8]) -> Result<(String, Encoding, BuildInfo), ReadError> {
    read(&mut SliceSource(b))
}

#[test]
fn inline_build_info_in_elf_macho_and_pe() {
    let blob = inline_blob("go1.22.1", MODINFO);
    for (file, format) in [
        (elf(&blob, true), "ELF 64-bit LSB x86-64"),
        (elf(&blob, false), "ELF 64-bit LSB x86-64"),
        (macho(&blob), "Mach-O 64-bit arm64"),
        (pe(&blob), "PE32+ x86-64"),
    ] {
        let (f, enc, info) = read_bytes(&file).unwrap();
        assert_eq!((f.as_str(), enc), (format, Encoding::Inline));
        assert_eq!(info.go_version.as_deref(), Some("go1.22.1"));
        assert_eq!(
            info.dep("example.com/greet").unwrap().sum.as_deref(),
            Some("h1:abc=")
        );
        assert_eq!(info.setting("-trimpath"), Some("true"));
    }
}

#[test]
fn pointer_format_of_go_before_1_18() {
    let file = elf(&pointer_blob(VADDR, "go1.16.15", MODINFO), true);
    let (_, enc, info) = read_bytes(&file).unwrap();
    assert_eq!(enc, Encoding::Pointer);
    assert_eq!(info.go_version.as_deref(), Some("go1.16.15"));
    assert_eq!(info.path.as_deref(), Some("example.com/app"));
    // A stream cannot follow pointers, and says so.
    let mut s = StreamReader::new("app", file.len() as u64);
    s.feed(&file);
    assert!(
        matches!(s.finish(), Streamed::Unreadable { reason, .. } if reason.contains("pointer format"))
    );
}

#[test]
fn executables_without_go_build_info_and_other_files() {
    let plain = elf(&[0u8; 64], true);
    assert!(
        matches!(read_bytes(&plain), Err(ReadError::NotGo { format }) if format == "ELF 64-bit LSB x86-64")
    );
    assert!(
        matches!(read_bytes(b"#!/bin/sh\necho hi\n"), Err(ReadError::NotExecutable(w)) if w == "a script")
    );
    assert!(matches!(read_bytes(b""), Err(ReadError::NotExecutable(w)) if w == "an empty file"));
    assert!(
        matches!(read_bytes(&[0u8; 100]), Err(ReadError::NotExecutable(w)) if w == "all zero bytes")
    );
    let mut bad_ptr = inline_blob("go1.22.1", MODINFO);
    bad_ptr[14] = 3;
    assert!(matches!(
        read_bytes(&elf(&bad_ptr, true)),
        Err(ReadError::Malformed { .. })
    ));
}

#[test]
fn streamed_bytes_give_the_same_answer_whatever_the_chunking() {
    let file = elf(&inline_blob("go1.22.1", MODINFO), true);
    let (_, _, expected) = read_bytes(&file).unwrap();
    for chunk in [1, 7, 13, 16, 100, 4096, file.len()] {
        let mut s = StreamReader::new("bin/app", file.len() as u64);
        for c in file.chunks(chunk) {
            s.feed(c);
        }
        match s.finish() {
            Streamed::Go(b) => {
                assert_eq!(b.info, expected, "chunk {chunk}");
                assert_eq!(b.format, "ELF 64-bit LSB x86-64");
                assert_eq!(b.sha256.len(), 64);
            }
            other => panic!("chunk {chunk}: {other:?}"),
        }
    }
    let mut s = StreamReader::new("notes.txt", 5);
    s.feed(b"hello");
    assert!(s.rejected());
    assert!(matches!(s.finish(), Streamed::NotExecutable));
}

#[test]
fn every_truncation_is_answered_without_panic() {
    for file in [
        elf(&inline_blob("go1.22.1", MODINFO), true),
        elf(&pointer_blob(VADDR, "go1.16.15", MODINFO), true),
        macho(&inline_blob("go1.22.1", MODINFO)),
        pe(&inline_blob("go1.22.1", MODINFO)),
    ] {
        for cut in 0..file.len().min(0x1200) {
            let _ = read_bytes(&file[..cut]);
            let mut s = StreamReader::new("x", cut as u64);
            s.feed(&file[..cut]);
            let _ = s.finish();
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = read_bytes(&bytes);
        let mut s = StreamReader::new("x", bytes.len() as u64);
        s.feed(&bytes);
        let _ = s.finish();
    }

    #[test]
    fn corrupted_executables_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((0usize..0x2200, any::<u8>()), 1..16),
    ) {
        let blob = inline_blob("go1.22.1", MODINFO);
        let mut file = match which {
            0 => elf(&blob, true),
            1 => elf(&pointer_blob(VADDR, "go1.16.15", MODINFO), true),
            2 => macho(&blob),
            _ => pe(&blob),
        };
        for (at, b) in edits {
            if let Some(x) = file.get_mut(at) {
                *x = b;
            }
        }
        let _ = read_bytes(&file);
        let mut s = StreamReader::new("x", file.len() as u64);
        for c in file.chunks(61) {
            s.feed(c);
        }
        let _ = s.finish();
    }
}
