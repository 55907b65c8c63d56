//! Message-level diagnosis: what the scheduler, admission chain and autoscalers *said*.
//!
//! Every text source (event messages, the pod's `PodScheduled` condition, pasted reports)
//! goes through one scanner, [`scan`], which finds each known message shape wherever it
//! sits in the text (describe tables, log lines, JSON strings, wrapped lines) and turns it
//! into [`Finding`]s. Findings carry a class, a confidence and the quoted source; the
//! snapshot analysis later confirms or overrides them. The shapes are one ordered table of
//! named rules (`rules.rs`), each tested alone.

pub mod admission;
pub mod autoscaler;
mod described;
mod loose;
mod rank;
pub mod reasons;
pub mod relate;
mod rules;
pub mod scheduler;
pub(crate) mod superseded;

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use lastmile_events::Class;

use crate::messages::admission::{LimitViolation, PolicyDenial, QuotaRejection};
use crate::messages::autoscaler::AutoscalerSignal;
use crate::messages::reasons::Reason;
use crate::messages::scheduler::FitMessage;
use rules::{Input, RULES};

/// What a finding is based on, for remediation.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// Nothing structured.
    None,
    /// A scheduler fit error (the reasons of this finding's class are in it).
    Fit(FitMessage),
    /// A quota rejection.
    Quota(QuotaRejection),
    /// LimitRange violations.
    Limit(Vec<LimitViolation>),
    /// A policy denial.
    Policy(PolicyDenial),
    /// An autoscaler verdict.
    Autoscaler(AutoscalerSignal),
    /// A node's `Taints:` line (key, value, effect).
    NodeTaints(Vec<(String, String, String)>),
}

/// One thing the messages say.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Taxonomy class.
    pub class: Class,
    /// 0..1.
    pub confidence: f64,
    /// One sentence.
    pub summary: String,
    /// The quoted source text (shortened).
    pub quote: String,
    /// True when waiting cannot fix it.
    pub definitive: bool,
    /// Structured facts for remediation.
    pub fact: Fact,
    /// When the source was last seen (events), for staleness decisions.
    pub when: Option<DateTime<Utc>>,
}

impl Finding {
    fn new(
        class: Class,
        confidence: f64,
        summary: impl Into<String>,
        quote: &str,
        definitive: bool,
        fact: Fact,
    ) -> Self {
        Self {
            class,
            confidence,
            summary: summary.into(),
            quote: shorten(quote, 600),
            definitive,
            fact,
            when: None,
        }
    }
}

/// Shortens `s` (trimmed) to at most `max` bytes on a char boundary, marking the cut.
pub fn shorten(s: &str, max: usize) -> String {
    let mut out = s.trim().to_owned();
    if lastmile_redact::truncate_at_char_boundary(&mut out, max) {
        out.push_str(" …");
    }
    out
}

/// Texts up to this size are remembered by [`scan`] (event and condition messages are
/// at most a few KiB; a pasted report is not worth keeping).
const REMEMBERED_TEXT: usize = 8 * 1024;

thread_local! {
    /// The last short text scanned on this thread and what it held: a pod's `PodScheduled`
    /// condition usually repeats its newest `FailedScheduling` event word for word, and
    /// the scan is a pure function of the text.
    static LAST_SCAN: RefCell<Option<(String, Vec<Finding>)>> = const { RefCell::new(None) };
}

/// Scans one text (an event message, a condition message or a whole pasted report).
pub fn scan(text: &str) -> Vec<Finding> {
    if text.len() > REMEMBERED_TEXT {
        return scan_uncached(text);
    }
    let known = LAST_SCAN.with_borrow(|last| match last {
        Some((t, found)) if t == text => Some(found.clone()),
        _ => None,
    });
    if let Some(found) = known {
        return found;
    }
    let found = scan_uncached(text);
    LAST_SCAN.set(Some((text.to_owned(), found.clone())));
    found
}

/// [`scan`] without looking at the last text.
fn scan_uncached(text: &str) -> Vec<Finding> {
    read(text, |input| {
        let mut out = Vec::new();
        for rule in RULES {
            (rule.scan)(input, &mut out);
        }
        if relate::daemonset_pod(input.lower) {
            relate::daemonset_fit(&mut out);
        }
        out
    })
}

