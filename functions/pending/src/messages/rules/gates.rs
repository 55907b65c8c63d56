//! Scheduling gates: a pod held by `spec.schedulingGates` (`SchedulingGated`), which the
//! scheduler does not consider until a controller (a queue, a quota manager, a workflow
//! engine) removes every gate. Told in the API's words or in the reporter's: "schedulingGates
//! [...]", "the pod is still schedule-gated", "the pods remain gated", "the gate on the pod
//! is never removed".

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::Input;
use crate::messages::{Fact, Finding, quote_at};

/// A pod held by its scheduling gates (lower-cased, flattened text).
pub(super) static GATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bschedul(?:e|ing)[ _-]?gat(?:ed|es?|ing)\b|\b(?:pods?|replicas?)\b[^.]{0,30}?\b(?:is|are|stays?|remains?|still|kept|left|held) (?:still )?(?:schedule[ -]?)?gated\b|\bgates? (?:on|of|in) (?:the |its |their |my |our )?pods?\b[^.]{0,30}?\b(?:never|not|n't) (?:being |been |getting |get )?(?:removed|lifted|cleared)\b")
        .expect("the scanner's patterns are valid regexes")
});

/// `SchedulingGated`, or a pod told to stay gated: the pod waits for its scheduling gates.
pub(super) fn scheduling_gate(t: &Input<'_>, out: &mut Vec<Finding>) {
    if let Some(m) = GATED.find(t.lower) {
        out.push(Finding::new(
            Class::Gated,
            0.85,
            "the pod is held by spec.schedulingGates: the scheduler will not consider it until every gate is removed; find the controller that owns the gate (a job queue's admission, a quota manager) and why it has not removed it, even after admitting the workload",
            &quote_at(t.flat, m.start()),
            false,
            Fact::None,
        ));
    }
}

#[cfg(test)]
mod tests;
