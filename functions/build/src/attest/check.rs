//! The deploy-side check: the Go binaries found in the image about to run against what CI
//! attested. Same SHA-256 passes; anything else is a [`Mismatch`] carrying the `build diff`
//! findings (attested build = A, image = B) and their diagnoses.

use lastmile_events::{Diagnosis, Subject};

use super::dsse::{self, Envelope};
use super::statement::Statement;
use crate::buildinfo::input::Loaded;
use crate::compare::{self, Finding};

/// Why an attestation cannot be read or trusted.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    /// Neither a DSSE envelope nor an in-toto statement.
    #[error("not an attestation (neither a DSSE envelope nor an in-toto statement)")]
    Unreadable(#[source] serde_json::Error),
    /// Signature or key problem.
    #[error(transparent)]
    Dsse(#[from] dsse::DsseError),
    /// A public key was given but the file is an unsigned statement.
    #[error("the attestation is not signed, but a public key was given to verify it")]
    Unsigned,
    /// The envelope carries something other than an in-toto statement.
    #[error("payloadType {0:?} is not {IN_TOTO}", IN_TOTO = dsse::IN_TOTO_PAYLOAD_TYPE)]
    PayloadType(String),
    /// The statement is not one this reads.
    #[error(transparent)]
    Invalid(#[from] super::statement::StatementError),
}

/// Reads an attestation file: a DSSE envelope (verified with `key` when given) or a bare
/// statement (refused when a key is given). Returns the statement and whether it was verified.
pub fn read(
    bytes: &[u8],
    key: Option<&p256::ecdsa::VerifyingKey>,
) -> Result<(Statement, bool), AttestationError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(AttestationError::Unreadable)?;
    let (payload, verified) = if value.get("payloadType").is_some() {
        let env: Envelope = serde_json::from_value(value).map_err(AttestationError::Unreadable)?;
        if env.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
            return Err(AttestationError::PayloadType(env.payload_type));
        }
        match key {
            Some(k) => (env.verify(k)?, true),
            None => (env.payload_bytes()?, false),
        }
    } else {
        if key.is_some() {
            return Err(AttestationError::Unsigned);
        }
        (bytes.to_vec(), false)
    };
    let statement: Statement =
        serde_json::from_slice(&payload).map_err(AttestationError::Unreadable)?;
    statement.validate()?;
    Ok((statement, verified))
}

/// One attested binary that the image does not carry as attested.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The attested binary's name.
    pub name: String,
    /// Where it was looked for / found in the image.
    pub found: Option<String>,
    /// The differences (empty when the binary is missing).
    pub findings: Vec<Finding>,
}

impl Mismatch {
    /// One line: what differs.
    pub fn summary(&self) -> String {
        match &self.found {
            None => format!("{}: not in the image", self.name),
            Some(at) => format!(
                "{} (image {at}): {}",
                self.name,
                self.findings
                    .iter()
                    .map(compare::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }

    /// The `build diff` diagnoses, attested build as A and the image as B.
    pub fn diagnoses(&self, subject: &Subject) -> Vec<Diagnosis> {
        compare::diagnoses(
            &self.findings,
            &format!("attested {}", self.name),
            self.found.as_deref().unwrap_or("image"),
            subject,
        )
    }
}

/// Compares the image's Go binaries (`found`, from its layers) with the statement.
/// Returns the names that matched and every mismatch.
pub fn check(statement: &Statement, found: &[Loaded]) -> (Vec<String>, Vec<Mismatch>) {
    let attested = statement.binaries();
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (name, sha256, info) in &attested {
        let by_name = found
            .iter()
            .find(|l| basename(&l.file) == name.as_str() && l.sha256.as_deref() == Some(sha256))
            .or_else(|| found.iter().find(|l| basename(&l.file) == name.as_str()));
        let candidate = by_name.or_else(|| {
            (attested.len() == 1 && found.len() == 1)
                .then(|| found.first())
                .flatten()
        });
        let Some(image) = candidate else {
            bad.push(Mismatch {
                name: name.clone(),
                found: None,
                findings: Vec::new(),
            });
            continue;
        };
        let a = Loaded {
            file: format!("attested {name}"),
            source: "attestation".into(),
            sha256: Some(sha256.clone()),
            size: None,
            encoding: None,
            info: info.clone(),
        };
        let findings = compare::compare(&a, image);
        if image.sha256.as_deref() == Some(sha256.as_str()) && findings.is_empty() {
            ok.push(name.clone());
        } else {
            bad.push(Mismatch {
                name: name.clone(),
                found: Some(image.file.clone()),
                findings,
            });
        }
    }
    (ok, bad)
}

fn basename(file: &str) -> &str {
    let inner = file.rsplit(':').next().unwrap_or(file);
    inner.rsplit('/').next().unwrap_or(inner)
}

#[cfg(test)]
mod tests;
