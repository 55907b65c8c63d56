//! Incidents from pasted text: `kubectl describe`, `kubectl get events`, log lines.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use lastmile_events::{Incident, ObjectRef};
use regex::Regex;

use crate::family::guess_family;
use crate::table::{events_from_text, kind_from_resource};

/// `pod/name`, `job/name`, `pods/name` in free text.
static OBJECT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(pods?|jobs?)/([a-z0-9][-a-z0-9.]{0,252})").ok());
/// RFC 3339 times in logs and YAML.
static RFC3339: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})").ok()
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
    let caps = OBJECT.as_ref()?.captures(text)?;
    Some(ObjectRef {
        kind: kind_from_resource(caps.get(1)?.as_str()),
        namespace,
        name: caps.get(2)?.as_str().trim_end_matches('.').to_owned(),
        ..ObjectRef::default()
    })
}

fn newest_time(text: &str) -> Option<DateTime<Utc>> {
    RFC3339
        .as_ref()?
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
mod tests {
    use super::*;
    use lastmile_events::IncidentFamily;

    const DESCRIBE_POD: &str = include_str!("../tests/fixtures/describe-pod-init.txt");
    const DESCRIBE_JOB: &str = include_str!("../tests/fixtures/describe-job-deadline.txt");
    const GET_EVENTS: &str = include_str!("../tests/fixtures/get-events-quota.txt");

    #[test]
    fn describe_pod_gives_subject_owner_events_and_family() {
        let inc = incident_from_text(DESCRIBE_POD);
        assert_eq!(inc.subject.kind, "Pod");
        assert_eq!(inc.subject.name, "api-7c9b6d8f45-p2xnq");
        assert_eq!(inc.subject.namespace.as_deref(), Some("shop"));
        assert_eq!(
            inc.owner
                .as_ref()
                .map(|o| (o.kind.as_str(), o.name.as_str())),
            Some(("ReplicaSet", "api-7c9b6d8f45"))
        );
        assert_eq!(inc.family, IncidentFamily::Init);
        let backoff = inc
            .events
            .iter()
            .find(|e| e.reason == "BackOff")
            .expect("BackOff row");
        assert_eq!(backoff.count, 41);
        assert_eq!(inc.events.len(), 6, "{:#?}", inc.events);
        assert!(
            inc.text
                .as_deref()
                .is_some_and(|t| t.contains("until nc -z"))
        );
        // The key follows the owner, as the watcher's would.
        assert!(
            inc.key.starts_with("init.shop.replicaset.api-7c9b6d8f45."),
            "{}",
            inc.key
        );
    }

    #[test]
    fn describe_job_is_a_job_incident() {
        let inc = incident_from_text(DESCRIBE_JOB);
        assert_eq!(inc.subject.kind, "Job");
        assert_eq!(inc.subject.name, "db-migrate");
        assert_eq!(inc.family, IncidentFamily::Job);
        let dl = inc
            .events_about("DeadlineExceeded")
            .next()
            .expect("DeadlineExceeded row");
        assert_eq!(dl.message, "Job was active longer than specified deadline");
        assert_eq!(dl.reporting_controller, "job-controller");
    }

    #[test]
    fn get_events_table_takes_subject_from_object_column() {
        let inc = incident_from_text(GET_EVENTS);
        assert_eq!(inc.family, IncidentFamily::Pending);
        assert_eq!(
            (inc.subject.kind.as_str(), inc.subject.name.as_str()),
            ("Job", "nightly-report")
        );
        assert!(
            inc.events
                .iter()
                .all(|e| e.ty == "Warning" || e.ty == "Normal")
        );
        assert!(
            inc.events
                .iter()
                .any(|e| e.message.contains("exceeded quota: compute-resources"))
        );
    }

    #[test]
    fn raw_log_lines_keep_text_and_route_to_build() {
        let log = "#12 3.201 go: downloading github.com/acme/lib v1.4.2\n#12 3.877 verifying github.com/acme/lib@v1.4.2: checksum mismatch\n";
        let inc = incident_from_text(log);
        assert_eq!(inc.family, IncidentFamily::Build);
        assert!(inc.events.is_empty());
        assert_eq!(inc.text.as_deref(), Some(log));
        assert_eq!(inc.first_seen, DateTime::<Utc>::UNIX_EPOCH);
    }

    #[test]
    fn same_text_same_incident() {
        assert_eq!(
            incident_from_text(DESCRIBE_POD),
            incident_from_text(DESCRIBE_POD)
        );
    }

    #[test]
    fn huge_text_is_cut_at_a_char_boundary() {
        let text = "é".repeat(MAX_TEXT);
        let inc = incident_from_text(&text);
        assert!(inc.text.as_deref().is_some_and(|t| t.len() <= MAX_TEXT));
    }

    #[test]
    fn tail_keeps_the_end_and_never_splits_a_character() {
        // "aéé" is 5 bytes; the last 3 start inside the first "é", so only the second stays.
        assert_eq!(tail("aéé", 3), "é");
        assert_eq!(tail("aéé", 4), "éé");
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("abc", 0), "");
    }
}
