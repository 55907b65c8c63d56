//! What a function returns.

use lastmile_events::Diagnosis;
use serde::Serialize;

use crate::FunctionError;

/// One piece of evidence, before redaction and storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceItem {
    /// Logical name inside the bundle (`pod.json`, `probe-transcript.json`).
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Content. The host redacts secrets before anything is written.
    pub bytes: Vec<u8>,
}

impl EvidenceItem {
    /// Evidence as pretty JSON.
    pub fn json<T: Serialize + ?Sized>(
        name: impl Into<String>,
        value: &T,
    ) -> Result<Self, FunctionError> {
        let bytes = serde_json::to_vec_pretty(value)
            .map_err(|e| FunctionError::permanent(format!("evidence does not serialise: {e}")))?;
        Ok(Self {
            name: name.into(),
            media_type: "application/json".into(),
            bytes,
        })
    }

    /// Evidence as plain text.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            media_type: "text/plain; charset=utf-8".into(),
            bytes: text.into().into_bytes(),
        }
    }
}

/// The result of one invocation. Remediation commands are the diagnoses' `remediation`
/// entries; hosts publish each on `lastmile.remediation.<class>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Diagnoses, most likely first. Empty when there is nothing to say (e.g. resolved).
    pub diagnoses: Vec<Diagnosis>,
    /// Evidence to store in one bundle per diagnosis.
    pub evidence: Vec<EvidenceItem>,
}

impl Outcome {
    /// Total evidence size in bytes.
    pub fn evidence_bytes(&self) -> usize {
        self.evidence.iter().map(|e| e.bytes.len()).sum()
    }
}
