use super::*;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use sha2::{Digest, Sha256};

const MANIFEST: &[u8] =
    br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", ::hex::encode(Sha256::digest(bytes)))
}

fn signer(seed: u8) -> (SigningKey, TrustedKey) {
    let sk = SigningKey::from_slice(&[seed; 32]).unwrap();
    let pem = sk
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();
    let k = TrustedKey::from_pem(&format!("key{seed}"), &pem).unwrap();
    (sk, k)
}

fn key_material() -> serde_json::Value {
    serde_json::json!({"publicKey": {"hint": "aGludA=="}, "tlogEntries": []})
}

/// A message-signature bundle over `manifest`, claiming `claimed` as its digest.
fn message_bundle(sk: &SigningKey, manifest: &[u8], claimed: &[u8]) -> Vec<u8> {
    let sig: Signature = sk.sign_prehash(&Sha256::digest(manifest)).unwrap();
    serde_json::to_vec(&serde_json::json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": key_material(),
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(claimed)},
            "signature": STANDARD.encode(sig.to_der().as_bytes())
        }
    }))
    .unwrap()
}

fn statement(subject_hex: &str, predicate: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "registry.test/team/app", "digest": {"sha256": subject_hex}}],
        "predicateType": predicate, "predicate": {}
    }))
    .unwrap()
}

fn dsse_bundle(sk: &SigningKey, payload: &[u8], material: serde_json::Value) -> Vec<u8> {
    let sig: Signature = sk.sign(&pae(IN_TOTO, payload));
    serde_json::to_vec(&serde_json::json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": material,
        "dsseEnvelope": {"payload": STANDARD.encode(payload), "payloadType": IN_TOTO,
            "signatures": [{"sig": STANDARD.encode(sig.to_der().as_bytes()), "keyid": ""}]}
    }))
    .unwrap()
}

fn sig(v: BundleVerdict) -> LayerVerdict {
    match v {
        BundleVerdict::Signature(v) => v,
        other => panic!("not a signature: {other:?}"),
    }
}

#[test]
fn pae_is_dsse_v1() {
    assert_eq!(
        pae("application/example", b"hello world"),
        b"DSSEv1 19 application/example 11 hello world"
    );
}

#[test]
fn message_signature_over_the_manifest_digest() {
    let (sk, k) = signer(5);
    let (other, _) = signer(6);
    let digest = digest_of(MANIFEST);
    let b = message_bundle(&sk, MANIFEST, &Sha256::digest(MANIFEST));
    assert_eq!(
        sig(verify(&b, &[&k], &digest)),
        LayerVerdict::Verified {
            key: "key5".into(),
            format: Format::MessageSignature
        }
    );
    let foreign = message_bundle(&other, MANIFEST, &Sha256::digest(MANIFEST));
    assert_eq!(
        sig(verify(&foreign, &[&k], &digest)),
        LayerVerdict::Untrusted
    );
    // A valid signature of another manifest, presented for this one.
    let elsewhere = b"{\"another\":1}";
    let copied = message_bundle(&sk, elsewhere, &Sha256::digest(elsewhere));
    assert_eq!(
        sig(verify(&copied, &[&k], &digest)),
        LayerVerdict::WrongDigest {
            key: "key5".into(),
            signed_digest: digest_of(elsewhere)
        }
    );
    // The claimed digest is this image's, but the signature is over another.
    let lying = message_bundle(&sk, elsewhere, &Sha256::digest(MANIFEST));
    assert_eq!(sig(verify(&lying, &[&k], &digest)), LayerVerdict::Untrusted);
}

#[test]
fn dsse_statement_subject_must_be_the_image() {
    let (sk, k) = signer(7);
    let (other, _) = signer(8);
    let digest = digest_of(MANIFEST);
    let hex = digest.trim_start_matches("sha256:");
    let good = dsse_bundle(&sk, &statement(hex, SIGN_PREDICATE), key_material());
    assert_eq!(
        sig(verify(&good, &[&k], &digest)),
        LayerVerdict::Verified {
            key: "key7".into(),
            format: Format::Dsse
        }
    );
    let foreign = dsse_bundle(&other, &statement(hex, SIGN_PREDICATE), key_material());
    assert_eq!(
        sig(verify(&foreign, &[&k], &digest)),
        LayerVerdict::Untrusted
    );
    let other_hex = "ab".repeat(32);
    let wrong = dsse_bundle(&sk, &statement(&other_hex, SIGN_PREDICATE), key_material());
    assert_eq!(
        sig(verify(&wrong, &[&k], &digest)),
        LayerVerdict::WrongDigest {
            key: "key7".into(),
            signed_digest: format!("sha256:{other_hex}")
        }
    );
    let slsa = "https://slsa.dev/provenance/v1";
    let provenance = dsse_bundle(&sk, &statement(hex, slsa), key_material());
    assert_eq!(
        verify(&provenance, &[&k], &digest),
        BundleVerdict::Attestation(slsa.into())
    );
    // Altered after signing: the payload no longer matches the signature.
    let mut doc: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let payload = STANDARD.encode(statement(&"cd".repeat(32), SIGN_PREDICATE));
    doc["dsseEnvelope"]["payload"] = payload.into();
    let altered = serde_json::to_vec(&doc).unwrap();
    assert_eq!(
        sig(verify(&altered, &[&k], &digest)),
        LayerVerdict::Untrusted
    );
}

