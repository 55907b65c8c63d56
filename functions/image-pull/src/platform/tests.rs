use super::*;

#[test]
fn normalisation_and_matching() {
    let node = Platform::new("linux", "aarch64", None);
    assert_eq!(node.to_string(), "linux/arm64/v8");
    assert!(Platform::new("linux", "arm64", None).serves(&node));
    assert!(!Platform::new("linux", "amd64", None).serves(&node));
    assert!(
        !Platform::new("linux", "arm", Some("v6"))
            .serves(&Platform::parse("linux/arm/v7").unwrap())
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
