use super::*;

fn outcomes(dir: &Path) -> Vec<(String, String)> {
    read_all(&[dir.to_path_buf()])
        .into_iter()
        .map(|(p, o)| {
            let name = p.strip_prefix(dir).unwrap().display().to_string();
            let what = match o {
                Outcome::Read(r) => format!("read {}", r.incidents.len()),
                Outcome::Failed(reason) => format!("failed: {reason}"),
                Outcome::Duplicate(first) => {
                    format!("repeats {}", first.strip_prefix(dir).unwrap().display())
                }
                Outcome::Revisit(first) => format!("revisits {}", first.display()),
            };
            (name, what)
        })
        .collect()
}

#[test]
fn a_symlink_loop_is_entered_once_and_a_copy_is_named_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
    let doc = br#"{"kind": "List", "items": []}"#;
    fs::write(dir.path().join("a.json"), doc).unwrap();
    fs::write(sub.join("b.json"), doc).unwrap();
    fs::write(sub.join("notes.txt"), b"not read").unwrap();
    let got = outcomes(dir.path());
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], ("a.json".into(), "read 0".into()));
    assert_eq!(got[1].0, "sub/b.json");
    assert_eq!(got[1].1, "repeats a.json");
    assert_eq!(got[2].0, "sub/loop");
    assert!(got[2].1.starts_with("revisits "), "{got:?}");
}

#[test]
fn a_dangling_symlink_and_a_fifo_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone"), dir.path().join("a.json")).unwrap();
    let fifo = dir.path().join("b.json");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let got = outcomes(dir.path());
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].1.contains("a symlink to") && got[0].1.contains("gone"),
        "{got:?}"
    );
    assert_eq!(got[1].1, "failed: not a regular file");
}

#[test]
fn a_file_over_the_limit_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = fs::File::create(dir.path().join("big.json")).unwrap();
    big.set_len(MAX_INPUT + 1).unwrap();
    let got = outcomes(dir.path());
    assert!(
        got[0].1.starts_with("failed: larger than 64 MiB"),
        "{got:?}"
    );
}
