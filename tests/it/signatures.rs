//! cosign v3 signatures against a real docker-registry 2.8, which has no referrers API: the
//! Sigstore bundles are pushed as OCI 1.1 referrers listed in the referrers tag schema index
//! (`sha256-<hex>`), as cosign v3 does there, signed with P-256 keys generated here. The
//! probe must find them (after the referrers API's 404), verify them with the configured key,
//! tell apart another key, a copied signature, a keyless signer and no signature at all, and
//! still verify the legacy `.sig` tag; then the same through `lastmile image check`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use lastmile_contract::{HttpExchange, HttpRequest, RegistryHttp, SystemClock};
use lastmile_fn_image_pull::cosign::{Format, SignatureCheck, Source};
use lastmile_fn_image_pull::message::Cause;
use lastmile_fn_image_pull::policy::{EntrySpec, SignaturePolicy};
use lastmile_fn_image_pull::probe::{self, Checks, ProbeOptions, ProbeReport, Verdict};
use lastmile_runtime::http::{HttpConfig, ReqwestRegistryHttp};
use lastmile_tests::registry::sigstore::{self, SIGN_PREDICATE};
use lastmile_tests::registry::{CosignKey, Pusher, Registry, RegistryAuth, linux};

const SLSA: &str = "https://slsa.dev/provenance/v1";

fn real_http() -> Arc<dyn RegistryHttp> {
    Arc::new(ReqwestRegistryHttp::new(&HttpConfig::default()).unwrap())
}

/// The test registry as an OCI 1.1 registry with the referrers API: `GET
/// /v2/<repo>/referrers/<digest>` answers the referrers index the registry holds under the
/// tag schema (an empty index when there is none), as a registry that maintains it would;
/// every other request goes to the registry unchanged.
struct WithReferrersApi(Arc<dyn RegistryHttp>);

impl RegistryHttp for WithReferrersApi {
    fn send<'a, 'b>(
        &'a self,
        mut request: HttpRequest,
    ) -> Pin<Box<dyn Future<Output = HttpExchange> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        Box::pin(async move {
            let Some((base, digest)) = request.url.split_once("/referrers/") else {
                return self.0.send(request).await;
            };
            request.url = format!("{base}/manifests/{}", digest.replacen(':', "-", 1));
            let mut resp = self.0.send(request).await?;
            if resp.status == 404 {
                resp.status = 200;
                resp.body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec();
            }
            Ok(resp)
        })
    }
}

async fn check(image: &str, checks: &Checks) -> ProbeReport {
    check_with(real_http(), image, checks).await
}

