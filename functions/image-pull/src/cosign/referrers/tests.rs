use super::*;

#[test]
fn keeps_signature_bundles_and_counts_the_rest() {
    let body = serde_json::json!({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:aa", "size": 700,
         "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
         "annotations": {"dev.sigstore.bundle.content": "dsse-envelope",
                         "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:bb", "size": 700,
         "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
         "annotations": {"dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:cc", "size": 500,
         "artifactType": "application/spdx+json"},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:dd", "size": 700,
         "artifactType": "application/vnd.dev.sigstore.bundle+json;version=0.2"},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:ee", "size": 600,
         "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json"}
    ]});
    let l = listing(&serde_json::to_vec(&body).unwrap()).unwrap();
    let digests: Vec<&str> = l.signatures.iter().map(|d| d.digest.as_str()).collect();
    assert_eq!(digests, ["sha256:aa", "sha256:dd", "sha256:ee"]);
    assert_eq!(l.others, 2);
    assert_eq!(listing(b"not json"), None);
    assert_eq!(listing(&vec![b' '; MAX_INDEX + 1]), None);
    assert_eq!(fallback_tag("sha256:abc").as_deref(), Some("sha256-abc"));
    assert_eq!(fallback_tag("nope"), None);
}
