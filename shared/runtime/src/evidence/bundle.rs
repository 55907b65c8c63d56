//! Evidence bundles: redact, store each item content-addressed, then the manifest.
//!
//! Objects are written before the manifest, so a manifest never names a missing object;
//! object keys are the sha256 of the *redacted* bytes, so a redelivered message rewrites
//! nothing new and the manifest it writes is byte-identical.

use lastmile_contract::EvidenceItem;
use lastmile_events::{EvidenceObject, EvidenceRef};
use sha2::{Digest, Sha256};

use super::{Blob, EvidenceError, EvidenceStore};
use crate::error::Detail;
use crate::redact;

/// Media type of manifests.
pub const MANIFEST_MEDIA_TYPE: &str = "application/json";

/// The key of the object holding bytes whose sha256 is `hex`.
pub fn object_key(hex: &str) -> String {
    format!("objects/sha256/{hex}")
}

/// Redacts `items`, writes each as a content-addressed object (skipping ones that exist),
/// then writes the manifest at `manifest_key` listing them and returns it. The whole bundle
/// is one [`EvidenceStore::put_bundle`] call (objects first).
pub async fn store_bundle(
    store: &dyn EvidenceStore,
    manifest_key: &str,
    items: &[EvidenceItem],
) -> Result<EvidenceRef, EvidenceError> {
    store_redacted(store, objects_of(items, redact::bytes), manifest_key).await
}

/// [`store_bundle`] for the executor, whose items have just passed the one output
/// boundary ([`lastmile_contract::finalize`], which applied the redaction policy to each):
/// they are hashed and stored as they are instead of being parsed and redacted again.
pub(crate) async fn store_finalized(
    store: &dyn EvidenceStore,
    manifest_key: &str,
    items: &[EvidenceItem],
) -> Result<EvidenceRef, EvidenceError> {
    store_redacted(store, objects_of(items, |b, _| b.to_vec()), manifest_key).await
}

/// Writes `objects` (already cleaned and hashed) and the manifest listing them, in one
/// [`EvidenceStore::put_bundle`] call.
async fn store_redacted(
    store: &dyn EvidenceStore,
    (objects, blobs): (Vec<EvidenceObject>, Vec<Blob>),
    manifest_key: &str,
) -> Result<EvidenceRef, EvidenceError> {
    let (manifest, blob) = manifest_of(store, manifest_key, objects)?;
    store.put_bundle(blobs, vec![blob]).await?;
    Ok(manifest)
}

/// Each item passed through `clean` (the redaction policy) and hashed: what a manifest
/// lists, and the blobs to store.
fn objects_of(
    items: &[EvidenceItem],
    clean: impl Fn(&[u8], &str) -> Vec<u8>,
) -> (Vec<EvidenceObject>, Vec<Blob>) {
    items
        .iter()
        .map(|item| {
            let bytes = clean(&item.bytes, &item.media_type);
            let sha256 = hex::encode(Sha256::digest(&bytes));
            let key = object_key(&sha256);
            let object = EvidenceObject {
                name: item.name.clone(),
                key: key.clone(),
                sha256,
                size: bytes.len() as u64,
                media_type: item.media_type.clone(),
            };
            let blob = Blob {
                key,
                bytes,
                media_type: item.media_type.clone(),
            };
            (object, blob)
        })
        .unzip()
}

/// The manifest at `manifest_key` listing `objects`, and its serialised blob.
fn manifest_of(
    store: &dyn EvidenceStore,
    manifest_key: &str,
    objects: Vec<EvidenceObject>,
) -> Result<(EvidenceRef, Blob), EvidenceError> {
    let manifest = EvidenceRef {
        store: store.url(),
        manifest_key: manifest_key.to_owned(),
        objects,
    };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| {
        EvidenceError::Rejected(Detail::caused_by(
            format!("manifest does not serialise: {e}"),
            e,
        ))
    })?;
    let blob = Blob {
        key: manifest_key.to_owned(),
        bytes,
        media_type: MANIFEST_MEDIA_TYPE.to_owned(),
    };
    Ok((manifest, blob))
}

#[cfg(test)]
mod tests;
