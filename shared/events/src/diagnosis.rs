//! Diagnoses, remediation commands and evidence references: what functions produce.
//!
//! The JSON shape of [`DiagnosisReport`] is the public contract of
//! `../shared/reference/taxonomy.md` (`{"diagnoses": [...]}`); extra fields are additive.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ci::CiRunRef;
use crate::envelope::EventType;

/// A taxonomy class ID, e.g. `scheduling.insufficient_resources`. IDs never change meaning.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Class(pub String);

macro_rules! classes {
    ($($konst:ident = $id:literal;)*) => {
        impl Class {
            $(
                #[doc = concat!("`", $id, "`")]
                pub const $konst: &'static str = $id;
            )*
            /// Every class the taxonomy defines.
            pub const ALL: &'static [&'static str] = &[$($id),*];
        }
    };
}

classes! {
    INSUFFICIENT_RESOURCES = "scheduling.insufficient_resources";
    UNTOLERATED_TAINT = "scheduling.untolerated_taint";
    NODE_AFFINITY = "scheduling.node_affinity";
    POD_AFFINITY = "scheduling.pod_affinity";
    UNSCHEDULABLE_NODES = "scheduling.unschedulable_nodes";
    HOST_PORTS = "scheduling.host_ports";
    VOLUME_BINDING = "scheduling.volume_binding";
    NO_NODES = "scheduling.no_nodes";
    GATED = "scheduling.gated";
    QUOTA_EXCEEDED = "admission.quota_exceeded";
    LIMIT_RANGE = "admission.limit_range";
    POLICY_DENIED = "admission.policy_denied";
    NO_SCALE_UP = "scaling.no_scale_up";
    IMAGE_NOT_FOUND = "image.not_found";
    IMAGE_AUTH = "image.auth";
    IMAGE_PLATFORM_MISMATCH = "image.platform_mismatch";
    IMAGE_TLS = "image.tls";
    IMAGE_NETWORK = "image.network";
    IMAGE_RATE_LIMITED = "image.rate_limited";
    IMAGE_INVALID_REFERENCE = "image.invalid_reference";
    IMAGE_NEVER_PULL = "image.never_pull";
    IMAGE_SIGNATURE = "image.signature";
    INIT_BLOCKED = "init.blocked";
    INIT_DEADLOCK = "init.deadlock";
    INIT_CRASHLOOP = "init.crashloop";
    JOB_DEADLINE_EXCEEDED = "job.deadline_exceeded";
    JOB_BACKOFF_LIMIT = "job.backoff_limit";
    JOB_STUCK_ACTIVE = "job.stuck_active";
    BUILD_CHECKSUM_MISMATCH = "build.checksum_mismatch";
    BUILD_GO_MOD_DIRTY = "build.go_mod_dirty";
    BUILD_MISSING_GO_SUM = "build.missing_go_sum";
    BUILD_DEPENDENCY_DRIFT = "build.dependency_drift";
    BUILD_NOT_REPRODUCIBLE = "build.not_reproducible";
    BUILD_CONTEXT_LEAK = "build.context_leak";
    UNKNOWN = "unknown";
}

impl Class {
    /// A class from its ID. Unknown IDs are kept (newer producers may know more classes).
    pub fn new(id: &str) -> Self {
        Self(id.to_owned())
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The family: the first dotted segment (`scheduling`, `image`, …).
    pub fn family(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }

    /// True when the ID is one the taxonomy defines.
    pub fn is_known(&self) -> bool {
        Self::ALL.contains(&self.0.as_str())
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Class {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

/// What the diagnosis is about (the taxonomy's `subject`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
pub struct Subject {
    /// Kind, e.g. `Pod`.
    pub kind: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
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

/// One step that would fix the cause. lastmile never runs it.
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
    /// Taxonomy class.
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
    /// Function-specific structured details (e.g. node groups), additive.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

impl EventType for Diagnosis {
    const TYPE: &'static str = "dev.lastmile.diagnosis.v1";
}

impl Diagnosis {
    /// A diagnosis with the required fields; the rest start empty.
    pub fn new(class: &str, confidence: f64, summary: impl Into<String>, subject: Subject) -> Self {
        Self {
            class: Class::new(class),
            confidence: confidence.clamp(0.0, 1.0),
            summary: summary.into(),
            subject,
            evidence: Vec::new(),
            remediation: Vec::new(),
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
    /// Builds a report, sorting by confidence (stable for ties).
    pub fn new(mut diagnoses: Vec<Diagnosis>) -> Self {
        diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        Self { diagnoses }
    }
}

/// A remediation command, published on `lastmile.remediation.<class>` for people or
/// automation to review. lastmile itself never applies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RemediationCommand {
    /// The diagnosis it fixes.
    pub diagnosis_id: String,
    /// The incident key.
    pub incident: String,
    /// The diagnosis class.
    pub class: Class,
    /// What it targets.
    pub subject: Subject,
    /// The step.
    pub remediation: Remediation,
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
    /// Media type.
    pub media_type: String,
}

/// Where a diagnosis's evidence bundle is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceRef {
    /// Store URL prefix, e.g. `s3://bucket/prefix` or `file:///var/lib/lastmile`.
    pub store: String,
    /// Key of the manifest that lists the objects.
    pub manifest_key: String,
    /// The objects.
    pub objects: Vec<EvidenceObject>,
}

impl EventType for EvidenceRef {
    const TYPE: &'static str = "dev.lastmile.evidence.v1";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_matches_the_taxonomy_shape() {
        let mut d = Diagnosis::new(
            Class::IMAGE_AUTH,
            0.9,
            "pull secret missing",
            Subject {
                kind: "Pod".into(),
                namespace: Some("ci".into()),
                name: "m".into(),
                container: Some("c".into()),
            },
        );
        d.remediation.push(Remediation {
            description: "attach".into(),
            command: Some("kubectl patch".into()),
        });
        let low = Diagnosis::new(Class::UNKNOWN, 0.2, "?", Subject::default());
        let json = serde_json::to_value(DiagnosisReport::new(vec![low, d])).unwrap();
        let first = &json["diagnoses"][0];
        assert_eq!(first["class"], "image.auth");
        assert_eq!(first["subject"]["container"], "c");
        assert_eq!(first["remediation"][0]["command"], "kubectl patch");
        assert!(first["evidence"].is_array());
        assert_eq!(json["diagnoses"][1]["class"], "unknown");
    }

    #[test]
    fn confidence_is_clamped() {
        assert_eq!(
            Diagnosis::new("unknown", 7.0, "", Subject::default()).confidence,
            1.0
        );
    }

    #[test]
    fn class_family_is_first_segment() {
        assert_eq!(Class::new(Class::NO_SCALE_UP).family(), "scaling");
        assert!(Class::new("image.tls").is_known());
        assert!(!Class::new("image.tlsx").is_known());
    }
}
