use super::*;

#[test]
fn only_lastmile_variables_and_never_secret_looking_ones() {
    let s = Settings::from_vars([
        ("LASTMILE_BASE_OS_MAX_BYTES", " 1024 "),
        ("LASTMILE_GITHUB_SECRET", "hunter2"),
        ("LASTMILE_GITLAB_TOKEN", "glpat-x"),
        ("LASTMILE_EMPTY", "  "),
        ("HOME", "/root"),
    ]);
    assert_eq!(s.get("LASTMILE_BASE_OS_MAX_BYTES"), Some("1024"));
    assert_eq!(s.get("LASTMILE_GITHUB_SECRET"), None);
    assert_eq!(s.get("LASTMILE_GITLAB_TOKEN"), None);
    assert_eq!(s.get("LASTMILE_EMPTY"), None);
    assert_eq!(s.get("HOME"), None);
    let shown = format!("{:?}", s.with("LASTMILE_X", "value-not-shown"));
    assert!(shown.contains("LASTMILE_X") && !shown.contains("value-not-shown"));
}

#[test]
fn extensions_are_keyed_by_type() {
    #[derive(Debug, PartialEq)]
    struct Policy(u32);
    let mut s = Settings::new();
    assert!(s.extension::<Policy>().is_none());
    s.insert(Policy(1));
    s.insert(Policy(2));
    assert_eq!(s.extension::<Policy>(), Some(&Policy(2)));
    assert!(s.extension::<u32>().is_none());
}
