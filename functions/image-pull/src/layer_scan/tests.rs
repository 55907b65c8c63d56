use std::collections::BTreeSet;
use std::io::Write;

use super::*;

/// A tar built with the `tar` crate's writer (an independent implementation of the format).
pub(crate) fn tar_of(entries: &[(&str, TestEntry)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, e) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        match e {
            TestEntry::File(bytes) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(bytes.len() as u64);
                b.append_data(&mut h, path, &bytes[..]).unwrap();
            }
            TestEntry::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, path, target).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub(crate) enum TestEntry {
    File(Vec<u8>),
    Symlink(&'static str),
}

fn file(s: &str) -> TestEntry {
    TestEntry::File(s.as_bytes().to_vec())
}

fn scan_all(search: &Search, bytes: &[u8], chunk: usize) -> TarScan {
    let mut s = search.scanner();
    for c in bytes.chunks(chunk) {
        s.write_all(c).unwrap();
    }
    s
}

fn run(layers_top_down: &[Vec<u8>]) -> Answer {
    let mut search = Search::new();
    for (i, l) in layers_top_down.iter().enumerate() {
        let scan = scan_all(&search, l, 7);
        assert!(scan.error.is_none(), "{:?}", scan.error);
        search.merge(&scan, i);
    }
    search.finish()
}

#[test]
fn symlink_into_usr_lib_in_the_same_layer() {
    let base = tar_of(&[
        ("bin/sh", file("#!")),
        (
            "etc/os-release",
            TestEntry::Symlink("../usr/lib/os-release"),
        ),
        ("usr/lib/os-release", file("ID=debian\n")),
    ]);
    let a = run(&[base]);
    assert_eq!(
        a,
        Answer::Found {
            path: "usr/lib/os-release".into(),
            bytes: b"ID=debian\n".to_vec(),
            layer: 0
        }
    );
}

#[test]
fn upper_layers_win_and_whiteouts_hide_lower_files() {
    let base = tar_of(&[
        ("etc/os-release", TestEntry::Symlink("/usr/lib/os-release")),
        ("usr/lib/os-release", file("ID=debian\n")),
    ]);
    let upgrade = tar_of(&[("usr/lib/os-release", file("ID=debian\nVERSION_ID=13\n"))]);
    match run(&[upgrade.clone(), base.clone()]) {
        Answer::Found { bytes, layer, .. } => {
            assert_eq!(layer, 0);
            assert!(bytes.ends_with(b"13\n"));
        }
        a => panic!("{a:?}"),
    }
    let wipe = tar_of(&[
        ("etc/.wh.os-release", file("")),
        ("usr/lib/.wh.os-release", file("")),
    ]);
    assert_eq!(run(&[wipe, base.clone()]), Answer::Absent);
    let opaque = tar_of(&[("usr/.wh..wh..opq", file(""))]);
    assert_eq!(
        run(&[opaque, base.clone()]),
        Answer::Absent,
        "etc/os-release links into the hidden usr/"
    );
    let only_etc_gone = tar_of(&[("etc/.wh.os-release", file(""))]);
    assert!(
        matches!(run(&[only_etc_gone, base]), Answer::Found { path, .. } if path == "usr/lib/os-release"),
        "falls back to usr/lib/os-release"
    );
    assert_eq!(run(&[tar_of(&[("app/x", file("1"))])]), Answer::Absent);
}

#[test]
fn answer_is_known_mid_layer_and_long_names_are_read() {
    let long = format!("opt/{}/file", "d".repeat(150));
    let layer = tar_of(&[
        (long.as_str(), file("x")),
        ("etc/os-release", file("ID=alpine\n")),
        ("zzz", file(&"z".repeat(5000))),
    ]);
    let search = Search::new();
    let mut s = search.scanner();
    let mut seen_at = None;
    for (i, c) in layer.chunks(100).enumerate() {
        s.write_all(c).unwrap();
        if seen_at.is_none() && matches!(search.answer_with(Some((&s, 0))), Answer::Found { .. }) {
            seen_at = Some(i * 100);
        }
    }
    assert!(seen_at.unwrap() < 3000, "found before the big last file");
    assert!(s.ended() && s.error.is_none());
}

/// Records what a tap is given.
#[derive(Debug, Default)]
struct Recorder {
    files: Vec<(String, u64, Vec<u8>, bool)>,
}

impl EntryTap for Recorder {
    fn start(&mut self, path: &str, size: u64) -> bool {
        let wanted = path.starts_with("app/");
        if wanted {
            self.files.push((path.to_owned(), size, Vec::new(), false));
        }
        wanted
    }
    fn data(&mut self, bytes: &[u8]) {
        if let Some(f) = self.files.last_mut() {
            f.2.extend_from_slice(bytes);
        }
    }
    fn end(&mut self) {
        if let Some(f) = self.files.last_mut() {
            f.3 = true;
        }
    }
}

#[test]
fn a_tap_receives_whole_files_it_accepts_and_the_search_still_works() {
    let big: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let layer = tar_of(&[
        ("app/server", TestEntry::File(big.clone())),
        ("etc/os-release", file("ID=alpine\n")),
        ("skipped/x", file("nope")),
        ("app/empty", file("")),
        ("app/small", file("abc")),
    ]);
    let search = Search::new();
    let mut s = TarScan::tapped(
        BTreeSet::from(["etc/os-release".to_owned()]),
        Recorder::default(),
    );
    for c in layer.chunks(333) {
        s.write_all(c).unwrap();
    }
    assert!(s.ended() && s.error.is_none());
    let files = &s.tap.files;
    assert_eq!(
        files.len(),
        2,
        "empty and unaccepted files are not offered or not kept"
    );
    assert_eq!((files[0].0.as_str(), files[0].1), ("app/server", 70_000));
    assert!(files[0].2 == big && files[0].3);
    assert_eq!((files[1].2.as_slice(), files[1].3), (&b"abc"[..], true));
    assert!(matches!(
        search.answer_with(Some((&s, 0))),
        Answer::Found { .. }
    ));
}

#[test]
fn garbage_never_panics() {
    let mut s = Search::new().scanner();
    s.feed(&[0xff; 2048]);
    assert!(s.error.is_some() || !s.ended());
    let mut s = Search::new().scanner();
    s.feed(&[]);
    assert_eq!(normalise("/./a//b/../c/"), "a/c");
    assert_eq!(
        resolve_link("etc", "../../../usr/lib/os-release"),
        "usr/lib/os-release"
    );
}
