use super::*;

fn p(s: &str) -> ImageRef {
    ImageRef::parse(s).unwrap()
}

#[test]
fn short_names_resolve_to_docker_hub_library() {
    let r = p("nginx");
    assert_eq!(
        (r.registry.as_str(), r.repository.as_str(), r.reference()),
        ("docker.io", "library/nginx", "latest")
    );
    assert_eq!(r.api_host(), "registry-1.docker.io");
    assert_eq!(p("bitnami/redis:7").repository, "bitnami/redis");
    assert_eq!(
        p("index.docker.io/jaegertracing/all-in-one:1").registry,
        "docker.io"
    );
    assert_eq!(p("docker.io/busybox").repository, "library/busybox");
}

#[test]
fn ports_tags_and_digests_are_kept_apart() {
    let r = p("localhost:5000/hello-app:1.0");
    assert_eq!(
        (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
        ("localhost:5000", "hello-app", Some("1.0"))
    );
    assert!(is_loopback(&r.registry));
    let d = "sha256:8d0bff43db3ce5c528cb6f957520511d263d7cceee012696e4afdc9087919bb9";
    let r = p(&format!("registry.local:5000/team/app@{d}"));
    assert_eq!(r.tag, None);
    assert_eq!(r.reference(), d);
    let r = p(&format!("ghcr.io/o/app:v1@{d}"));
    assert_eq!(r.reference(), d, "digest wins over tag");
    assert_eq!(r.to_string(), format!("ghcr.io/o/app:v1@{d}"));
}

#[test]
fn invalid_references_are_rejected_like_the_runtime_does() {
    assert!(matches!(
        ImageRef::parse("library/Nginx"),
        Err(ReferenceError::Uppercase(_))
    ));
    assert!(matches!(
        ImageRef::parse("Nginx:1"),
        Err(ReferenceError::Uppercase(_))
    ));
    for bad in [
        "",
        "nginx:",
        "nginx::1",
        "nginx:1 2",
        "ngi nx",
        "-nginx",
        "nginx@sha256:short",
        "a//b",
        "a/b/",
        "nginx:/x",
    ] {
        assert!(ImageRef::parse(bad).is_err(), "{bad:?} should be invalid");
    }
    assert!(ImageRef::parse("registry.example.com:443/a.b__c-d/e:v1.2_3-rc").is_ok());
}

#[test]
fn every_grammar_pattern_compiles() {
    for pattern in [&COMPONENT, &TAG, &DIGEST, &DOMAIN] {
        LazyLock::force(pattern);
    }
}
