//! The order diagnoses are shown in: most confident first, except where a rule's finding
//! without conviction is contested by a lead read from the report's words.
//!
//! Functions answer independently; `explain`, `replay` and `gate` put their answers in one
//! order with [`order`]. Confidence decides, but not alone: a rule that matched a report's
//! surface words at [`CONTESTABLE`] or less (say `image.auth` at 0.7 from "pull access
//! denied") is often a neighbouring class of the cause. When the `wording` function's lead
//! for the same incident names another class with at least [`CONTESTING`], the lead goes
//! first and says which finding it was ranked above. Both thresholds were chosen on the
//! corpus's tune split with the lead's out-of-fold readings (never on the held-out split):
//! on the 196 tune reports no rule round had been written against, the first diagnosis went
//! from 174 to 183 right; a fresh blind batch of 183 reports then went from 156 to 161,
//! no family losing (`tests/fixtures/corpus/README.md`).

use crate::Diagnosis;

/// The `details` key a lead read from the report's words carries (the `wording` function's
/// reading: class, score, runner-up, the words that weighed most).
pub const LEAD_DETAIL: &str = "wording";

/// The most confident a rule's finding may be and still be contested by a lead.
pub const CONTESTABLE: f64 = 0.8;

/// The least confident a lead may be and still contest a rule's finding.
pub const CONTESTING: f64 = 0.4;

/// Whether `d` is a lead read from words (not a rule's finding, never definitive).
pub fn is_lead(d: &Diagnosis) -> bool {
    !d.definitive && d.details.get(LEAD_DETAIL).is_some()
}

/// Sorts `diagnoses` most confident first (stable on ties), then lets a lead contest the
/// first rule's finding of its incident (see the module documentation).
pub fn order(diagnoses: &mut [Diagnosis]) {
    diagnoses.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    contest(diagnoses);
}

/// Moves a contesting lead ahead of the first diagnosis, when the first is a rule's finding
/// of at most [`CONTESTABLE`] and the lead, for the same incident, names another class with
/// at least [`CONTESTING`]. The lead's evidence then names the finding it was ranked above.
pub fn contest(diagnoses: &mut [Diagnosis]) {
    let Some(first) = diagnoses.first() else {
        return;
    };
    if is_lead(first) || first.confidence > CONTESTABLE {
        return;
    }
    let Some(at) = diagnoses.iter().position(|d| {
        is_lead(d)
            && d.confidence >= CONTESTING
            && d.class != first.class
            && d.incident == first.incident
    }) else {
        return;
    };
    let line = format!(
        "ranked above `{}` ({:.0}%{}): that rule matched without conviction, and the report's words weigh toward `{}` instead",
        first.class,
        first.confidence * 100.0,
        first
            .function
            .as_deref()
            .map(|f| format!(", function {f}"))
            .unwrap_or_default(),
        diagnoses[at].class,
    );
    diagnoses[at].evidence.insert(0, line);
    diagnoses[..=at].rotate_right(1);
}

#[cfg(test)]
mod tests;
