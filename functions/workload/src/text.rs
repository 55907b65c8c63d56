//! Message-level rules: what a pasted `kubectl describe`, event table or log says about
//! init containers and Jobs when the objects themselves are not available.
//!
//! Rules key on Kubernetes' own stable tokens (`Init:0/1`, `PodInitializing`,
//! `BackoffLimitExceeded`, `Job was active longer than specified deadline`) and on the
//! shapes of dependency waits, never on one report's wording.

use std::sync::LazyLock;

use lastmile_events::{Diagnosis, Incident};
use regex::Regex;

mod init;
mod job;
mod told;

use init::init_rules;
use job::job_rules;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the workload message patterns are valid regexes")
}

fn matches(re: &LazyLock<Regex>, text: &str) -> bool {
    re.is_match(text)
}

/// The incident's text and its events' reasons, field paths and messages, as one text.
fn corpus(incident: &Incident) -> String {
    let mut text = incident.text.clone().unwrap_or_default();
    for e in &incident.events {
        text.push('\n');
        text.push_str(&format!(
            "{} {} {} {}",
            e.ty,
            e.reason,
            e.regarding.field_path.as_deref().unwrap_or(""),
            e.clean_message()
        ));
    }
    text
}

/// Every message-level finding, at most one per class.
pub(crate) fn diagnose(incident: &Incident) -> Vec<Diagnosis> {
    let text = corpus(incident);
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    out.extend(init_rules(incident, &text));
    out.extend(job_rules(incident, &text));
    out
}

fn quote(text: &str, re: &LazyLock<Regex>) -> Option<String> {
    let m = re.find(text)?;
    Some(quote_range(text, m.start(), m.end()))
}

/// The whole line of `text` around byte range `start..end`, trimmed, quoted.
fn quote_range(text: &str, start: usize, end: usize) -> String {
    let from = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let to = text[end..].find('\n').map_or(text.len(), |i| end + i);
    format!("\"{}\"", text[from..to].trim())
}

/// Every pattern of the text rules, for the test that builds them all.
#[cfg(test)]
fn all_patterns() -> Vec<&'static LazyLock<Regex>> {
    let mut all = init::patterns();
    all.extend(job::patterns());
    all.extend(told::patterns());
    all
}

#[cfg(test)]
mod tests;
