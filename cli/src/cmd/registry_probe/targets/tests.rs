use super::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

#[test]
fn one_registry_takes_bare_and_prefixed_manifests_once() {
    let t = plan(
        &s(&["localhost:5000"]),
        &s(&[
            "team/app:1.0",
            "localhost:5000/team/app:1.0",
            "base@sha256:abc",
        ]),
    );
    // A digest must be a full sha256: the bad one is refused before any probe.
    assert!(t.unwrap_err().contains("base@sha256:abc"));
    let t = plan(
        &s(&["localhost:5000"]),
        &s(&[
            "team/app:1.0",
            "localhost:5000/team/app:1.0",
            "library/busybox",
        ]),
    )
    .unwrap();
    assert_eq!(
        t,
        vec![Target {
            registry: "localhost:5000".into(),
            manifests: s(&["team/app:1.0", "library/busybox"]),
        }]
    );
}

#[test]
fn several_registries_need_manifests_that_name_theirs() {
    let regs = s(&["a.example.com", "b.example.com:5000"]);
    let t = plan(
        &regs,
        &s(&["b.example.com:5000/x/y:1", "a.example.com/z:2"]),
    )
    .unwrap();
    assert_eq!(t[0].manifests, s(&["z:2"]));
    assert_eq!(t[1].manifests, s(&["x/y:1"]));
    let e = plan(&regs, &s(&["x/y:1"])).unwrap_err();
    assert!(e.contains("name its registry"), "{e}");
    let e = plan(&regs, &s(&["c.example.com/x/y:1"])).unwrap_err();
    assert!(e.contains("name its registry"), "{e}");
}

#[test]
fn hosts_with_schemes_paths_or_credentials_are_refused_without_echoing_secrets() {
    for bad in [
        "https://r.example.com",
        "r.example.com/v2/",
        "",
        "r example",
    ] {
        assert!(plan(&s(&[bad]), &[]).is_err(), "{bad}");
    }
    let e = plan(&s(&["robot:hunter2@r.example.com"]), &[]).unwrap_err();
    assert!(!e.contains("hunter2"), "{e}");
    for url in [
        "http://user:pw-s3cret@r.example.com",
        "https://ci:pw-s3cret@r.example.com/v2/",
    ] {
        let e = plan(&s(&[url]), &[]).unwrap_err();
        assert!(!e.contains("pw-s3cret") && e.contains("[REDACTED]"), "{e}");
    }
    assert!(plan(&[], &[]).is_err());
}

#[test]
fn a_registry_no_image_reference_can_name_is_refused() {
    // `docker.io/library/x` under `localhost:5000` is a repository of that name there.
    let t = plan(&s(&["LOCALHOST:5000"]), &s(&["docker.io/library/x:1"])).unwrap();
    assert_eq!(t[0].registry, "localhost:5000");
    assert_eq!(t[0].manifests, s(&["docker.io/library/x:1"]));
    // A single-label host without a port reads as a Docker Hub repository on a node.
    let e = plan(&s(&["mirror"]), &s(&["team/app:1"])).unwrap_err();
    assert!(e.contains("resolves to registry docker.io"), "{e}");
}