#[test]
fn keyless_bundles_name_their_certificate_not_a_verification() {
    let (sk, k) = signer(9);
    let (fulcio, _) = signer(10);
    let digest = digest_of(MANIFEST);
    let hex = digest.trim_start_matches("sha256:");
    let material = serde_json::json!({"certificate": {"rawBytes": STANDARD.encode(b"not DER")}});
    let b = dsse_bundle(&fulcio, &statement(hex, SIGN_PREDICATE), material);
    assert_eq!(
        sig(verify(&b, &[&k], &digest)),
        LayerVerdict::Keyless {
            identity: None,
            issuer: None
        }
    );
    // A certificate, but the configured key made the signature: the key is the trust root.
    let material =
        serde_json::json!({"x509CertificateChain": {"certificates": [{"rawBytes": ""}]}});
    let b = dsse_bundle(&sk, &statement(hex, SIGN_PREDICATE), material);
    assert!(matches!(
        sig(verify(&b, &[&k], &digest)),
        LayerVerdict::Verified { .. }
    ));
}

#[test]
fn malformed_and_oversized_bundles_are_told() {
    let (sk, k) = signer(11);
    let digest = digest_of(MANIFEST);
    let reason = |bytes: &[u8]| match sig(verify(bytes, &[&k], &digest)) {
        LayerVerdict::Malformed(r) => r,
        other => panic!("{other:?}"),
    };
    let json = |v: serde_json::Value| serde_json::to_vec(&v).unwrap();
    assert!(reason(b"{").contains("not Sigstore bundle JSON"));
    assert!(reason(br#"{"mediaType":"application/json"}"#).contains("mediaType"));
    let both = json(
        serde_json::json!({"mediaType": BUNDLE_V03, "messageSignature": {}, "dsseEnvelope": {}}),
    );
    assert!(reason(&both).contains("neither exactly one"));
    let neither = json(serde_json::json!({"mediaType": BUNDLE_V03, "verificationMaterial": {}}));
    assert!(reason(&neither).contains("neither exactly one"));
    let md5 = json(
        serde_json::json!({"mediaType": BUNDLE_V03, "messageSignature":
        {"messageDigest": {"algorithm": "MD5", "digest": "AA=="}, "signature": "AA=="}}),
    );
    assert!(reason(&md5).contains("SHA2_256"));
    let bad_sig = json(
        serde_json::json!({"mediaType": BUNDLE_V03, "messageSignature":
        {"messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode([0u8; 32])}, "signature": "%%"}}),
    );
    assert!(reason(&bad_sig).contains("ECDSA"));
    let not_in_toto = json(serde_json::json!({"mediaType": BUNDLE_V03, "dsseEnvelope":
        {"payload": "e30=", "payloadType": "text/plain", "signatures": [{"sig": "AA=="}]}}));
    assert!(reason(&not_in_toto).contains("payloadType"));
    let unsigned = json(serde_json::json!({"mediaType": BUNDLE_V03, "dsseEnvelope":
        {"payload": "e30=", "payloadType": IN_TOTO, "signatures": []}}));
    assert!(reason(&unsigned).contains("no signature"));
    // Signed by the key, but the payload is not a statement.
    let junk = dsse_bundle(&sk, b"[1,2,3]", key_material());
    assert!(reason(&junk).contains("in-toto"));
    let good = message_bundle(&sk, MANIFEST, &Sha256::digest(MANIFEST));
    let mut huge = good.clone();
    huge.extend(std::iter::repeat_n(b' ', MAX_BUNDLE));
    assert!(reason(&huge).contains("limit"));
    assert!(matches!(
        sig(verify(&good, &[&k], "latest")),
        LayerVerdict::Malformed(_)
    ));
}

proptest::proptest! {
    /// Whatever a registry serves, the bundle, certificate and referrer parsers answer
    /// without panicking.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1024)) {
        let (_, k) = signer(12);
        let _ = verify(&bytes, &[&k], &digest_of(MANIFEST));
        let _ = cert::identity(&bytes);
        let _ = super::super::referrers::listing(&bytes);
        let mut json = br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":""#.to_vec();
        json.extend(STANDARD.encode(&bytes).into_bytes());
        json.extend(br#"","signatures":[{"sig":"AA=="}]}}"#);
        let _ = verify(&json, &[&k], &digest_of(MANIFEST));
    }
}
