use super::*;

#[test]
fn globs() {
    assert!(glob_match("**", "docker.io/library/nginx"));
    assert!(glob_match("ghcr.io/acme/*", "ghcr.io/acme/api"));
    assert!(!glob_match("ghcr.io/acme/*", "ghcr.io/acme/team/api"));
    assert!(glob_match("ghcr.io/acme/**", "ghcr.io/acme/team/api"));
    assert!(glob_match("127.0.0.1:*/team/*", "127.0.0.1:5000/team/app"));
    assert!(!glob_match("ghcr.io/acme", "ghcr.io/acme/api"));
    assert!(glob_match("ghcr.io/acme/api", "ghcr.io/acme/api"));
    assert!(glob_match(&"*".repeat(600), "a"));
    assert!(!glob_match(&"*a".repeat(300), &"a".repeat(299)));
}

#[test]
fn entries() {
    let e =
        SignaturePolicy::parse_entries(" ghcr.io/acme/**=/keys/a.pem , /keys/all.pem,").unwrap();
    assert_eq!(e[0].pattern, "ghcr.io/acme/**");
    assert_eq!(e[0].key_file, PathBuf::from("/keys/a.pem"));
    assert_eq!(e[1].pattern, "**");
    assert!(SignaturePolicy::parse_entries("x=").is_err());
    assert!(SignaturePolicy::parse_entries("=k.pem").is_err());
    let err = SignaturePolicy::load(&e).unwrap_err();
    assert!(err.to_string().contains("/keys/a.pem"), "{err}");
}
