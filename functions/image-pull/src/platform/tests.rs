use super::*;

#[test]
fn normalisation_and_matching() {
    let node = Platform::new("linux", "aarch64", None);
    assert_eq!(node.to_string(), "linux/arm64/v8");
    assert!(Platform::new("linux", "arm64", None).serves(&node));
    assert!(!Platform::new("linux", "amd64", None).serves(&node));
    // An arm/v7 node runs arm/v6 images (containerd's matcher), not the other way round.
    assert!(
        Platform::new("linux", "arm", Some("v6")).serves(&Platform::parse("linux/arm/v7").unwrap())
    );
    assert!(
        !Platform::new("linux", "arm", Some("v7"))
            .serves(&Platform::parse("linux/arm/v6").unwrap())
    );
    assert!(
        Platform::parse("linux/amd64")
            .unwrap()
            .serves(&Platform::new("linux", "x86_64", None))
    );
    assert!(Platform::parse("linux").is_none() && Platform::parse("a/b/c/d").is_none());
}

#[test]
fn index_platforms_skip_attestations() {
    let doc: ManifestDoc = serde_json::from_str(r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","platform":{"os":"unknown","architecture":"unknown"}}]}"#).unwrap();
    assert_eq!(doc.platforms(), [Platform::new("linux", "amd64", None)]);
}

/// containerd's documented default matching (`platforms.Only`), one row per claim:
/// (node, image, runs).
const CONTAINERD_ONLY: &[(&str, &str, bool)] = &[
    // "For amd64, will also match 386"; levels match downwards only.
    ("linux/amd64", "linux/amd64", true),
    ("linux/amd64", "linux/386", true),
    ("linux/amd64/v3", "linux/amd64/v2", true),
    ("linux/amd64/v3", "linux/amd64", true),
    ("linux/amd64/v3", "linux/amd64/v1", true),
    ("linux/amd64/v2", "linux/amd64/v3", false),
    ("linux/amd64/v3", "linux/386", true),
    // Unknown node level (Kubernetes labels carry none): any level is possible.
    ("linux/amd64", "linux/amd64/v3", true),
    ("linux/386", "linux/amd64", false),
    // "For arm/v8, will also match arm/v7, arm/v6 and arm/v5" …
    ("linux/arm/v8", "linux/arm/v7", true),
    ("linux/arm/v8", "linux/arm/v5", true),
    ("linux/arm/v7", "linux/arm/v6", true),
    ("linux/arm/v7", "linux/arm", true),
    ("linux/arm/v6", "linux/arm/v5", true),
    ("linux/arm/v6", "linux/arm/v7", false),
    ("linux/arm/v5", "linux/arm/v6", false),
    // arm64 runs 32-bit arm/v8 and below.
    ("linux/arm64", "linux/arm64", true),
    ("linux/arm64", "linux/arm64/v8", true),
    ("linux/arm64", "linux/arm/v8", true),
    ("linux/arm64", "linux/arm/v7", true),
    ("linux/arm64", "linux/arm/v5", true),
    ("linux/arm64", "linux/amd64", false),
    // "For arm64/v8.x, will also match arm64/v8.{0..x-1}"
    ("linux/arm64/v8.2", "linux/arm64/v8.1", true),
    ("linux/arm64/v8.2", "linux/arm64/v8", true),
    ("linux/arm64/v8.2", "linux/arm64/v8.3", false),
    ("linux/arm64/v8", "linux/arm64/v8.1", false),
    // "For arm64/v9.x, will also match arm64/v9.{0..x-1} and arm64/v8.{0..x+5}"
    ("linux/arm64/v9.2", "linux/arm64/v9.1", true),
    ("linux/arm64/v9.2", "linux/arm64/v9", true),
    ("linux/arm64/v9.2", "linux/arm64/v8.7", true),
    ("linux/arm64/v9.2", "linux/arm64/v8.8", false),
    ("linux/arm64/v9", "linux/arm64/v8.5", true),
    ("linux/arm64/v9", "linux/arm64/v8.6", false),
    ("linux/arm64/v9.5", "linux/arm64/v8.9", true),
    ("linux/arm64/v9", "linux/arm/v7", true),
    ("linux/arm64/v8.0", "linux/arm64", true),
    // The OS must match.
    ("linux/amd64", "windows/amd64", false),
];

#[test]
fn matching_follows_containerd_default_matcher() {
    for (node, image, runs) in CONTAINERD_ONLY {
        let node_p = Platform::parse(node).unwrap();
        let image_p = Platform::parse(image).unwrap();
        assert_eq!(
            image_p.serves(&node_p),
            *runs,
            "{image} on a {node} node: containerd says {runs}; vector {:?}",
            node_p.compatible()
        );
    }
}

#[test]
fn the_node_platform_comes_first_in_its_vector() {
    for (node, _, _) in CONTAINERD_ONLY {
        let p = Platform::parse(node).unwrap();
        assert_eq!(p.compatible()[0], p);
    }
}
