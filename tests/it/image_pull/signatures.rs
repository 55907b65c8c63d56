//! cosign signatures verified against the policy key, and an unusable key at start-up.

use super::*;

#[tokio::test]
async fn cosign_signatures_are_verified_against_the_policy_key() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    let host = reg.host();
    let trusted = CosignKey::generate().unwrap();
    let stranger = CosignKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("cosign.pub");
    std::fs::write(&key_file, trusted.public_pem()).unwrap();
    let key_name = key_file.display().to_string();

    let (signed, ..) = push
        .image("team/signed", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.cosign_signature("team/signed", &signed, &signed, &trusted)
        .await
        .unwrap();
    push.image("team/unsigned", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    let (other, ..) = push
        .image("team/otherkey", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.cosign_signature("team/otherkey", &other, &other, &stranger)
        .await
        .unwrap();
    // A valid signature of `signed`, copied onto another image's signature tag.
    let (copy, ..) = push
        .image("team/retagged", Some("1.0"), linux("arm64"), true)
        .await
        .unwrap();
    push.cosign_signature("team/retagged", &copy, &signed, &trusted)
        .await
        .unwrap();
    let (bad, ..) = push
        .image("team/malformed", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.signature_manifest("team/malformed", &bad, b"{}", None)
        .await
        .unwrap();
    push.image("elsewhere/app", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();

    let policy = SignaturePolicy::load(&[EntrySpec {
        pattern: format!("{host}/team/*"),
        key_file: key_file.clone(),
    }])
    .unwrap();
    let checks = Checks {
        signature: policy,
        ..Default::default()
    };
    let h = http(None);
    let o = opts(&[]);

    let ok = checked(&h, &format!("{host}/team/signed:1.0"), &o, &checks).await;
    assert!(matches!(ok.verdict, Verdict::Pullable { .. }), "{ok:#?}");
    assert_eq!(
        ok.signature,
        Some(SignatureCheck::Verified {
            key: key_name.clone(),
            format: Format::SimpleSigning,
            found: Found {
                source: Source::LegacyTag,
                manifest: format!("{}.sig", signed.replacen(':', "-", 1))
            }
        })
    );

    let missing = checked(&h, &format!("{host}/team/unsigned:1.0"), &o, &checks).await;
    assert_eq!(cause(&missing), Some(Cause::Signature), "{missing:#?}");
    assert!(matches!(
        missing.signature,
        Some(SignatureCheck::Missing { .. })
    ));

    let foreign = checked(&h, &format!("{host}/team/otherkey:1.0"), &o, &checks).await;
    assert_eq!(cause(&foreign), Some(Cause::Signature));
    assert!(
        matches!(
            foreign.signature,
            Some(SignatureCheck::Untrusted { signatures: 1, .. })
        ),
        "{:?}",
        foreign.signature
    );

    let retagged = checked(&h, &format!("{host}/team/retagged:1.0"), &o, &checks).await;
    assert_eq!(cause(&retagged), Some(Cause::Signature));
    match &retagged.signature {
        Some(SignatureCheck::WrongDigest { signed_digest, .. }) => {
            assert_eq!(signed_digest, &signed)
        }
        s => panic!("{s:?}"),
    }

    let malformed = checked(&h, &format!("{host}/team/malformed:1.0"), &o, &checks).await;
    assert_eq!(cause(&malformed), Some(Cause::Signature));
    assert!(matches!(
        malformed.signature,
        Some(SignatureCheck::Malformed { .. })
    ));

    let uncovered = checked(&h, &format!("{host}/elsewhere/app:1.0"), &o, &checks).await;
    assert!(matches!(uncovered.verdict, Verdict::Pullable { .. }));
    assert_eq!(uncovered.signature, None, "the policy does not cover it");
    let strict = ProbeOptions {
        require_signature: true,
        ..opts(&[])
    };
    let strict = checked(&h, &format!("{host}/elsewhere/app:1.0"), &strict, &checks).await;
    assert_eq!(strict.signature, Some(SignatureCheck::NoTrustedKey));

    // The function, configured through the host's settings, on the arm64 node.
    let mut settings = Settings::new()
        .with(
            config::SIGNATURE_KEYS,
            &format!("{host}/team/*={}", key_file.display()),
        )
        .with(config::BASE_OS_MAX_BYTES, "0");
    ImagePullConfig::install(&mut settings).unwrap();
    let image = format!("{host}/team/retagged:1.0");
    let text = format!(
        "Failed to pull image \"{image}\": SignatureValidationFailed: image pull failed for {image} because the signature validation failed: no matching signatures"
    );
    let inc = incident(pod_json(
        &image,
        "IfNotPresent",
        &[],
        ("SignatureValidationFailed", &text),
    ));
    let ctx = Context::offline()
        .with_http(http(None))
        .with_settings(settings);
    let out = lastmile_fn_image_pull::handle(&inc, &ctx).await.unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.signature", "{d:#?}");
    assert_eq!(d.details["probed"], true);
    assert_eq!(d.details["signature"]["status"], "wrong_digest");
    assert!(
        d.evidence.iter().any(|e| e.contains("copied or re-tagged")),
        "{:?}",
        d.evidence
    );

    // The CLI: `--signature-key PATTERN=PEM`; exit 1 when any image fails.
    let bin = lastmile_tests::bin::lastmile_bin().unwrap();
    let out = std::process::Command::new(&bin)
        .args([
            "image",
            "check",
            &format!("{host}/team/signed:1.0"),
            &format!("{host}/team/otherkey:1.0"),
            "--signature-key",
            &format!("{host}/team/*={}", key_file.display()),
            "--plain-http",
            &host,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["images"][0]["ok"], true);
    assert_eq!(doc["images"][0]["signature"]["status"], "verified");
    assert_eq!(doc["images"][1]["class"], "image.signature");
    assert_eq!(doc["images"][1]["signature"]["status"], "untrusted");
    let out = std::process::Command::new(&bin)
        .args(["image", "check", "x:1", "--require-signature"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--require-signature needs a key"
    );
}

#[test]
fn function_host_rejects_an_unusable_signature_key_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let bin = lastmile_tests::bin::lastmile_bin().unwrap();
    let out = std::process::Command::new(&bin)
        .args(["function", "image-pull"])
        .current_dir(dir.path())
        .env(
            "LASTMILE_SIGNATURE_KEYS",
            "ghcr.io/acme/**=/nonexistent/cosign.pub",
        )
        .env("NATS_URL", "nats://127.0.0.1:1")
        .env("NATS_CONNECT_TIMEOUT", "1s")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("LASTMILE_SIGNATURE_KEYS") && err.contains("/nonexistent/cosign.pub"),
        "{err}"
    );
    assert!(
        !err.contains("cannot connect"),
        "failed before connecting: {err}"
    );
}
