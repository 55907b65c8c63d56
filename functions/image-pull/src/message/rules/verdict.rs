//! What a rule reads and what it answers: the lowercase [`Text`] of a message, a rule's
//! [`Verdict`] and [`Decision`], the [`Rule`] entry of the table, and the constructors the
//! rules share ([`decided`] for a quoted message, [`told`] for a described cause).

use super::super::Cause;

/// The text a rule looks at: lowercase, with wrapped lines joined by a space and glued
/// together (pasted `kubectl describe` output wraps words mid-way), and the HTTP status it
/// reports.
pub(in crate::message) struct Text<'a> {
    /// Lowercase, line breaks replaced by spaces.
    pub(in crate::message) spaced: &'a str,
    /// Lowercase, line breaks removed.
    pub(in crate::message) glued: &'a str,
    /// The HTTP status the text reports, if any.
    pub(in crate::message) status: Option<u16>,
}

impl Text<'_> {
    pub(super) fn has(&self, needle: &str) -> bool {
        self.spaced.contains(needle) || self.glued.contains(needle)
    }

    pub(super) fn has_any(&self, needles: &[&str]) -> bool {
        needles.iter().any(|n| self.has(n))
    }

    /// The first of `needles` the text contains.
    pub(super) fn which(&self, needles: &[&'static str]) -> Option<&'static str> {
        needles.iter().copied().find(|n| self.has(n))
    }
}

/// What a rule decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::message) struct Decision {
    /// The cause.
    pub(in crate::message) cause: Cause,
    /// How sure the text is about it (0..=1).
    pub(in crate::message) confidence: f64,
    /// A second reading when the text is ambiguous.
    pub(in crate::message) alternative: Option<Cause>,
    /// The lowercase fragment that decided it; the quote is taken around it.
    pub(in crate::message) key: &'static str,
    /// Decided from a person's description (`our token expired`), not a message a
    /// registry, runtime or kubelet printed: a reading, never definitive on its own.
    pub(in crate::message) told: bool,
}

/// A rule's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::message) enum Verdict {
    /// The cause is decided; later rules are not consulted.
    Decided(Decision),
    /// The text is not about an image pull; later rules are not consulted.
    NotAPull,
}

/// One rule of the table.
pub(in crate::message) struct Rule {
    /// Stable name: the tests hit each rule by name.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "documents the table; read by tests")
    )]
    pub(in crate::message) name: &'static str,
    /// The causes this rule can decide (empty for a rule that only stops the search).
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "documents the table; read by tests")
    )]
    pub(in crate::message) causes: &'static [Cause],
    /// The matcher and extractor: `None` lets the next rule look.
    pub(in crate::message) decide: fn(&Text<'_>) -> Option<Verdict>,
}

pub(super) fn decided(
    cause: Cause,
    confidence: f64,
    alternative: Option<Cause>,
    key: &'static str,
) -> Option<Verdict> {
    Some(Verdict::Decided(Decision {
        cause,
        confidence,
        alternative,
        key,
        told: false,
    }))
}

/// [`decided`] for a cause a person described rather than a message quoted.
pub(super) fn told(
    cause: Cause,
    confidence: f64,
    alternative: Option<Cause>,
    key: &'static str,
) -> Option<Verdict> {
    let Some(Verdict::Decided(d)) = decided(cause, confidence, alternative, key) else {
        return None;
    };
    Some(Verdict::Decided(Decision { told: true, ..d }))
}
