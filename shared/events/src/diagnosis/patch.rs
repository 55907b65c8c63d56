//! Structured remediations: a remediation step in a form a machine can check and apply.
//!
//! A [`Remediation`](super::Remediation) carries text for people (a description and a
//! `kubectl` command). A [`StructuredRemediation`] sits next to it in the diagnosis
//! ([`Diagnosis::patches`](super::Diagnosis::patches), pointing at the step by index) and says
//! the same thing as data: which object, which kind of patch, the patch body, and what must
//! still be true of the object when the patch is applied. The published
//! [`RemediationCommand`](super::RemediationCommand) carries it as `patch`.
//!
//! Both fields are optional and skipped when empty, so documents without them are unchanged
//! and older readers ignore them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One remediation step of a diagnosis, made machine-applicable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StructuredRemediation {
    /// Index of the step in the diagnosis's `remediation` list that this makes structured.
    pub step: usize,
    /// The patch that performs the step.
    pub patch: PatchSpec,
}

/// A patch of one Kubernetes object, with the conditions under which it may be applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PatchSpec {
    /// The object to patch.
    pub target: PatchTarget,
    /// How `body` is to be read by the API server.
    pub patch_type: PatchType,
    /// The patch document: a partial object for the merge types, an array of operations
    /// for a JSON patch.
    pub body: Value,
    /// What must still hold when the patch is applied.
    #[serde(default, skip_serializing_if = "Preconditions::is_empty")]
    pub preconditions: Preconditions,
}

/// The object a patch changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PatchTarget {
    /// `apiVersion`, e.g. `batch/v1`.
    pub api_version: String,
    /// `kind`, e.g. `Job`.
    pub kind: String,
    /// Namespace; absent for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// The three patch types of the Kubernetes API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PatchType {
    /// Strategic merge patch: maps merge, lists merge by their merge key.
    StrategicMerge,
    /// JSON merge patch (RFC 7386): maps merge, lists are replaced, `null` deletes.
    Merge,
    /// JSON patch (RFC 6902): a list of operations.
    Json,
}

impl PatchType {
    /// The `Content-Type` the API server expects for this patch type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::StrategicMerge => "application/strategic-merge-patch+json",
            Self::Merge => "application/merge-patch+json",
            Self::Json => "application/json-patch+json",
        }
    }
}

/// Conditions on the live object. An applier re-reads the object and refuses the patch when
/// one does not hold; the resourceVersion also travels with the patch, so the API server
/// refuses it (409 Conflict) if the object changed in between.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The `metadata.resourceVersion` the patch was computed against, when the producer saw
    /// the object itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Field values the object must currently have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ExpectedField>,
}

impl Preconditions {
    /// True when nothing is required.
    pub fn is_empty(&self) -> bool {
        self.resource_version.is_none() && self.fields.is_empty()
    }
}

/// A field of the live object and the value it must have (`null`: the field is absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectedField {
    /// JSON pointer into the object, e.g. `/spec/suspend`.
    pub path: String,
    /// The expected value.
    pub value: Value,
}

impl ExpectedField {
    /// True when `object` has `value` at `path` (an absent field matches `null`).
    pub fn holds(&self, object: &Value) -> bool {
        object.pointer(&self.path).unwrap_or(&Value::Null) == &self.value
    }
}

#[cfg(test)]
mod tests;
