//! `details.searched` of an `unknown` diagnosis: what `lastmile explain` looked for when no
//! function recognised the input, and which input would settle it.

use schemars::JsonSchema;
use serde::Serialize;

use crate::IncidentFamily;

/// What `explain` searched for an incident no function recognised, as data
/// (`details.searched` of the `unknown` diagnosis). Serialised only: the signal lists are
/// the functions' own static descriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Searched {
    /// What the input held, one fact each (`a Pod (phase Pending)`, `3 event(s), 0 Warning`).
    pub input: Vec<String>,
    /// What was looked for before any function ran (a document with nothing stuck: what
    /// would have made an object stuck); empty when functions ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub looked_for: Vec<&'static str>,
    /// Per family: what its function looked for and which of it the input lacked.
    pub families: Vec<FamilySearch>,
    /// Inputs that would settle it, most useful first, with the commands to get them.
    pub settle: Vec<String>,
}

/// One family's search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FamilySearch {
    /// The family (`pending`, `image-pull`, …).
    pub family: IncidentFamily,
    /// The signals its function reads.
    pub looked_for: Vec<&'static str>,
    /// The signals this input did not have (empty: it had them and none matched a cause).
    pub missing: Vec<&'static str>,
}
