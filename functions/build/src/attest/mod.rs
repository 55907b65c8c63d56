//! What CI built, attested: an in-toto Statement v1 with a SLSA Provenance v1 predicate
//! ([`statement`]) naming each Go binary by its SHA-256 (and the image by its digest), with
//! each binary's build information, the `go.sum` digest and the Go environment that
//! matters; signed as a DSSE envelope with a cosign-compatible key ([`dsse`]); and the
//! deploy-side check that the binary about to run is the one attested ([`mod@check`]).

pub mod check;
pub mod ci_env;
pub mod cosign_key;
pub mod dsse;
pub mod statement;

pub use check::{Mismatch, check};
pub use statement::{CollectInput, Statement};

use lastmile_events::{CiRunRef, EventType, EvidenceRef};
use serde::{Deserialize, Serialize};

/// An attestation CI made, as published on `lastmile.ci.<provider>.build_attested`
/// (CloudEvents type `dev.lastmile.attestation.v1`; consumers of `CiEvent` skip it by type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestationEvent {
    /// The CI run that built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<CiRunRef>,
    /// SLSA builder id.
    pub builder_id: String,
    /// The statement's subjects (binaries, image).
    pub subjects: Vec<statement::ResourceDescriptor>,
    /// True when signed (DSSE).
    pub signed: bool,
    /// SHA-256 of the attestation file.
    pub sha256: String,
    /// Where the attestation is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceRef>,
}

impl EventType for AttestationEvent {
    const TYPE: &'static str = "dev.lastmile.attestation.v1";
}
