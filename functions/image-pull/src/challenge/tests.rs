use super::*;

#[test]
fn reference_registry_bearer_challenge() {
    let c = parse(
        r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push",error="insufficient_scope""#,
    );
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].scheme, "bearer");
    assert_eq!(c[0].param("realm"), Some("https://auth.docker.io/token"));
    assert_eq!(
        c[0].param("scope"),
        Some("repository:samalba/my-app:pull,push")
    );
    assert_eq!(c[0].param("error"), Some("insufficient_scope"));
}

#[test]
fn basic_and_multiple_and_garbage() {
    let c = parse(r#"Basic realm="Registry Realm", Bearer realm=x,service=y"#);
    assert_eq!(
        c.iter().map(|c| c.scheme.as_str()).collect::<Vec<_>>(),
        ["basic", "bearer"]
    );
    assert_eq!(c[1].param("service"), Some("y"));
    assert!(parse("").is_empty());
    let _ = parse("=\"\\");
    let _ = parse(",,, =");
}

#[test]
fn token_urls_keep_the_scope_readable_and_escape_the_rest() {
    assert_eq!(
        pull_token_url("https://auth.example/token", Some("reg istry&x"), "a/b"),
        "https://auth.example/token?service=reg%20istry%26x&scope=repository:a/b:pull"
    );
    assert_eq!(
        pull_token_url("https://auth.example/token?x=1", None, "a/b"),
        "https://auth.example/token?x=1&scope=repository:a/b:pull"
    );
    assert_eq!(basic_authorization("u", "p:w"), "Basic dTpwOnc=");
}
