//! Evidence bundles: redact, store each item content-addressed, then the manifest.
//!
//! Objects are written before the manifest, so a manifest never names a missing object;
//! object keys are the sha256 of the *redacted* bytes, so a redelivered message rewrites
//! nothing new and the manifest it writes is byte-identical.

use lastmile_contract::EvidenceItem;
use lastmile_events::{EvidenceObject, EvidenceRef};
use sha2::{Digest, Sha256};

use super::{EvidenceError, EvidenceStore};
use crate::error::Detail;
use crate::redact;

/// Media type of manifests.
pub const MANIFEST_MEDIA_TYPE: &str = "application/json";

/// The key of the object holding bytes whose sha256 is `hex`.
pub fn object_key(hex: &str) -> String {
    format!("objects/sha256/{hex}")
}

/// Redacts `items`, writes each as a content-addressed object (skipping ones that exist),
/// then writes the manifest at `manifest_key` and returns it.
pub async fn store_bundle(
    store: &dyn EvidenceStore,
    manifest_key: &str,
    items: &[EvidenceItem],
) -> Result<EvidenceRef, EvidenceError> {
    let objects = store_objects(store, items).await?;
    store_manifest(store, manifest_key, objects).await
}

/// The first half of [`store_bundle`]: redacts `items` and writes each as a
/// content-addressed object (skipping ones that exist), concurrently. An outcome's
/// diagnoses share its evidence, so the executor stores the objects once and writes one
/// manifest per diagnosis with [`store_manifest`].
pub async fn store_objects(
    store: &dyn EvidenceStore,
    items: &[EvidenceItem],
) -> Result<Vec<EvidenceObject>, EvidenceError> {
    futures::future::try_join_all(items.iter().map(|item| async move {
        let bytes = redact::bytes(&item.bytes, &item.media_type);
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let key = object_key(&sha256);
        if !store.exists(&key).await? {
            store.put(&key, &bytes, &item.media_type).await?;
        }
        Ok(EvidenceObject {
            name: item.name.clone(),
            key,
            sha256,
            size: bytes.len() as u64,
            media_type: item.media_type.clone(),
        })
    }))
    .await
}

/// The second half of [`store_bundle`]: writes the manifest listing `objects` (already
/// stored) at `manifest_key` and returns it.
pub async fn store_manifest(
    store: &dyn EvidenceStore,
    manifest_key: &str,
    objects: Vec<EvidenceObject>,
) -> Result<EvidenceRef, EvidenceError> {
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
    store.put(manifest_key, &bytes, MANIFEST_MEDIA_TYPE).await?;
    Ok(manifest)
}

#[cfg(test)]
mod tests;
