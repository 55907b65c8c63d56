//! Evidence bundles: redact, store each item content-addressed, then the manifest.
//!
//! Objects are written before the manifest, so a manifest never names a missing object;
//! object keys are the sha256 of the *redacted* bytes, so a redelivered message rewrites
//! nothing new and the manifest it writes is byte-identical.

use lastmile_contract::EvidenceItem;
use lastmile_events::{EvidenceObject, EvidenceRef};
use sha2::{Digest, Sha256};

use super::{EvidenceError, EvidenceStore};
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
    let mut objects = Vec::with_capacity(items.len());
    for item in items {
        let bytes = redact::bytes(&item.bytes, &item.media_type);
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let key = object_key(&sha256);
        if !store.exists(&key).await? {
            store.put(&key, &bytes, &item.media_type).await?;
        }
        objects.push(EvidenceObject {
            name: item.name.clone(),
            key,
            sha256,
            size: bytes.len() as u64,
            media_type: item.media_type.clone(),
        });
    }
    let manifest = EvidenceRef {
        store: store.url(),
        manifest_key: manifest_key.to_owned(),
        objects,
    };
    let bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| EvidenceError::Rejected(format!("manifest does not serialise: {e}")))?;
    store.put(manifest_key, &bytes, MANIFEST_MEDIA_TYPE).await?;
    Ok(manifest)
}

#[cfg(test)]
mod tests;
