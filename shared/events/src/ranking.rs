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

/// The `details` key of a rule's finding that took the confidence and place of a more
/// confident lead of its class ([`corroborate`]): the lead's reading. Such a finding contests
/// as the lead did, so ordering a merged report again keeps its rank.
pub const AGREEING_LEAD: &str = "wording_agrees";

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
/// of at most [`CONTESTABLE`] and the lead (or a finding a lead was folded into, see
/// [`AGREEING_LEAD`]), for the same incident, names another class with at least
/// [`CONTESTING`]. The lead's evidence then names the finding it was ranked above.
pub fn contest(diagnoses: &mut [Diagnosis]) {
    let Some(first) = diagnoses.first() else {
        return;
    };
    if is_lead(first) || first.confidence > CONTESTABLE {
        return;
    }
    let Some(at) = diagnoses.iter().position(|d| {
        (is_lead(d) || d.details.get(AGREEING_LEAD).is_some())
            && d.confidence >= CONTESTING
            && d.class != first.class
            && d.incident == first.incident
    }) else {
        return;
    };
    let line = format!(
        "{RANKED_ABOVE}{}` ({:.0}%{}): that rule matched without conviction, and the report's words weigh toward `{}` instead",
        first.class,
        first.confidence * 100.0,
        first
            .function
            .as_deref()
            .map(|f| format!(", function {f}"))
            .unwrap_or_default(),
        diagnoses[at].class,
    );
    // Ordering again (a merged report built into another) says it once.
    if !diagnoses[at]
        .evidence
        .first()
        .is_some_and(|l| l.starts_with(RANKED_ABOVE))
    {
        diagnoses[at].evidence.insert(0, line);
    }
    diagnoses[..=at].rotate_right(1);
}

/// The start of the evidence line [`contest`] gives a lead it moved ahead.
const RANKED_ABOVE: &str = "ranked above `";

/// Settles the leads of a list ordered most likely first, the one way every view does it
/// (`explain` and `replay` through [`DiagnosisReport::merged`](crate::DiagnosisReport::merged),
/// the gate on the live path): leads no more confident than a finding of their class are
/// folded into it, a lead may then [`contest`] the first finding, and the leads still
/// agreeing with a finding are folded into it ([`corroborate`]).
pub fn settle_leads(diagnoses: &mut Vec<Diagnosis>) {
    corroborate_weaker(diagnoses);
    contest(diagnoses);
    corroborate(diagnoses);
}

/// Folds each lead into a rule's finding of the same class for the same subject: the
/// finding stays (its facts, remediation and `definitive` are what the gate fails on), takes
/// the lead's confidence and place when those are higher (a lead that contested a finding
/// keeps that rank, and the line saying so), and says the report's words agree. So a rule
/// that matched weakly (0.5) is never hidden behind a lead of its own class (0.55) that
/// would read "no rule settled this". Leads no finding agrees with are left as they are.
/// Run after [`contest`]: the order it chose is kept.
pub fn corroborate(diagnoses: &mut Vec<Diagnosis>) {
    fold(diagnoses, false);
}

/// [`corroborate`] for the leads no more confident than their finding: they change no rank,
/// so they are folded before [`contest`], which then sees only leads that could.
fn corroborate_weaker(diagnoses: &mut Vec<Diagnosis>) {
    fold(diagnoses, true);
}

/// A finding is about the lead's subject when it names the same object, narrowed or not to
/// one of its containers (a lead reads the whole report, a rule may name the container).
fn about_the_same(finding: &crate::Subject, lead: &crate::Subject) -> bool {
    finding.kind == lead.kind
        && finding.namespace == lead.namespace
        && finding.name == lead.name
        && (lead.container.is_none() || lead.container == finding.container)
}

/// A lead about an object the report never named (pasted text without the object's name:
/// intake's `unknown`) is about the whole report of its incident, so a finding of that
/// incident that named an object (the Job from `Controlled By:`) is about the same thing.
fn unnamed_in_the_same_incident(finding: &Diagnosis, lead: &Diagnosis) -> bool {
    (lead.subject.name.is_empty() || lead.subject.name == "unknown")
        && lead.incident.is_some()
        && finding.incident == lead.incident
}

fn fold(diagnoses: &mut Vec<Diagnosis>, only_weaker: bool) {
    let mut i = 0;
    while i < diagnoses.len() {
        let lead = &diagnoses[i];
        let agreeing = is_lead(lead).then(|| {
            diagnoses.iter().position(|d| {
                !is_lead(d)
                    && d.class == lead.class
                    && (about_the_same(&d.subject, &lead.subject)
                        || unnamed_in_the_same_incident(d, lead))
                    && (!only_weaker || d.confidence >= lead.confidence)
            })
        });
        let Some(Some(at)) = agreeing else {
            i += 1;
            continue;
        };
        let lead = diagnoses.remove(i);
        let at = if at > i { at - 1 } else { at };
        let mut finding = diagnoses.remove(at);
        let took_the_leads_rank = lead.confidence > finding.confidence;
        finding.confidence = finding.confidence.max(lead.confidence);
        if let Some(line) = lead
            .evidence
            .first()
            .filter(|l| l.starts_with(RANKED_ABOVE))
        {
            finding.evidence.insert(0, line.clone());
        }
        if took_the_leads_rank && let Some(reading) = lead.details.get(LEAD_DETAIL) {
            if finding.details.is_null() {
                finding.details = serde_json::json!({});
            }
            if let Some(map) = finding.details.as_object_mut() {
                map.insert(AGREEING_LEAD.to_owned(), reading.clone());
            }
        }
        finding.evidence.push(format!(
            "the report's words weigh toward `{}` too ({:.0}% read from its wording alone)",
            lead.class,
            lead.confidence * 100.0
        ));
        // The better of the two places: the lead's, when it was ranked ahead.
        let place = i.min(at);
        diagnoses.insert(place, finding);
        i = place + 1;
    }
}

#[cfg(test)]
mod tests;
