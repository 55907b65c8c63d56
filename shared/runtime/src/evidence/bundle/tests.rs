#![allow(clippy::unwrap_used)]

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
    let pod = String::from_utf8(store.get(&first.objects[0].key).await.unwrap().unwrap()).unwrap();
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

#[tokio::test]
async fn finalized_items_are_stored_as_they_are_and_raw_items_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let raw = vec![EvidenceItem::text(
        "transcript.txt",
        "GET /v2/ HTTP/1.1\r\nAuthorization: Basic dXNlcjpodW50ZXIy\r\n",
    )];
    let redacted = store_bundle(&store, "manifests/f/raw.json", &raw)
        .await
        .unwrap();
    let text = store.get(&redacted.objects[0].key).await.unwrap().unwrap();
    assert!(
        !String::from_utf8(text)
            .unwrap()
            .contains("dXNlcjpodW50ZXIy")
    );
    // The executor's path trusts finalize: the bytes go to the store unchanged.
    let stored = store_finalized(&store, "manifests/f/finalized.json", &raw)
        .await
        .unwrap();
    let bytes = store.get(&stored.objects[0].key).await.unwrap().unwrap();
    assert_eq!(bytes, raw[0].bytes);
    assert_eq!(stored.manifest_key, "manifests/f/finalized.json");
}
