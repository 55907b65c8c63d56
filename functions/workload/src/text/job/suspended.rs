//! A Job (or a JobSet, a queued workload) left suspended: `spec.suspend: true` stops the Job
//! controller from creating pods, so nothing runs, nothing fails and the run never ends. A
//! queueing controller (Kueue) creates Jobs suspended and resumes them when it admits their
//! workload; one that never admits them (no matching queue, a namespace it does not manage, a
//! version mismatch) leaves them suspended for good.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::text::{quote, re};
use crate::{diagnosis, remedy};

/// A job said to stay suspended: "the job remains suspended indefinitely", "jobs are left
/// suspended", "a jobset … is suspended".
static TOLD_SUSPENDED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:(?:cron)?jobs?|jobsets?|workloads?|rayjobs?|pytorchjobs?|mpijobs?)\b[^.\n]{0,60}?\b(?:is|are|was|were|stays?|stayed|remains?|remained|left|kept|keeps?|gets?|got|being)\s+(?:in\s+(?:the\s+)?)?suspended\b",
    )
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![&TOLD_SUSPENDED]
}

/// A `kubectl get` table whose `SUSPENDED` column (JobSets, queued workloads) says `true`:
/// the row.
fn shown_suspended(text: &str) -> Option<&str> {
    if !text.contains("SUSPENDED") {
        return None;
    }
    let mut lines = text.lines();
    while let Some(header) = lines.next() {
        let columns: Vec<&str> = header.split_whitespace().collect();
        let Some(at) = columns.iter().position(|c| *c == "SUSPENDED") else {
            continue;
        };
        if columns.first() != Some(&"NAME") {
            continue;
        }
        // Empty cells shift the columns of a row, so its column is found from the right
        // when the header's cells after SUSPENDED are all filled (AGE always is).
        let from_right = columns.len() - at;
        for row in lines.by_ref().take_while(|l| !l.trim().is_empty()) {
            let cells: Vec<&str> = row.split_whitespace().collect();
            if cells.len() >= from_right
                && cells[cells.len() - from_right].eq_ignore_ascii_case("true")
            {
                return Some(row.trim());
            }
        }
    }
    None
}

/// The finding when the text shows or tells a job left suspended.
pub(super) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let shown = shown_suspended(text).map(|row| format!("\"{row}\""));
    let q = shown.or_else(|| quote(text, &TOLD_SUSPENDED))?;
    Some(diagnosis(
        Class::JobStuckActive,
        0.6,
        format!(
            "The Job is suspended (`spec.suspend: true`): {}",
            crate::job::SUSPENDED
        ),
        subject.clone(),
        vec![q],
        vec![remedy::inspect_job(subject), remedy::resume_job(subject)],
        false,
    ))
}
