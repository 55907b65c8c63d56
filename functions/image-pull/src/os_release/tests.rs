use super::*;

#[test]
fn debian_alpine_and_odd_quoting() {
    let d = OsRelease::parse(
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
    );
    assert_eq!(d.id.as_deref(), Some("debian"));
    assert_eq!(d.version_id.as_deref(), Some("12"));
    assert_eq!(d.display_name(), "Debian GNU/Linux 12 (bookworm)");
    let a = OsRelease::parse("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n# c\n");
    assert_eq!(a.display_name(), "alpine 3.20.3");
    let q = OsRelease::parse("ID='x y'\nPRETTY_NAME=\"say \\\"hi\\\"\\\n\"\nVERSION_ID=\n");
    assert_eq!(q.id.as_deref(), Some("x y"));
    assert_eq!(q.pretty_name.as_deref(), Some("say \"hi\""));
    assert_eq!(q.version_id, None);
    assert!(OsRelease::parse("\u{0}\u{ff}garbage").is_empty());
    let long = OsRelease::parse(&format!("ID={}", "a".repeat(1000)));
    assert_eq!(long.id.map(|i| i.len()), Some(MAX_VALUE));
}