/// Calls `f` with `text` read the way every rule reads it: bounded, flattened (wrapped
/// lines joined) and lower-cased once.
fn read<R>(text: &str, f: impl FnOnce(&Input<'_>) -> R) -> R {
    // Bound the work on hostile input; real reports are far smaller.
    let text = &text[..text.floor_char_boundary(256 * 1024)];
    let flat = flatten(text);
    let lower = flat.to_ascii_lowercase();
    let anchors = scheduler::anchors(text);
    f(&Input {
        text,
        flat: &flat,
        lower: &lower,
        anchors: &anchors,
    })
}

/// One rule run alone over `text`, read as [`scan`] reads it (for the rules' tests).
#[cfg(test)]
pub(crate) fn run_rule(rule: fn(&Input<'_>, &mut Vec<Finding>), text: &str) -> Vec<Finding> {
    read(text, |input| {
        let mut out = Vec::new();
        rule(input, &mut out);
        out
    })
}

/// All whitespace runs collapsed, so wrapped lines read as one.
fn flatten(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A pod condition's other fields, as YAML prints them after a wrapped `message:`.
const CONDITION_FIELDS: [&str; 6] = [
    "reason:",
    "type:",
    "status:",
    "lastTransitionTime:",
    "lastProbeTime:",
    "phase:",
];

/// The message that starts at `start`: to the end of its line, plus continuation lines
/// when the line was visibly wrapped (no closing period, nor the closing quote of a YAML
/// scalar, nor the next field of its condition or a code fence after it).
pub(crate) fn message_at(text: &str, start: usize) -> String {
    // Fit errors are at most a few KiB (events are cut at 1 KiB); bounding the window keeps
    // hostile one-line inputs with thousands of anchors linear.
    let rest = &text[start..text.floor_char_boundary(start + 8 * 1024)];
    let mut lines = rest.lines();
    let mut msg = lines.next().unwrap_or("").trim_end().to_owned();
    for next in lines.take(4) {
        let t = next.trim();
        let ended = msg.ends_with('.')
            || msg.ends_with(".'")
            || msg.ends_with(')')
            || msg.ends_with('"')
            || msg.ends_with("...");
        let looks_new = t.is_empty()
            || t.starts_with("```")
            || CONDITION_FIELDS.iter().any(|f| t.starts_with(f))
            || t.starts_with("Warning")
            || t.starts_with("Normal")
            || t.starts_with("----")
            || t.starts_with("0/")
            || t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && t.split_whitespace()
                    .next()
                    .is_some_and(|w| w.ends_with(':'));
        if ended || looks_new {
            break;
        }
        msg.push(' ');
        msg.push_str(t);
    }
    msg
}

/// The text around the first occurrence of `needle` (the whole line when short).
pub(crate) fn quote_around(text: &str, needle: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let n = needle.to_ascii_lowercase();
    match lower.find(&n) {
        Some(at) => {
            let line_start = lower[..at].rfind('\n').map_or(0, |p| p + 1);
            let line_end = lower[at..].find('\n').map_or(text.len(), |p| p + at);
            shorten(&text[line_start..line_end], 600)
        }
        None => shorten(needle, 600),
    }
}

pub(crate) fn quote_at(flat: &str, at: usize) -> String {
    let start = flat.floor_char_boundary(at);
    shorten(&flat[start..], 300)
}

/// Merges findings of the same class, keeping the most confident one and raising its
/// confidence a little when several independent sources agree. Sorted by confidence.
pub fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<(Finding, usize)> = Vec::new();
    for f in findings {
        match out.iter_mut().find(|(g, _)| g.class == f.class) {
            Some((g, n)) => {
                *n += 1;
                if f.confidence > g.confidence || (f.confidence == g.confidence && f.when > g.when)
                {
                    *g = f;
                }
            }
            None => out.push((f, 1)),
        }
    }
    let mut merged: Vec<Finding> = out
        .into_iter()
        .map(|(mut f, n)| {
            if n > 1 {
                f.confidence =
                    (f.confidence + 0.03 * (n as f64 - 1.0).min(3.0)).min(f.confidence.max(0.88));
            }
            f
        })
        .collect();
    relate::autoscaler_over_fit(&mut merged);
    merged.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    merged
}

/// The classes a reason list names, for comparing with the snapshot.
pub fn fit_classes(fit: &FitMessage) -> Vec<Class> {
    let mut v: Vec<Class> = fit
        .reasons()
        .iter()
        .filter_map(|(_, _, r)| r.class())
        .collect();
    v.dedup();
    v
}

/// The taint `(key, value)` pairs a fit error names.
pub fn fit_taints(fit: &FitMessage) -> Vec<(String, String)> {
    fit.reasons()
        .into_iter()
        .filter_map(|(_, _, r)| match r {
            Reason::Taint {
                key: Some(k),
                value,
            } => Some((k, value.unwrap_or_default())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
