//! The evidence store: content-addressed objects plus one manifest per outcome.
//!
//! Layout under the store's prefix:
//! - `objects/sha256/<hex>`: redacted evidence bytes, keyed by their hash (idempotent:
//!   writing the same bytes twice writes the same key);
//! - `manifests/<function>/<diagnosis-id>.json`: the [`lastmile_events::EvidenceRef`] listing the
//!   objects; the diagnoses of one outcome list the same objects, so they share one manifest,
//!   named after the outcome's first diagnosis.
//!
//! Two stores implement [`EvidenceStore`]: [`s3`] (any S3-compatible server) and
//! [`local`] (a directory; the embedded default `./lastmile-evidence/`).

pub mod bundle;
mod known;
pub mod local;
pub mod s3;

use async_trait::async_trait;

use crate::error::Detail;

pub use bundle::store_bundle;

/// Evidence store failures. The store client's own error (the S3 SDK's, serde's) is kept as
/// the [`Detail`]'s source.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The store is unreachable or failed transiently: retry.
    #[error("evidence store unavailable: {0}")]
    Unavailable(#[source] Detail),
    /// The store refused (credentials, missing bucket): configuration must change.
    #[error("evidence store rejected the write: {0}")]
    Rejected(#[source] Detail),
    /// Local I/O failed.
    #[error("evidence I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl EvidenceError {
    /// True when retrying later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Io(_))
    }
}

/// Somewhere to keep evidence bytes.
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// A URL naming the store and prefix (`s3://bucket/prefix`, `file:///abs/dir`).
    fn url(&self) -> String;
    /// Writes `bytes` at `key` (overwriting is allowed: keys are content-derived).
    async fn put(&self, key: &str, bytes: &[u8], media_type: &str) -> Result<(), EvidenceError>;
    /// Reads `key`, `None` when absent.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EvidenceError>;
    /// True when `key` exists (lets writers skip re-uploading identical objects).
    async fn exists(&self, key: &str) -> Result<bool, EvidenceError>;

    /// Stores a bundle: `objects` (content-addressed, so one whose key exists is skipped),
    /// then `manifests` (overwritten), so a manifest is never visible before the objects it
    /// names. The default checks and writes the objects concurrently, then the manifests
    /// concurrently; a store that can do the whole bundle in one trip overrides it (the
    /// local store writes it in one blocking-pool task instead of two per object).
    async fn put_bundle(
        &self,
        objects: Vec<Blob>,
        manifests: Vec<Blob>,
    ) -> Result<(), EvidenceError> {
        put_each(self, &objects, &manifests).await
    }
}

/// The default [`EvidenceStore::put_bundle`]: the objects checked and written concurrently
/// (a missing one only), then the manifests written concurrently.
async fn put_each<S: EvidenceStore + ?Sized>(
    store: &S,
    objects: &[Blob],
    manifests: &[Blob],
) -> Result<(), EvidenceError> {
    futures::future::try_join_all(objects.iter().map(|o| async move {
        if !store.exists(&o.key).await? {
            store.put(&o.key, &o.bytes, &o.media_type).await?;
        }
        Ok::<_, EvidenceError>(())
    }))
    .await?;
    futures::future::try_join_all(
        manifests
            .iter()
            .map(|m| store.put(&m.key, &m.bytes, &m.media_type)),
    )
    .await?;
    Ok(())
}

/// One object of a bundle: its key, its bytes (already redacted) and their media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// Where it is stored.
    pub key: String,
    /// What is stored.
    pub bytes: Vec<u8>,
    /// How the bytes are to be read (`application/json`, `text/plain`).
    pub media_type: String,
}
