use super::*;
use base64::Engine;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn signer(seed: u8) -> (SigningKey, TrustedKey) {
    let sk = SigningKey::from_slice(&[seed; 32]).unwrap();
    let pem = sk
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap();
    (
        sk,
        TrustedKey::from_pem(&format!("key{seed}"), &pem).unwrap(),
    )
}

fn payload(digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"critical": {"identity": {"docker-reference": "r/app"},
            "image": {"docker-manifest-digest": digest}, "type": SIGNATURE_TYPE}, "optional": null}))
        .unwrap()
}

fn sign(sk: &SigningKey, bytes: &[u8]) -> String {
    let sig: Signature = sk.sign(bytes);
    base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
}

#[test]
fn tags_follow_cosign() {
    assert_eq!(
        signature_tag("sha256:abc123").as_deref(),
        Some("sha256-abc123.sig")
    );
    assert_eq!(signature_tag("sha256:"), None);
    assert_eq!(signature_tag("latest"), None);
    assert_eq!(signature_tag("sha256:../x"), None);
}

#[test]
fn each_verdict_is_told_apart() {
    let (sk, trusted) = signer(7);
    let (other, _) = signer(9);
    let keys = [&trusted];
    let p = payload(DIGEST);
    assert_eq!(
        verify_layer(&p, &sign(&sk, &p), &keys, DIGEST),
        LayerVerdict::Verified {
            key: "key7".into(),
            format: Format::SimpleSigning
        }
    );
    assert_eq!(
        verify_layer(&p, &sign(&other, &p), &keys, DIGEST),
        LayerVerdict::Untrusted
    );
    let mut tampered = p.clone();
    tampered.push(b' ');
    assert_eq!(
        verify_layer(&tampered, &sign(&sk, &p), &keys, DIGEST),
        LayerVerdict::Untrusted
    );
    let elsewhere = payload("sha256:ffff");
    assert!(matches!(
        verify_layer(&elsewhere, &sign(&sk, &elsewhere), &keys, DIGEST),
        LayerVerdict::WrongDigest { signed_digest, .. } if signed_digest == "sha256:ffff"
    ));
    assert!(matches!(
        verify_layer(&p, "%%%", &keys, DIGEST),
        LayerVerdict::Malformed(_)
    ));
    assert!(matches!(
        verify_layer(&p, "AAAA", &keys, DIGEST),
        LayerVerdict::Malformed(_)
    ));
    let not_cosign = br#"{"critical":{"type":"something else"}}"#;
    assert!(matches!(
        verify_layer(not_cosign, &sign(&sk, not_cosign), &keys, DIGEST),
        LayerVerdict::Malformed(r) if r.contains("critical.type")
    ));
}

fn at(source: Source) -> Found {
    Found {
        source,
        manifest: "m".into(),
    }
}

#[test]
fn one_good_signature_suffices_and_wrong_digest_outranks_untrusted() {
    let good = LayerVerdict::Verified {
        key: "k".into(),
        format: Format::Dsse,
    };
    let wrong = LayerVerdict::WrongDigest {
        key: "k".into(),
        signed_digest: "sha256:ff".into(),
    };
    let keyless = LayerVerdict::Keyless {
        identity: Some("dev@example.com".into()),
        issuer: None,
    };
    let judge = |v: Vec<(Found, LayerVerdict)>| SignatureCheck::judge(&v, vec![], None);
    let r = at(Source::Referrers);
    let legacy = at(Source::LegacyTag);
    let ok = judge(vec![
        (legacy.clone(), LayerVerdict::Untrusted),
        (r.clone(), good),
    ]);
    assert!(ok.passed());
    assert!(ok.verified_line().unwrap().contains("DSSE"), "{ok:?}");
    assert!(matches!(
        judge(vec![(r.clone(), LayerVerdict::Untrusted), (legacy.clone(), wrong)]),
        SignatureCheck::WrongDigest { found, .. } if found.source == Source::LegacyTag
    ));
    assert!(matches!(
        judge(vec![
            (r.clone(), LayerVerdict::Malformed("x".into())),
            (r.clone(), keyless.clone()),
            (legacy.clone(), LayerVerdict::Untrusted)
        ]),
        SignatureCheck::Untrusted { signatures: 1, .. }
    ));
    let k = judge(vec![
        (r.clone(), LayerVerdict::Malformed("x".into())),
        (r.clone(), keyless),
    ]);
    let line = k.failure("img", "sha256:1").unwrap();
    assert!(
        line.contains("keyless by dev@example.com") && line.contains("referrers API"),
        "{line}"
    );
    assert!(!k.passed());
    let m = judge(vec![(
        at(Source::ReferrersTag),
        LayerVerdict::Malformed("x".into()),
    )]);
    assert!(
        m.failure("img", "sha256:1")
            .unwrap()
            .contains("referrers tag schema"),
        "{m:?}"
    );
    assert_eq!(
        SignatureCheck::judge(&[], vec![], Some("500".into())),
        SignatureCheck::Unreadable {
            reason: "500".into()
        }
    );
    let missing = SignatureCheck::judge(&[], vec!["the legacy tag t (absent)".into()], None);
    let line = missing.failure("img", "sha256:1").unwrap();
    assert!(
        line.contains("no cosign signature") && line.contains("legacy tag t"),
        "{line}"
    );
}

#[test]
fn keys_must_be_p256_spki_pem() {
    let err = TrustedKey::from_pem(
        "k.pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("k.pem"), "{err}");
    assert!(TrustedKey::from_pem("k.pem", "not pem").is_err());
    let (_, k) = signer(3);
    assert!(k.fingerprint.starts_with("sha256:") && k.fingerprint.len() == 23);
}