async fn check_with(http: Arc<dyn RegistryHttp>, image: &str, checks: &Checks) -> ProbeReport {
    let o = ProbeOptions {
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    probe::probe_checked(http.as_ref(), &SystemClock, image, &[], &o, checks).await
}

fn detail(r: &ProbeReport) -> &str {
    match &r.verdict {
        Verdict::Fails { detail, .. } => detail,
        Verdict::Pullable { .. } => "",
    }
}

/// Pushes `repo:1.0` and returns (digest, media type, size).
async fn image(push: &Pusher, repo: &str) -> (String, &'static str, usize) {
    push.image(repo, Some("1.0"), linux("amd64"), true)
        .await
        .unwrap()
}

/// Signs `repo`'s image as `cosign sign --key` v3 does, over `subject` (normally its own
/// digest), and pushes the bundle as its referrer.
async fn sign_v3(push: &Pusher, host: &str, repo: &str, key: &CosignKey, subject: Option<&str>) {
    let (digest, mt, size) = image(push, repo).await;
    let statement = sigstore::statement(
        &format!("{host}/{repo}"),
        subject.unwrap_or(&digest),
        SIGN_PREDICATE,
    );
    let bundle = sigstore::dsse_bundle(key, &statement).unwrap();
    push.sigstore_referrer(repo, &digest, mt, size, &bundle, SIGN_PREDICATE)
        .await
        .unwrap();
}

#[tokio::test]
async fn cosign_v3_referrers_are_found_through_the_tag_schema_and_verified() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    let host = reg.host();
    let trusted = CosignKey::generate().unwrap();
    let stranger = CosignKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("cosign.pub");
    std::fs::write(&key_file, trusted.public_pem()).unwrap();

    // v3-signed, with an SLSA attestation by the same key listed first in the same index.
    let (signed, mt, size) = image(&push, "team/v3").await;
    let provenance = sigstore::statement(&format!("{host}/team/v3"), &signed, SLSA);
    let attestation = sigstore::dsse_bundle(&trusted, &provenance).unwrap();
    push.sigstore_referrer("team/v3", &signed, mt, size, &attestation, SLSA)
        .await
        .unwrap();
    sign_v3(&push, &host, "team/v3", &trusted, None).await;
    sign_v3(&push, &host, "team/v3-other", &stranger, None).await;
    // A valid v3 signature of team/v3's digest, attached to another image.
    sign_v3(&push, &host, "team/v3-copied", &trusted, Some(&signed)).await;
    let (keyless, mt, size) = image(&push, "team/keyless").await;
    let statement = sigstore::statement("team/keyless", &keyless, SIGN_PREDICATE);
    let issuer = "https://token.actions.githubusercontent.com";
    let bundle = sigstore::keyless_bundle(&statement, "release@example.com", issuer).unwrap();
    push.sigstore_referrer("team/keyless", &keyless, mt, size, &bundle, SIGN_PREDICATE)
        .await
        .unwrap();
    let (attested, mt, size) = image(&push, "team/attested-only").await;
    let provenance = sigstore::statement("team/attested-only", &attested, SLSA);
    let attestation = sigstore::dsse_bundle(&trusted, &provenance).unwrap();
    push.sigstore_referrer(
        "team/attested-only",
        &attested,
        mt,
        size,
        &attestation,
        SLSA,
    )
    .await
    .unwrap();
    // A message-signature bundle over the image manifest's bytes (no predicate type).
    let (message, mt, size) = image(&push, "team/message").await;
    let manifest = push.manifest_bytes("team/message", &message).await.unwrap();
    let bundle = sigstore::message_bundle(&trusted, &manifest).unwrap();
    push.sigstore_referrer("team/message", &message, mt, size, &bundle, "")
        .await
        .unwrap();
    // cosign v2's `--registry-referrers-mode=oci-1-1`: simple signing as a referrer.
    let (v2, mt, size) = image(&push, "team/v2-referrer").await;
    push.cosign_v2_referrer("team/v2-referrer", &v2, (mt, size), &v2, &trusted)
        .await
        .unwrap();
    image(&push, "team/unsigned").await;
    let (legacy, ..) = image(&push, "team/legacy").await;
    push.cosign_signature("team/legacy", &legacy, &legacy, &trusted)
        .await
        .unwrap();

    let checks = Checks {
        signature: SignaturePolicy::load(&[EntrySpec {
            pattern: format!("{host}/team/*"),
            key_file: key_file.clone(),
        }])
        .unwrap(),
        ..Default::default()
    };

    let ok = check(&format!("{host}/team/v3:1.0"), &checks).await;
    assert!(matches!(ok.verdict, Verdict::Pullable { .. }), "{ok:#?}");
    match &ok.signature {
        Some(SignatureCheck::Verified { key, format, found }) => {
            assert_eq!(key, &key_file.display().to_string());
            assert_eq!(*format, Format::Dsse);
            assert_eq!(found.source, Source::ReferrersTag);
        }
        s => panic!("{s:?}"),
    }
    // The registry was asked the referrers API first and answered 404 (docker-registry 2.8).
    let referrers = ok
        .transcript
        .entries
        .iter()
        .find(|e| e.step == "signature-referrers")
        .expect("the referrers API was asked");
    assert!(
        referrers.url.contains("/referrers/sha256:"),
        "{}",
        referrers.url
    );
    assert_eq!(referrers.status, Some(404));

    let msg = check(&format!("{host}/team/message:1.0"), &checks).await;
    assert!(
        matches!(
            &msg.signature,
            Some(SignatureCheck::Verified {
                format: Format::MessageSignature,
                ..
            })
        ),
        "{msg:#?}"
    );

    let v2 = check(&format!("{host}/team/v2-referrer:1.0"), &checks).await;
    assert!(
        matches!(&v2.signature, Some(SignatureCheck::Verified { format: Format::SimpleSigning, found, .. }) if found.source == Source::ReferrersTag),
        "{:?}",
        v2.signature
    );

    let other = check(&format!("{host}/team/v3-other:1.0"), &checks).await;
    assert_eq!(other.cause(), Some(Cause::Signature), "{other:#?}");
    assert!(
        matches!(&other.signature, Some(SignatureCheck::Untrusted { signatures: 1, found }) if found.source == Source::ReferrersTag),
        "{:?}",
        other.signature
    );
    assert!(
        detail(&other).contains("by no trusted key")
            && detail(&other).contains("referrers tag schema"),
        "{}",
        detail(&other)
    );

    let copied = check(&format!("{host}/team/v3-copied:1.0"), &checks).await;
    match &copied.signature {
        Some(SignatureCheck::WrongDigest { signed_digest, .. }) => {
            assert_eq!(signed_digest, &signed)
        }
        s => panic!("{s:?}"),
    }
    assert!(detail(&copied).contains("copied or re-tagged"));

    let kl = check(&format!("{host}/team/keyless:1.0"), &checks).await;
    assert_eq!(kl.cause(), Some(Cause::Signature));
    assert_eq!(
        kl.signature
            .as_ref()
            .map(|s| matches!(s, SignatureCheck::Keyless { .. })),
        Some(true),
        "{:?}",
        kl.signature
    );
    let d = detail(&kl);
    assert!(
        d.contains("keyless by release@example.com") && d.contains(issuer),
        "{d}"
    );
    assert!(!d.contains("no cosign signature"), "{d}");

    let attested_only = check(&format!("{host}/team/attested-only:1.0"), &checks).await;
    assert!(
        matches!(
            attested_only.signature,
            Some(SignatureCheck::Missing { .. })
        ),
        "an attestation is not a signature: {:?}",
        attested_only.signature
    );
    assert!(detail(&attested_only).contains("1 referrer(s), none a Sigstore signature bundle"));

    let unsigned = check(&format!("{host}/team/unsigned:1.0"), &checks).await;
    let d = detail(&unsigned);
    assert!(
        d.contains("no cosign signature")
            && d.contains("referrers API (not served: 404)")
            && d.contains("referrers tag sha256-")
            && d.contains(".sig (absent)"),
        "{d}"
    );

    let old = check(&format!("{host}/team/legacy:1.0"), &checks).await;
    assert!(
        matches!(&old.signature, Some(SignatureCheck::Verified { format: Format::SimpleSigning, found, .. }) if found.source == Source::LegacyTag),
        "{:?}",
        old.signature
    );

    // A registry that serves the referrers API: the same referrers are found there, and the
    // tag schema is not asked; an image without referrers is unsigned without a fallback.
    let api: Arc<dyn RegistryHttp> = Arc::new(WithReferrersApi(real_http()));
    let via_api = check_with(api.clone(), &format!("{host}/team/v3:1.0"), &checks).await;
    assert!(
        matches!(&via_api.signature, Some(SignatureCheck::Verified { found, .. }) if found.source == Source::Referrers),
        "{:?}",
        via_api.signature
    );
    let steps: Vec<&str> = via_api
        .transcript
        .entries
        .iter()
        .map(|e| e.step.as_str())
        .collect();
    assert!(!steps.contains(&"signature-referrers-tag"), "{steps:?}");
    let other = check_with(api.clone(), &format!("{host}/team/v3-other:1.0"), &checks).await;
    assert!(
        detail(&other).contains("listed by the OCI referrers API"),
        "{}",
        detail(&other)
    );
    let none = check_with(api, &format!("{host}/team/unsigned:1.0"), &checks).await;
    let d = detail(&none);
    assert!(
        d.contains("the OCI referrers API (0 referrer(s)") && !d.contains("referrers tag"),
        "{d}"
    );

    // The CLI gate: v3 and legacy pass; another key fails with its cause; unsigned fails
    // --require-signature.
    let bin = lastmile_tests::bin::lastmile_bin().unwrap();
    let key_arg = format!("{host}/team/*={}", key_file.display());
    let run = |images: &[String], extra: &[&str]| {
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(["image", "check"]).args(images);
        cmd.args(["--signature-key", &key_arg, "--plain-http", &host]);
        cmd.args(extra).output().unwrap()
    };
    let pass = run(
        &[
            format!("{host}/team/v3:1.0"),
            format!("{host}/team/legacy:1.0"),
        ],
        &["--format", "json"],
    );
    assert_eq!(
        pass.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&pass.stdout),
        String::from_utf8_lossy(&pass.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&pass.stdout).unwrap();
    assert_eq!(doc["images"][0]["signature"]["status"], "verified");
    assert_eq!(doc["images"][0]["signature"]["format"], "dsse");
    assert_eq!(
        doc["images"][0]["signature"]["found"]["source"],
        "referrers_tag"
    );
    assert_eq!(
        doc["images"][1]["signature"]["found"]["source"],
        "legacy_tag"
    );

    let fail = run(&[format!("{host}/team/v3-other:1.0")], &[]);
    assert_eq!(fail.status.code(), Some(1));
    let text = String::from_utf8_lossy(&fail.stdout);
    assert!(
        text.contains("image.signature") && text.contains("by no trusted key"),
        "{text}"
    );

    let strict = run(
        &[format!("{host}/team/unsigned:1.0")],
        &["--require-signature"],
    );
    assert_eq!(strict.status.code(), Some(1));
    let text = String::from_utf8_lossy(&strict.stdout);
    assert!(text.contains("no cosign signature"), "{text}");
}
