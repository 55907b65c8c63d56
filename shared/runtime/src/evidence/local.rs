//! A directory as an evidence store: the embedded default (`./lastmile-evidence/`).
//!
//! Writes are atomic (a temp file in the target directory, then `rename`), so a reader or a
//! crashed writer never leaves a half-written object under its final key; keys are validated
//! so a key can never escape the root (`..`, absolute paths, backslashes).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::known::KnownObjects;
use super::{Blob, EvidenceError, EvidenceStore};

mod writer;

use writer::Writer;

/// Evidence kept under one directory; keys map to relative paths. Clones share the set
/// of objects known to exist, so a bundle skips the `stat` of an object this process
/// already wrote or saw, and the one thread that does its writes.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    known: Arc<KnownObjects>,
    writer: Arc<Writer>,
}

/// Distinguishes temp files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl LocalStore {
    /// A store rooted at `dir` (created on first write). Relative paths are resolved
    /// against the current directory now, so the store's URL is absolute.
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, EvidenceError> {
        let dir = dir.into();
        let root = if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir()?.join(dir)
        };
        Ok(Self {
            root,
            known: Arc::default(),
            writer: Arc::default(),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `key`, or `Rejected` when the key could escape the root.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, EvidenceError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

/// Keys are relative `/`-separated paths of normal components.
pub(crate) fn validate_key(key: &str) -> Result<(), EvidenceError> {
    let bad = |why: &str| {
        Err(EvidenceError::Rejected(
            format!("invalid evidence key {key:?}: {why}").into(),
        ))
    };
    if key.is_empty() {
        return bad("empty");
    }
    if key.contains('\\') || key.contains('\0') {
        return bad("backslash or NUL");
    }
    if key.starts_with('/') || Path::new(key).is_absolute() {
        return bad("absolute path");
    }
    for part in key.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return bad("empty, `.` or `..` path component");
        }
    }
    if !Path::new(key)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return bad("not a plain relative path");
    }
    Ok(())
}

#[async_trait]
impl EvidenceStore for LocalStore {
    fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn put(&self, key: &str, bytes: &[u8], _media_type: &str) -> Result<(), EvidenceError> {
        let path = self.path_of(key)?;
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        let bytes = bytes.to_vec();
        // One trip to the writer for the whole write (directory, temp file, rename).
        self.writer
            .run(move || write_atomically(&dir, &path, &bytes))
            .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EvidenceError> {
        match tokio::fs::read(self.path_of(key)?).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, EvidenceError> {
        Ok(tokio::fs::try_exists(self.path_of(key)?).await?)
    }

    /// The whole bundle in one trip to the writer thread: every key is checked first (a
    /// bad one writes nothing), then the objects that are missing, then the manifests. Two
    /// trips per object (exists, put) cost more than the writes themselves on a busy host:
    /// each is a hand-off to another thread and back. Objects this process already stored
    /// are not looked at again.
    async fn put_bundle(
        &self,
        objects: Vec<Blob>,
        manifests: Vec<Blob>,
    ) -> Result<(), EvidenceError> {
        let objects = self.known.unknown(objects);
        let keys: Vec<String> = objects.iter().map(|o| o.key.clone()).collect();
        let plan = |blobs: Vec<Blob>| -> Result<Vec<(PathBuf, Vec<u8>)>, EvidenceError> {
            blobs
                .into_iter()
                .map(|b| Ok((self.path_of(&b.key)?, b.bytes)))
                .collect()
        };
        let objects = plan(objects)?;
        let manifests = plan(manifests)?;
        let root = self.root.clone();
        self.writer
            .run(move || {
                for (path, bytes) in &objects {
                    if !path.try_exists()? {
                        write_atomically(path.parent().unwrap_or(&root), path, bytes)?;
                    }
                }
                for (path, bytes) in &manifests {
                    write_atomically(path.parent().unwrap_or(&root), path, bytes)?;
                }
                Ok(())
            })
            .await?;
        self.known.insert_all(keys.iter().map(String::as_str));
        Ok(())
    }
}

/// Writes `bytes` to a temp file in `dir`, then renames it to `path`; the temp file is
/// removed when either step fails.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
    // The directory usually exists (objects share a few hundred prefixes, manifests one per
    // function): create it only when the write says it is missing.
    let created = match std::fs::write(&tmp, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&tmp, bytes))
        }
        other => other,
    };
    let written = created.and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
