//! What a function returns.

use lastmile_events::Diagnosis;
use serde::Serialize;
use serde_json::Value;

use crate::FunctionError;

/// One piece of evidence, before redaction and storage.
#[derive(Debug, Clone)]
pub struct EvidenceItem {
    /// Logical name inside the bundle (`pod.json`, `probe-transcript.json`).
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Content. The host redacts secrets before anything is written.
    pub bytes: Vec<u8>,
    /// The JSON document `bytes` were serialised from ([`EvidenceItem::json_document`]),
    /// so the output boundary redacts it as it is instead of parsing `bytes` again.
    document: Option<Document>,
}

/// A document and a fingerprint of the bytes serialised from it: if `bytes` were changed
/// afterwards, the fingerprint no longer matches and the document is not used.
#[derive(Debug, Clone)]
struct Document {
    value: Value,
    fingerprint: u64,
}

/// Items are equal when what would be stored is: name, media type and bytes.
impl PartialEq for EvidenceItem {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.media_type == other.media_type && self.bytes == other.bytes
    }
}

impl Eq for EvidenceItem {}

/// Media type of JSON evidence.
const JSON: &str = "application/json";

impl EvidenceItem {
    /// Evidence of any media type, as bytes.
    pub fn new(name: impl Into<String>, media_type: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            media_type: media_type.into(),
            bytes,
            document: None,
        }
    }

    /// Evidence as pretty JSON, its fields in the order `value` serialises them.
    pub fn json<T: Serialize + ?Sized>(
        name: impl Into<String>,
        value: &T,
    ) -> Result<Self, FunctionError> {
        Ok(Self::new(name, JSON, pretty(value)?))
    }

    /// Evidence as pretty JSON from a document the function built as a [`Value`] (keys in
    /// sorted order). The document is kept with the item, so the output boundary redacts
    /// it without parsing the bytes back: for the largest items (a pod, a Job) that parse
    /// was most of the boundary's cost.
    pub fn json_document(name: impl Into<String>, value: Value) -> Result<Self, FunctionError> {
        let bytes = pretty(&value)?;
        let fingerprint = fingerprint(&bytes);
        Ok(Self {
            document: Some(Document { value, fingerprint }),
            ..Self::new(name, JSON, bytes)
        })
    }

    /// Evidence as plain text.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(name, "text/plain; charset=utf-8", text.into().into_bytes())
    }

    /// The document the bytes were serialised from, taken out of the item; `None` when
    /// there is none, or when the bytes were changed after it was attached.
    pub(crate) fn take_document(&mut self) -> Option<Value> {
        self.document
            .take()
            .filter(|d| d.fingerprint == fingerprint(&self.bytes))
            .map(|d| d.value)
    }
}

fn pretty<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, FunctionError> {
    serde_json::to_vec_pretty(value)
        .map_err(|e| FunctionError::permanent(format!("evidence does not serialise: {e}")))
}

/// A fingerprint of bytes: it tells bytes changed by mistake from the ones a document
/// was serialised into (functions are trusted code: no adversary chooses a collision).
fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

/// The result of one invocation. Remediation commands are the diagnoses' `remediation`
/// entries; hosts publish each on `lastmile.remediation.<class>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Diagnoses, most likely first. Empty when there is nothing to say (e.g. resolved).
    pub diagnoses: Vec<Diagnosis>,
    /// Evidence to store in one bundle, which the diagnoses share.
    pub evidence: Vec<EvidenceItem>,
}

impl Outcome {
    /// Total evidence size in bytes.
    pub fn evidence_bytes(&self) -> usize {
        self.evidence.iter().map(|e| e.bytes.len()).sum()
    }
}
