//! Incidents from pasted text: `kubectl describe`, `kubectl get events`, log lines.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use lastmile_events::{Incident, ObjectRef};
use regex::Regex;

use crate::family::guess_family;
use crate::table::{events_from_text, kind_from_resource};

/// `pod/name`, `job/name`, `pods/name` in free text.
static OBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(pods?|jobs?)/([a-z0-9][-a-z0-9.]{0,252})").expect("object-reference regex")
});
/// RFC 3339 times in logs and YAML.
static RFC3339: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
        .expect("RFC 3339 timestamp regex")
});

/// Longest text kept in an incident: a pasted CI log can be huge, and the functions only
/// need the part around the failure (which is near the end).
const MAX_TEXT: usize = 256 * 1024;

/// Builds one incident from pasted text.
///
/// Recovers Events rows (Type Reason Age From Message, or the `kubectl get events` columns),
/// takes the subject from `Name:`/`Namespace:` headers (or an `OBJECT` column, or a
/// `pod/name` mention), the owner from `Controlled By:`, guesses the family from keywords,
/// and keeps the text (its last 256 KiB) in `incident.text`. Never fails: text with nothing
/// recognisable still becomes an incident that functions can read.
pub fn incident_from_text(text: &str) -> Incident {
    let text = tail(text, MAX_TEXT);
    let header = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let namespace = header("Namespace").map(str::to_owned);
    let mut subject = match header("Name") {
        Some(name) => ObjectRef {
            kind: describe_kind(text).into(),
            namespace: namespace.clone(),
            name: name.to_owned(),
            ..ObjectRef::default()
        },
        None => mentioned_object(text, namespace.clone()).unwrap_or_else(|| ObjectRef {
            kind: "Pod".into(),
            namespace: namespace.clone(),
            name: "unknown".into(),
            ..ObjectRef::default()
        }),
    };
    let owner = header("Controlled By")
        .and_then(|v| v.split_once('/'))
        .map(|(k, n)| ObjectRef {
            kind: kind_from_resource(k),
            namespace: namespace.clone(),
            name: n.trim().to_owned(),
            ..ObjectRef::default()
        });
    let events = events_from_text(text, &subject);
    if subject.name == "unknown"
        && let Some(first) = events.iter().find(|e| e.regarding.name != "unknown")
    {
        subject = first.regarding.clone();
    }
    let now = newest_time(text).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let mut incident = Incident::new(guess_family(text), subject, owner, now);
    incident.events = events;
    incident.text = Some(text.to_owned());
    incident
}

/// `kubectl describe job` prints Parallelism/Completions; `describe pod` prints Node/IP.
fn describe_kind(text: &str) -> &'static str {
    let has = |key: &str| text.lines().any(|l| l.starts_with(key));
    if has("Parallelism:") || has("Completions:") || has("Pods Statuses:") {
        "Job"
    } else if has("Capacity:") && has("Taints:") {
        "Node"
    } else {
        "Pod"
    }
}

fn mentioned_object(text: &str, namespace: Option<String>) -> Option<ObjectRef> {
    let caps = OBJECT.captures(text)?;
    Some(ObjectRef {
        kind: kind_from_resource(caps.get(1)?.as_str()),
        namespace,
        name: caps.get(2)?.as_str().trim_end_matches('.').to_owned(),
        ..ObjectRef::default()
    })
}

fn newest_time(text: &str) -> Option<DateTime<Utc>> {
    RFC3339
        .find_iter(text)
        .filter_map(|m| DateTime::parse_from_rfc3339(m.as_str()).ok())
        .map(|t| t.with_timezone(&Utc))
        .max()
}

/// At most the last `max` bytes of `text`, starting at a character boundary.
fn tail(text: &str, max: usize) -> &str {
    &text[text.ceil_char_boundary(text.len().saturating_sub(max))..]
}

#[cfg(test)]
mod tests;
