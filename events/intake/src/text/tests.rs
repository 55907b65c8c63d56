use super::*;

#[test]
fn builds_every_regex() {
    LazyLock::force(&OBJECT);
    LazyLock::force(&RFC3339);
}
use lastmile_events::IncidentFamily;

const DESCRIBE_POD: &str = include_str!("../../tests/fixtures/describe-pod-init.txt");
const DESCRIBE_JOB: &str = include_str!("../../tests/fixtures/describe-job-deadline.txt");
const GET_EVENTS: &str = include_str!("../../tests/fixtures/get-events-quota.txt");

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
