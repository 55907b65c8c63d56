//! cosign v3 signatures for the test registry: Sigstore bundles (v0.3 JSON) signed with a
//! [`CosignKey`] or with a keyless-style certificate, pushed as OCI 1.1 referrers the way
//! cosign v3 does against a registry without the referrers API (docker-registry 2.8): the
//! bundle blob, the empty config, the referrer manifest (`artifactType`, `subject`), and the
//! referrers tag schema index `sha256-<hex>` listing it (appended to when it exists).

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{CertificateParams, CustomExtension, KeyPair, SanType, SigningKey};

use super::{CosignKey, OCI_INDEX, OCI_MANIFEST, Pusher, digest_of};

/// The bundle media type and referrer artifact type cosign v3 writes.
pub const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The predicate type of a cosign v3 image signature statement.
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
const IN_TOTO: &str = "application/vnd.in-toto+json";
const EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// DSSE's pre-authentication encoding.
fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The in-toto statement `cosign sign` (v3) signs: subject `digest`, `predicateType`.
pub fn statement(name: &str, digest: &str, predicate_type: &str) -> Vec<u8> {
    let hex = digest.trim_start_matches("sha256:");
    serde_json::to_vec(&serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hex}}],
        "predicateType": predicate_type,
        "predicate": {}
    }))
    .unwrap_or_default()
}

fn dsse(payload: &[u8], sig_der: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "payload": STANDARD.encode(payload),
        "payloadType": IN_TOTO,
        "signatures": [{"sig": STANDARD.encode(sig_der), "keyid": ""}]
    })
}

/// A bundle as `cosign sign --key` (v3) writes it: a DSSE envelope over `statement`,
/// `publicKey` verification material, and a (here empty) tlog entry list.
pub fn dsse_bundle(key: &CosignKey, statement: &[u8]) -> anyhow::Result<Vec<u8>> {
    let sig = key.sign_der(&pae(IN_TOTO, statement))?;
    Ok(serde_json::to_vec(&serde_json::json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": []},
        "dsseEnvelope": dsse(statement, &sig)
    }))?)
}

/// A bundle with a `messageSignature` over `manifest` (the image manifest's bytes): its
/// SHA-256 as `messageDigest` and the key's signature over it.
pub fn message_bundle(key: &CosignKey, manifest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let digest = digest_of(manifest);
    let raw = hex::decode(digest.trim_start_matches("sha256:"))?;
    Ok(serde_json::to_vec(&serde_json::json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": []},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(raw)},
            "signature": STANDARD.encode(key.sign_der(manifest)?)
        }
    }))?)
}

/// A keyless-style bundle: a DSSE envelope signed by a fresh key whose self-signed
/// certificate names `email` (SAN) and `issuer` (Fulcio's OIDC-issuer extension,
/// 1.3.6.1.4.1.57264.1.1), as Fulcio's leaf certificates do.
pub fn keyless_bundle(statement: &[u8], email: &str, issuer: &str) -> anyhow::Result<Vec<u8>> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params
        .subject_alt_names
        .push(SanType::Rfc822Name(email.try_into()?));
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
            issuer.as_bytes().to_vec(),
        ));
    let cert = params.self_signed(&key)?;
    let sig = key.sign(&pae(IN_TOTO, statement))?;
    Ok(serde_json::to_vec(&serde_json::json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {"certificate": {"rawBytes": STANDARD.encode(cert.der())}, "tlogEntries": []},
        "dsseEnvelope": dsse(statement, &sig)
    }))?)
}

