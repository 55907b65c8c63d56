//! The probe's signature step: read the cosign signature manifest of the resolved digest and
//! its payload blobs from the registry, then let [`crate::cosign`] judge them.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::cosign::{self, LayerVerdict, SignatureCheck, TrustedKey};
use crate::platform::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::probe::{Auth, Prober};
use crate::reference::ImageRef;

/// A signature payload larger than this is not a simple-signing document.
const MAX_PAYLOAD: usize = 256 * 1024;

#[derive(Debug, Default, Deserialize)]
struct SignatureManifest {
    #[serde(default)]
    layers: Vec<SignatureLayer>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureLayer {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Why a payload blob is unusable.
enum Payload {
    /// The bytes are wrong: the signature is malformed.
    Bad(String),
    /// The registry did not hand them over.
    Unreadable(String),
}

impl Prober<'_> {
    /// Checks the cosign signature of `digest` in `r`'s repository against `keys`.
    pub(crate) async fn check_signature(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: &str,
        keys: &[&TrustedKey],
    ) -> SignatureCheck {
        let Some(tag) = cosign::signature_tag(digest) else {
            return SignatureCheck::Malformed {
                reason: format!("{digest:?} is not a digest"),
            };
        };
        let accept = format!("{OCI_MANIFEST}, {DOCKER_MANIFEST}");
        let req = self.request(
            "GET",
            self.url(r, &format!("manifests/{tag}")),
            auth,
            Some(&accept),
        );
        let manifest = match self.send("signature", req, true).await {
            Ok(resp) if resp.status == 404 => return SignatureCheck::Missing { tag },
            Ok(resp) if (200..300).contains(&resp.status) => resp.body,
            Ok(resp) => {
                return SignatureCheck::Unreadable {
                    reason: format!("{tag} answered {}", resp.status),
                };
            }
            Err(e) => {
                return SignatureCheck::Unreadable {
                    reason: format!("{:?}: {}", e.kind, e.detail),
                };
            }
        };
        let Ok(doc) = serde_json::from_slice::<SignatureManifest>(&manifest) else {
            return SignatureCheck::Malformed {
                reason: format!("{tag} is not an image manifest"),
            };
        };
        let mut verdicts = Vec::new();
        for layer in doc
            .layers
            .iter()
            .filter(|l| l.media_type == cosign::SIMPLE_SIGNING)
            .take(cosign::MAX_SIGNATURES)
        {
            let Some(sig) = layer.annotations.get(cosign::SIGNATURE_ANNOTATION) else {
                verdicts.push(LayerVerdict::Malformed(format!(
                    "layer {} has no {} annotation",
                    layer.digest,
                    cosign::SIGNATURE_ANNOTATION
                )));
                continue;
            };
            match self.payload(r, auth, &layer.digest).await {
                Ok(payload) => verdicts.push(cosign::verify_layer(&payload, sig, keys, digest)),
                Err(Payload::Bad(reason)) => verdicts.push(LayerVerdict::Malformed(reason)),
                Err(Payload::Unreadable(reason)) => return SignatureCheck::Unreadable { reason },
            }
        }
        SignatureCheck::combine(&tag, &verdicts)
    }

    /// A payload blob, checked against its digest.
    async fn payload(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: &str,
    ) -> Result<Vec<u8>, Payload> {
        let Some(hex) = digest.strip_prefix("sha256:") else {
            return Err(Payload::Bad(format!(
                "payload digest {digest:?} is not sha256"
            )));
        };
        let req = self.request("GET", self.url(r, &format!("blobs/{digest}")), auth, None);
        match self.send("signature-payload", req, true).await {
            Ok(resp) if (200..300).contains(&resp.status) => {
                if resp.body.len() > MAX_PAYLOAD {
                    return Err(Payload::Bad(format!(
                        "payload {digest} is larger than {MAX_PAYLOAD} bytes"
                    )));
                }
                if hex::encode(Sha256::digest(&resp.body)) != hex.to_ascii_lowercase() {
                    return Err(Payload::Bad(format!(
                        "payload blob does not match its digest {digest}"
                    )));
                }
                Ok(resp.body)
            }
            Ok(resp) => Err(Payload::Unreadable(format!(
                "payload {digest} answered {}",
                resp.status
            ))),
            Err(e) => Err(Payload::Unreadable(format!(
                "payload {digest}: {:?}: {}",
                e.kind, e.detail
            ))),
        }
    }
}
