//! The probe's signature step: find the signatures of the resolved digest everywhere cosign
//! stores them and let [`crate::cosign`] judge them. In cosign v3's order: the OCI 1.1
//! referrers API; on its 404 the referrers tag schema (`sha256-<hex>` index); then the legacy
//! `sha256-<hex>.sig` tag of cosign v1/v2. Every request goes through the probe's
//! [`lastmile_contract::RegistryHttp`] under its timeout; sizes are bounded.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::cosign::bundle::{self, BUNDLE_PREFIX, BundleVerdict, MAX_BUNDLE};
use crate::cosign::referrers::{
    self, COSIGN_SIGNATURE_ARTIFACT, Descriptor, Listing, MAX_INDEX, ReferrerManifest,
};
use crate::cosign::{self, Found, LayerVerdict, SignatureCheck, Source, TrustedKey};
use crate::platform::{DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use crate::probe::{Auth, Prober};
use crate::reference::ImageRef;

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

/// Why a blob or manifest is unusable.
enum Fetch {
    /// The bytes are wrong: the signature is malformed.
    Bad(String),
    /// The registry did not hand them over.
    Unreadable(String),
}

/// What the search found so far.
#[derive(Default)]
struct Search {
    verdicts: Vec<(Found, LayerVerdict)>,
    looked: Vec<String>,
    unreadable: Option<String>,
    attestations: usize,
}

impl Search {
    fn verified(&self) -> bool {
        self.verdicts
            .iter()
            .any(|(_, v)| matches!(v, LayerVerdict::Verified { .. }))
    }
}

impl Prober<'_> {
    /// Checks the cosign signatures of `digest` in `r`'s repository against `keys`.
    pub(crate) async fn check_signature(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: &str,
        keys: &[&TrustedKey],
    ) -> SignatureCheck {
        let (Some(sig_tag), Some(ref_tag)) = (
            cosign::signature_tag(digest),
            referrers::fallback_tag(digest),
        ) else {
            return SignatureCheck::Malformed {
                reason: format!("{digest:?} is not a digest"),
            };
        };
        let mut s = Search::default();
        if let Some((source, listing)) = self.listing(r, auth, digest, &ref_tag, &mut s).await {
            for d in &listing.signatures {
                let found = Found {
                    source,
                    manifest: d.digest.clone(),
                };
                if d.artifact_type == COSIGN_SIGNATURE_ARTIFACT {
                    let accept = Some(OCI_MANIFEST);
                    match self
                        .blob(r, auth, "manifests", &d.digest, MAX_INDEX, accept)
                        .await
                    {
                        Ok(m) => {
                            self.simple_signing(r, auth, digest, &m, found, keys, &mut s)
                                .await
                        }
                        Err(Fetch::Bad(reason)) => {
                            s.verdicts.push((found, LayerVerdict::Malformed(reason)));
                        }
                        Err(Fetch::Unreadable(reason)) => s.unreadable = Some(reason),
                    }
                    if s.verified() {
                        break;
                    }
                    continue;
                }
                match self.referrer(r, auth, d, digest, keys).await {
                    Ok(BundleVerdict::Signature(v)) => s.verdicts.push((found, v)),
                    Ok(BundleVerdict::Attestation(_)) => s.attestations += 1,
                    Err(Fetch::Bad(reason)) => {
                        s.verdicts.push((found, LayerVerdict::Malformed(reason)));
                    }
                    Err(Fetch::Unreadable(reason)) => s.unreadable = Some(reason),
                }
                if s.verified() {
                    break;
                }
            }
            if s.attestations > 0 {
                s.looked.push(format!(
                    "{} attestation bundle(s) there are not image signatures",
                    s.attestations
                ));
            }
        }
        if !s.verified() {
            self.legacy(r, auth, digest, &sig_tag, keys, &mut s).await;
        }
        SignatureCheck::judge(&s.verdicts, s.looked, s.unreadable)
    }

    /// GETs `path` in `r`'s repository: `Ok(None)` on 404, `Err` on any other failure.
    async fn get(
        &mut self,
        step: &str,
        r: &ImageRef,
        auth: &Auth,
        path: &str,
        accept: Option<&str>,
    ) -> Result<Option<Vec<u8>>, String> {
        let req = self.request("GET", self.url(r, path), auth, accept);
        match self.send(step, req, true).await {
            Ok(resp) if resp.status == 404 => Ok(None),
            Ok(resp) if (200..300).contains(&resp.status) => Ok(Some(resp.body)),
            Ok(resp) => Err(format!("{path} answered {}", resp.status)),
            Err(e) => Err(format!("{path}: {:?}: {}", e.kind, e.detail)),
        }
    }

    /// The referrers of `digest`: from the referrers API, else (404) from the tag schema.
    async fn listing(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: &str,
        tag: &str,
        s: &mut Search,
    ) -> Option<(Source, Listing)> {
        let accept = Some(OCI_INDEX);
        let path = format!("referrers/{digest}");
        match self
            .get("signature-referrers", r, auth, &path, accept)
            .await
        {
            Ok(Some(body)) => {
                return described(Source::Referrers, "the OCI referrers API".into(), &body, s);
            }
            Ok(None) => s
                .looked
                .push("the OCI referrers API (not served: 404)".into()),
            Err(e) => s.looked.push(format!("the OCI referrers API ({e})")),
        }
        let path = format!("manifests/{tag}");
        match self
            .get("signature-referrers-tag", r, auth, &path, accept)
            .await
        {
            Ok(Some(body)) => described(
                Source::ReferrersTag,
                format!("the referrers tag {tag}"),
                &body,
                s,
            ),
            Ok(None) => {
                s.looked.push(format!("the referrers tag {tag} (absent)"));
                None
            }
            Err(e) => {
                s.unreadable = Some(e);
                None
            }
        }
    }

    /// One bundle referrer: its manifest, then its bundle blob, judged.
    async fn referrer(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        d: &Descriptor,
        digest: &str,
        keys: &[&TrustedKey],
    ) -> Result<BundleVerdict, Fetch> {
        let manifest = self
            .blob(
                r,
                auth,
                "manifests",
                &d.digest,
                MAX_INDEX,
                Some(OCI_MANIFEST),
            )
            .await?;
        let m: ReferrerManifest = serde_json::from_slice(&manifest)
            .map_err(|_| Fetch::Bad("the referrer is not an image manifest".into()))?;
        if let Some(subject) = m.subject.as_ref().filter(|s| s.digest != digest) {
            return Err(Fetch::Bad(format!(
                "the referrer's subject is {}, not the image",
                subject.digest.chars().take(80).collect::<String>()
            )));
        }
        let layer = m
            .layers
            .iter()
            .find(|l| l.media_type.starts_with(BUNDLE_PREFIX))
            .ok_or_else(|| Fetch::Bad("the referrer has no Sigstore bundle layer".into()))?;
        if layer.size > MAX_BUNDLE as u64 {
            return Err(Fetch::Bad(format!(
                "its bundle is {} bytes, over the {MAX_BUNDLE}-byte limit",
                layer.size
            )));
        }
        let bytes = self
            .blob(r, auth, "blobs", &layer.digest, MAX_BUNDLE, None)
            .await?;
        Ok(bundle::verify(&bytes, keys, digest))
    }

    /// The legacy `sha256-<hex>.sig` tag of simple-signing layers.
    async fn legacy(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: &str,
        tag: &str,
        keys: &[&TrustedKey],
        s: &mut Search,
    ) {
        let accept = format!("{OCI_MANIFEST}, {DOCKER_MANIFEST}");
        let path = format!("manifests/{tag}");
        let manifest = match self.get("signature", r, auth, &path, Some(&accept)).await {
            Ok(Some(body)) => body,
            Ok(None) => {
                s.looked.push(format!("the legacy tag {tag} (absent)"));
                return;
            }
            Err(e) => {
                s.unreadable = Some(e);
                return;
            }
        };
        let found = Found {
            source: Source::LegacyTag,
            manifest: tag.to_owned(),
        };
        self.simple_signing(r, auth, digest, &manifest, found, keys, s)
            .await;
    }

    /// The simple-signing layers of a `.sig` manifest (or a cosign v2 referrer of one).
    #[allow(clippy::too_many_arguments)]
    async fn simple_signing(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        digest: &str,
        manifest: &[u8],
        found: Found,
        keys: &[&TrustedKey],
        s: &mut Search,
    ) {
        let Ok(doc) = serde_json::from_slice::<SignatureManifest>(manifest) else {
            let bad = LayerVerdict::Malformed("not an image manifest".into());
            s.verdicts.push((found, bad));
            return;
        };
        let layers: Vec<&SignatureLayer> = doc
            .layers
            .iter()
            .filter(|l| l.media_type == cosign::SIMPLE_SIGNING)
            .take(cosign::MAX_SIGNATURES)
            .collect();
        if layers.is_empty() {
            let reason = format!("it holds no {} layer", cosign::SIMPLE_SIGNING);
            s.verdicts.push((found, LayerVerdict::Malformed(reason)));
            return;
        }
        for layer in layers {
            let Some(sig) = layer.annotations.get(cosign::SIGNATURE_ANNOTATION) else {
                let reason = format!(
                    "layer {} has no {} annotation",
                    layer.digest,
                    cosign::SIGNATURE_ANNOTATION
                );
                s.verdicts
                    .push((found.clone(), LayerVerdict::Malformed(reason)));
                continue;
            };
            let v = match self
                .blob(r, auth, "blobs", &layer.digest, MAX_BUNDLE, None)
                .await
            {
                Ok(payload) => cosign::verify_layer(&payload, sig, keys, digest),
                Err(Fetch::Bad(reason)) => LayerVerdict::Malformed(reason),
                Err(Fetch::Unreadable(reason)) => {
                    s.unreadable = Some(reason);
                    return;
                }
            };
            s.verdicts.push((found.clone(), v));
        }
    }

    /// A manifest or blob by digest, at most `max` bytes, checked against its digest.
    async fn blob(
        &mut self,
        r: &ImageRef,
        auth: &Auth,
        kind: &str,
        digest: &str,
        max: usize,
        accept: Option<&str>,
    ) -> Result<Vec<u8>, Fetch> {
        let Some(hex) = digest.strip_prefix("sha256:") else {
            return Err(Fetch::Bad(format!("digest {digest:?} is not sha256")));
        };
        let step = format!("signature-{kind}");
        let path = format!("{kind}/{digest}");
        match self.get(&step, r, auth, &path, accept).await {
            Ok(Some(body)) if body.len() > max => {
                Err(Fetch::Bad(format!("{digest} is larger than {max} bytes")))
            }
            Ok(Some(body)) if hex::encode(Sha256::digest(&body)) != hex.to_ascii_lowercase() => {
                Err(Fetch::Bad(format!("{digest} does not match its bytes")))
            }
            Ok(Some(body)) => Ok(body),
            Ok(None) => Err(Fetch::Unreadable(format!("{path} answered 404"))),
            Err(e) => Err(Fetch::Unreadable(e)),
        }
    }
}

/// Reads a referrers index from `source`, noting what it lists.
fn described(
    source: Source,
    what: String,
    body: &[u8],
    s: &mut Search,
) -> Option<(Source, Listing)> {
    let Some(listing) = referrers::listing(body) else {
        s.looked.push(format!(
            "{what} (answered something that is not an image index)"
        ));
        return None;
    };
    if listing.signatures.is_empty() {
        s.looked.push(format!(
            "{what} ({} referrer(s), none a Sigstore signature bundle)",
            listing.others
        ));
    }
    Some((source, listing))
}
