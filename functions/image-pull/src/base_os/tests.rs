use super::*;

#[test]
fn redirect_targets() {
    assert_eq!(host_of("https://r.example:5000/v2/x"), "r.example:5000");
    assert_eq!(
        absolute("https://r.example/v2/a/blobs/sha256:1", "/cdn/x?sig=1"),
        "https://r.example/cdn/x?sig=1"
    );
    assert_eq!(
        absolute("http://r/v2/a/blobs/b", "https://cdn.example/x"),
        "https://cdn.example/x"
    );
    assert_eq!(
        absolute("http://r/v2/a/blobs/b", "c"),
        "http://r/v2/a/blobs/c"
    );
}

#[test]
fn index_entries_by_platform_skipping_attestations() {
    let doc: ManifestDoc = serde_json::from_str(r#"{"manifests":[
            {"digest":"sha256:att","platform":{"os":"unknown","architecture":"unknown"}},
            {"digest":"sha256:amd","platform":{"os":"linux","architecture":"amd64"}},
            {"digest":"sha256:arm","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#).unwrap();
    let arm = Platform::parse("linux/arm64").unwrap();
    assert_eq!(pick(&doc, &[arm]).unwrap().digest, "sha256:arm");
    assert_eq!(pick(&doc, &[]).unwrap().digest, "sha256:amd");
}

#[test]
fn media_types() {
    let s = || Search::new().scanner();
    assert!(Decoder::new("application/vnd.oci.image.layer.v1.tar+gzip", s()).is_ok());
    assert!(Decoder::new("application/vnd.docker.image.rootfs.diff.tar.gzip", s()).is_ok());
    assert!(Decoder::new("application/vnd.oci.image.layer.v1.tar", s()).is_ok());
    assert!(
        Decoder::new("application/vnd.oci.image.layer.v1.tar+zstd", s())
            .err()
            .unwrap()
            .contains("zstd")
    );
    assert!(Decoder::new("application/json", s()).is_err());
}
