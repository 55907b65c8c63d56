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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::evidence::local::LocalStore;

    fn items() -> Vec<EvidenceItem> {
        let pod = serde_json::json!({
            "kind": "Pod",
            "metadata": {"name": "api-0", "namespace": "shop"},
            "spec": {"containers": [{"name": "api", "env": [{"name": "TOKEN", "value": "tok-Very-Secret-1"}]}],
                     "imagePullSecrets": [{"name": "regcred"}]}
        });
        vec![
            EvidenceItem::json("pod.json", &pod).unwrap(),
            EvidenceItem::text(
                "transcript.txt",
                "GET /v2/ HTTP/1.1\r\nAuthorization: Basic dXNlcjpodW50ZXIy\r\n",
            ),
            EvidenceItem::text("events.txt", "0/3 nodes are available: 3 Insufficient cpu."),
        ]
    }

    #[tokio::test]
    async fn bundle_is_redacted_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path()).unwrap();
        let key = "manifests/pending/d1.json";
        let first = store_bundle(&store, key, &items()).await.unwrap();
        let manifest_bytes = std::fs::read(dir.path().join(key)).unwrap();
        let second = store_bundle(&store, key, &items()).await.unwrap();
        assert_eq!(first, second);
        assert_eq!(std::fs::read(dir.path().join(key)).unwrap(), manifest_bytes);
        let stored: EvidenceRef = serde_json::from_slice(&manifest_bytes).unwrap();
        assert_eq!(stored, first);
        assert_eq!(first.store, store.url());
        assert_eq!(first.objects.len(), 3);
        assert_eq!(
            std::fs::read_dir(dir.path().join("objects/sha256"))
                .unwrap()
                .count(),
            3
        );
        for obj in &first.objects {
            let bytes = store.get(&obj.key).await.unwrap().unwrap();
            assert_eq!(hex::encode(Sha256::digest(&bytes)), obj.sha256);
            assert_eq!(obj.key, object_key(&obj.sha256));
            assert_eq!(bytes.len() as u64, obj.size);
            let text = String::from_utf8(bytes).unwrap();
            assert!(
                !text.contains("tok-Very-Secret-1") && !text.contains("dXNlcjpodW50ZXIy"),
                "{text}"
            );
        }
        let pod =
            String::from_utf8(store.get(&first.objects[0].key).await.unwrap().unwrap()).unwrap();
        assert!(pod.contains("regcred") && pod.contains("TOKEN"), "{pod}");
    }

    #[tokio::test]
    async fn a_bad_manifest_key_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path()).unwrap();
        let err = store_bundle(&store, "../escape.json", &items())
            .await
            .unwrap_err();
        assert!(matches!(err, EvidenceError::Rejected(_)));
    }
}
