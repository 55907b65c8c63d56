//! Diagnoses, remediation commands and evidence references: what functions produce.
//!
//! The JSON shape of [`DiagnosisReport`] is the public contract of
//! `../shared/reference/taxonomy.md` (`{"diagnoses": [...]}`); extra fields are additive.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ci::CiRunRef;
use crate::envelope::EventType;

pub use crate::class::Class;

pub mod patch;
pub mod searched;

pub use patch::{
    ExpectedField, PatchSpec, PatchTarget, PatchType, Preconditions, StructuredRemediation,
};
pub use searched::{FamilySearch, Searched};

/// What the diagnosis is about (the taxonomy's `subject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub struct Subject {
    /// The object's kind, e.g. `Pod`, `Job`, `Deployment`.
    pub kind: String,
    /// Its namespace; absent for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name.
    pub name: String,
    /// Container, when the cause is specific to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

impl Subject {
    /// The subject for an object, optionally narrowed to one of its containers.
    pub fn of(object: &crate::ObjectRef, container: Option<&str>) -> Self {
        Self {
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            container: container.map(str::to_owned),
        }
    }
}

/// One step that would fix the cause, as text for people. A machine-applicable form, when
/// there is one, is a `StructuredRemediation` beside it in `Diagnosis::patches`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Remediation {
    /// What the step does and why it is enough.
    pub description: String,
    /// A command ready to run (`kubectl patch …`), when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// One diagnosis in the taxonomy's shape, plus additive fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnosis {
    /// What went wrong: a taxonomy class ID (docs/classes.md).
    pub class: Class,
    /// 0.0–1.0: how sure the function is.
    pub confidence: f64,
    /// One sentence a person can act on.
    pub summary: String,
    /// What it is about.
    pub subject: Subject,
    /// The facts that support it, quoted where they come from text.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Steps that would fix it.
    #[serde(default)]
    pub remediation: Vec<Remediation>,
    /// Steps of `remediation` also given as a patch a machine can check and apply (the
    /// `patch` module); additive, absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<StructuredRemediation>,
    /// Deterministic id: the same incident state diagnosed twice gives the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The function that produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The incident key it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    /// The CI run that deployed the subject, when linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiRunRef>,
    /// Where the evidence bundle is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_ref: Option<EvidenceRef>,
    /// The trace id of the diagnosis span (hex), for finding it in Jaeger/Tempo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// True when the cause will not go away by waiting (CI gates may fail fast).
    #[serde(default)]
    pub definitive: bool,
    /// Function-specific structured details (e.g. node groups), additive; the keys with a
    /// fixed shape (`provenance`, `searched`) are listed in `docs/json-contract.md`.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

impl EventType for Diagnosis {
    const TYPE: &'static str = "dev.lastmile.diagnosis.v1";
}

impl Diagnosis {
    /// A diagnosis with the required fields; the rest start empty.
    pub fn new(
        class: impl Into<Class>,
        confidence: f64,
        summary: impl Into<String>,
        subject: Subject,
    ) -> Self {
        Self {
            class: class.into(),
            confidence: confidence.clamp(0.0, 1.0),
            summary: summary.into(),
            subject,
            evidence: Vec::new(),
            remediation: Vec::new(),
            patches: Vec::new(),
            id: None,
            function: None,
            incident: None,
            ci: None,
            evidence_ref: None,
            trace_id: None,
            definitive: false,
            details: serde_json::Value::Null,
        }
    }
}

/// The `--format json` document: diagnoses ordered by confidence, most likely first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct DiagnosisReport {
    /// Diagnoses, most likely first.
    pub diagnoses: Vec<Diagnosis>,
}

impl DiagnosisReport {
    /// Builds a report in the order of [`ranking::order`](crate::ranking::order): by
    /// confidence (stable for ties), a contesting lead ahead of a finding without conviction.
    pub fn new(mut diagnoses: Vec<Diagnosis>) -> Self {
        crate::ranking::order(&mut diagnoses);
        Self { diagnoses }
    }

    /// Builds a report as [`new`](Self::new) does, with one diagnosis per cause: a wording
    /// lead agreeing with a rule's finding is folded into the finding
    /// ([`ranking::corroborate`](crate::ranking::corroborate)); of the rest naming the same
    /// class for the same subject (two functions), only the most confident (the first, on
    /// ties) is kept.
    pub fn merged(mut diagnoses: Vec<Diagnosis>) -> Self {
        diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        // One per cause among the findings (and among the leads); a lead and a finding of
        // the same cause meet below, after the contest.
        let mut seen: Vec<(bool, Class, Subject)> = Vec::new();
        diagnoses.retain(|d| {
            let key = (
                crate::ranking::is_lead(d),
                d.class.clone(),
                d.subject.clone(),
            );
            let fresh = !seen.contains(&key);
            if fresh {
                seen.push(key);
            }
            fresh
        });
        crate::ranking::settle_leads(&mut diagnoses);
        Self { diagnoses }
    }
}

/// A remediation command, published on `lastmile.remediation.<class>` for people or
/// automation to review. Only `lastmile remediate`, when a namespace's allowlist permits it,
/// ever applies one, and only through its structured `patch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemediationCommand {
    /// The diagnosis it fixes.
    pub diagnosis_id: String,
    /// The incident key.
    pub incident: String,
    /// The class of the diagnosis it fixes.
    pub class: Class,
    /// The object the step changes.
    pub subject: Subject,
    /// The step, with a ready-to-run command when one exists.
    pub remediation: Remediation,
    /// The same step as a structured patch, when the function gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchSpec>,
}

impl EventType for RemediationCommand {
    const TYPE: &'static str = "dev.lastmile.remediation.v1";
}

/// One stored evidence object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceObject {
    /// Logical name inside the bundle, e.g. `pod.json`, `events.json`.
    pub name: String,
    /// Content-addressed key, `objects/sha256/<hex>`.
    pub key: String,
    /// Hex sha256 of the stored (redacted) bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type, e.g. `application/json`.
    pub media_type: String,
}

/// Where a diagnosis's evidence bundle is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceRef {
    /// Store URL prefix, e.g. `s3://bucket/prefix` or `file:///var/lib/lastmile`.
    pub store: String,
    /// Key of the manifest that lists the objects; the diagnoses of one outcome (one function,
    /// one incident) share one manifest.
    pub manifest_key: String,
    /// The objects in the bundle (pod, events, nodes, logs…), each content-addressed.
    pub objects: Vec<EvidenceObject>,
}

impl EventType for EvidenceRef {
    const TYPE: &'static str = "dev.lastmile.evidence.v1";
}

#[cfg(test)]
mod tests;
