#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test]
async fn round_trip_and_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    assert!(!store.exists("objects/sha256/ab").await.unwrap());
    assert_eq!(store.get("objects/sha256/ab").await.unwrap(), None);
    store
        .put("objects/sha256/ab", b"one", "text/plain")
        .await
        .unwrap();
    assert!(store.exists("objects/sha256/ab").await.unwrap());
    store
        .put("objects/sha256/ab", b"two", "text/plain")
        .await
        .unwrap();
    assert_eq!(
        store.get("objects/sha256/ab").await.unwrap().as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(store.url(), format!("file://{}", dir.path().display()));
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("objects/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["ab".to_owned()]);
}

#[tokio::test]
async fn keys_cannot_escape_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("root")).unwrap();
    for key in [
        "../x",
        "a/../../x",
        "/etc/passwd",
        "a//b",
        "./a",
        "a\\..\\b",
        "",
        "a/.",
    ] {
        let err = store.put(key, b"x", "text/plain").await.unwrap_err();
        assert!(matches!(err, EvidenceError::Rejected(_)), "{key}: {err}");
        assert!(!err.is_retryable());
        assert!(store.get(key).await.is_err(), "{key}");
    }
    assert!(!dir.path().join("x").exists());
}

#[test]
fn relative_roots_become_absolute() {
    let store = LocalStore::new("lastmile-evidence").unwrap();
    assert!(store.root().is_absolute());
    assert!(store.url().starts_with("file:///"));
}

fn blob(key: &str, bytes: &[u8]) -> Blob {
    Blob {
        key: key.into(),
        bytes: bytes.to_vec(),
        media_type: "text/plain".into(),
    }
}

#[tokio::test]
async fn a_bundle_skips_existing_objects_and_overwrites_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    // An object already stored is not written again (its key is its content's hash, so
    // the bytes on disk are kept as they are).
    store
        .put("objects/sha256/aa", b"first", "text/plain")
        .await
        .unwrap();
    store
        .put("manifests/f/d1.json", b"old", "application/json")
        .await
        .unwrap();
    store
        .put_bundle(
            vec![
                blob("objects/sha256/aa", b"second"),
                blob("objects/sha256/bb", b"new"),
            ],
            vec![
                blob("manifests/f/d1.json", b"m1"),
                blob("manifests/f/d2.json", b"m2"),
            ],
        )
        .await
        .unwrap();
    let read = |k: &str| std::fs::read(dir.path().join(k)).unwrap();
    assert_eq!(read("objects/sha256/aa"), b"first");
    assert_eq!(read("objects/sha256/bb"), b"new");
    assert_eq!(read("manifests/f/d1.json"), b"m1");
    assert_eq!(read("manifests/f/d2.json"), b"m2");
}

#[tokio::test]
async fn a_bundle_with_a_bad_key_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let err = store
        .put_bundle(
            vec![blob("objects/sha256/aa", b"x")],
            vec![blob("manifests/../../escape.json", b"m")],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EvidenceError::Rejected(_)), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn objects_this_store_wrote_are_not_looked_at_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let bundle = || {
        (
            vec![blob("objects/sha256/aa", b"a")],
            vec![blob("manifests/f/d1.json", b"m1")],
        )
    };
    let (objects, manifests) = bundle();
    store.put_bundle(objects, manifests).await.unwrap();
    let object = dir.path().join("objects/sha256/aa");
    std::fs::remove_file(&object).unwrap();
    // The same store (or a clone) trusts what it wrote: the object is neither checked nor
    // rewritten, the manifest still is.
    std::fs::remove_file(dir.path().join("manifests/f/d1.json")).unwrap();
    let (objects, manifests) = bundle();
    store.clone().put_bundle(objects, manifests).await.unwrap();
    assert!(!object.exists());
    assert!(dir.path().join("manifests/f/d1.json").exists());
    // Another store on the same directory knows nothing yet, so it checks and writes.
    let (objects, manifests) = bundle();
    let other = LocalStore::new(dir.path()).unwrap();
    other.put_bundle(objects, manifests).await.unwrap();
    assert_eq!(std::fs::read(&object).unwrap(), b"a");
}
