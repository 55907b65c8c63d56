//! OCI 1.1 referrers, as cosign v3 stores signatures: the referrers API
//! (`GET /v2/<repo>/referrers/<digest>`) answers an image index of referrer descriptors;
//! a registry without it answers 404, and then the referrers tag schema applies: the same
//! index is tagged `sha256-<hex>`. Each descriptor whose `artifactType` is a Sigstore bundle
//! points to a manifest (empty config, one bundle layer, `subject` = the image). cosign v2's
//! `--registry-referrers-mode=oci-1-1` wrote [`COSIGN_SIGNATURE_ARTIFACT`] referrers instead:
//! the `.sig` manifest's simple-signing layers, with a `subject`. Pure parsing.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::bundle::{BUNDLE_PREFIX, SIGN_PREDICATE};

/// Referrer descriptors examined per image, at most.
pub const MAX_REFERRERS: usize = 16;
/// A referrer index or bundle manifest larger than this is not one cosign wrote.
pub const MAX_INDEX: usize = 1024 * 1024;
/// `artifactType` of cosign v2's simple-signing referrers (`--registry-referrers-mode=oci-1-1`).
pub const COSIGN_SIGNATURE_ARTIFACT: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// Annotation with the predicate type of a DSSE bundle (cosign sets it on the manifest).
pub const PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// A descriptor (in an index, or a manifest's layer or subject).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type.
    #[serde(default)]
    pub media_type: String,
    /// `sha256:<hex>`.
    #[serde(default)]
    pub digest: String,
    /// Size of the content in bytes.
    #[serde(default)]
    pub size: u64,
    /// The artifact type (referrers).
    #[serde(default)]
    pub artifact_type: String,
    /// Free-form annotations (cosign puts its signature and bundle here).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// A referrer manifest.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerManifest {
    /// The artifact type.
    #[serde(default)]
    pub artifact_type: String,
    /// Its layers (one bundle, for cosign).
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// What it refers to.
    pub subject: Option<Descriptor>,
}

/// What a referrers index lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Referrers that may be signatures (Sigstore bundles, cosign v2 simple-signing
    /// referrers), at most [`MAX_REFERRERS`].
    pub signatures: Vec<Descriptor>,
    /// Referrers of other artifact types, or bundles of attestations (by annotation).
    pub others: usize,
}

/// Parses a referrers index; `None` when it is not an image index.
pub fn listing(body: &[u8]) -> Option<Listing> {
    if body.len() > MAX_INDEX {
        return None;
    }
    let index: Index = serde_json::from_slice(body).ok()?;
    let mut out = Listing::default();
    for d in index.manifests {
        let bundle = d.artifact_type.starts_with(BUNDLE_PREFIX)
            || d.artifact_type == COSIGN_SIGNATURE_ARTIFACT;
        let attestation = d
            .annotations
            .get(PREDICATE_ANNOTATION)
            .is_some_and(|p| p != SIGN_PREDICATE);
        if bundle && !attestation && out.signatures.len() < MAX_REFERRERS {
            out.signatures.push(d);
        } else {
            out.others += 1;
        }
    }
    Some(out)
}

/// The referrers tag schema's tag for `digest`: `sha256:<hex>` → `sha256-<hex>`.
pub fn fallback_tag(digest: &str) -> Option<String> {
    super::signature_tag(digest).and_then(|t| t.strip_suffix(".sig").map(str::to_owned))
}

#[cfg(test)]
mod tests;