impl Pusher {
    /// Pushes `bundle` as a cosign v3 referrer of the image `digest` (of media type
    /// `subject_type`) and lists it in the referrers tag schema index `sha256-<hex>`, as
    /// cosign v3 does when the registry has no referrers API. `predicate_type` goes into the
    /// annotations (`dev.sigstore.bundle.predicateType`; empty for a message-signature bundle,
    /// which has none). Returns the referrer's digest.
    pub async fn sigstore_referrer(
        &self,
        repo: &str,
        digest: &str,
        subject_type: &str,
        subject_size: usize,
        bundle: &[u8],
        predicate_type: &str,
    ) -> anyhow::Result<String> {
        let bundle_digest = self.blob(repo, bundle).await?;
        let empty = self.blob(repo, b"{}").await?;
        let content = if predicate_type.is_empty() {
            "message-signature"
        } else {
            "dsse-envelope"
        };
        let mut annotations = serde_json::json!({
            "dev.sigstore.bundle.content": content,
            "org.opencontainers.image.created": "2026-01-01T00:00:00Z"
        });
        if !predicate_type.is_empty() {
            annotations["dev.sigstore.bundle.predicateType"] = predicate_type.into();
        }
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": BUNDLE_V03,
            "config": {"mediaType": EMPTY, "digest": empty, "size": 2},
            "layers": [{"mediaType": BUNDLE_V03, "digest": bundle_digest, "size": bundle.len(),
                "annotations": {"org.opencontainers.image.title":
                    format!("{}.sigstore.json", bundle_digest.replacen(':', "-", 1))}}],
            "subject": {"mediaType": subject_type, "digest": digest, "size": subject_size},
            "annotations": annotations
        }))?;
        self.list_referrer(repo, digest, &manifest, BUNDLE_V03, annotations)
            .await
    }

    /// Pushes a cosign signature as cosign v2 did with `--registry-referrers-mode=oci-1-1`: the
    /// simple-signing manifest (payload naming `signed_digest`, signed by `key`) as a referrer
    /// of `digest` with `artifactType` `application/vnd.dev.cosign.artifact.sig.v1+json`,
    /// listed in the referrers tag schema index. Returns the referrer's digest.
    pub async fn cosign_v2_referrer(
        &self,
        repo: &str,
        digest: &str,
        subject: (&str, usize),
        signed_digest: &str,
        key: &CosignKey,
    ) -> anyhow::Result<String> {
        let payload = serde_json::to_vec(&serde_json::json!({
            "critical": {"identity": {"docker-reference": repo},
                         "image": {"docker-manifest-digest": signed_digest},
                         "type": "cosign container image signature"},
            "optional": null
        }))?;
        let payload_digest = self.blob(repo, &payload).await?;
        let config_digest = self.blob(repo, b"{}").await?;
        let artifact = "application/vnd.dev.cosign.artifact.sig.v1+json";
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": 2},
            "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": payload_digest, "size": payload.len(),
                "annotations": {"dev.cosignproject.cosign/signature": key.sign(&payload)?}}],
            "subject": {"mediaType": subject.0, "digest": digest, "size": subject.1}
        }))?;
        self.list_referrer(repo, digest, &manifest, artifact, serde_json::json!({}))
            .await
    }

    /// Pushes `manifest` by digest and appends it to `digest`'s referrers tag schema index.
    async fn list_referrer(
        &self,
        repo: &str,
        digest: &str,
        manifest: &[u8],
        artifact_type: &str,
        annotations: serde_json::Value,
    ) -> anyhow::Result<String> {
        let referrer = digest_of(manifest);
        self.manifest(repo, &referrer, OCI_MANIFEST, manifest)
            .await?;
        let tag = digest.replacen(':', "-", 1);
        let mut entries = self.referrers_tag(repo, &tag).await?;
        entries.push(serde_json::json!({
            "mediaType": OCI_MANIFEST, "digest": referrer, "size": manifest.len(),
            "artifactType": artifact_type, "annotations": annotations
        }));
        let index = serde_json::to_vec(
            &serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}),
        )?;
        self.manifest(repo, &tag, OCI_INDEX, &index).await?;
        Ok(referrer)
    }

    /// The bytes of the manifest `repo:reference`, as the registry serves them.
    pub async fn manifest_bytes(&self, repo: &str, reference: &str) -> anyhow::Result<Vec<u8>> {
        let resp = self
            .auth(
                self.client
                    .get(format!("{}/v2/{repo}/manifests/{reference}", self.base)),
            )
            .header("accept", format!("{OCI_MANIFEST}, {OCI_INDEX}"))
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("GET manifest {repo}:{reference}: {}", resp.status());
        }
        Ok(resp.bytes().await?.to_vec())
    }

    /// The descriptors the referrers tag `tag` lists today (none when it does not exist).
    async fn referrers_tag(&self, repo: &str, tag: &str) -> anyhow::Result<Vec<serde_json::Value>> {
        let resp = self
            .auth(
                self.client
                    .get(format!("{}/v2/{repo}/manifests/{tag}", self.base)),
            )
            .header("accept", OCI_INDEX)
            .send()
            .await?;
        match resp.status().as_u16() {
            404 => Ok(Vec::new()),
            200 => {
                let doc: serde_json::Value = resp.json().await?;
                Ok(doc["manifests"]
                    .as_array()
                    .context("the referrers tag is not an index")?
                    .clone())
            }
            s => bail!("GET referrers tag {repo}:{tag}: {s}"),
        }
    }
}
