//! Pod statuses to init-container runs, including the messy ones.

use chrono::TimeZone;
use serde_json::json;

use super::*;

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, h, m, s).unwrap()
}

fn pod(statuses: Value) -> Value {
    json!({
        "spec": {"initContainers": [
            {"name": "fetch-schema", "image": "ghcr.io/acme/fetch:2"},
            {"name": "migrate", "image": "ghcr.io/acme/migrate:1.4.2"},
            {"name": "wait-db", "image": "busybox:1.36"}
        ]},
        "status": {"initContainerStatuses": statuses}
    })
}

#[test]
fn two_finished_and_one_running_init_container_are_three_runs_in_order() {
    let p = pod(json!([
        {"name": "fetch-schema", "image": "ghcr.io/acme/fetch:2", "restartCount": 0, "lastState": {},
         "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2026-11-26T10:00:02Z", "finishedAt": "2026-11-26T10:00:09Z"}}},
        {"name": "migrate", "restartCount": 0, "lastState": {},
         "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2026-11-26T10:00:10Z", "finishedAt": "2026-11-26T10:03:40Z"}}},
        {"name": "wait-db", "image": "busybox:1.36", "restartCount": 0, "lastState": {},
         "state": {"running": {"startedAt": "2026-11-26T10:03:41Z"}}}
    ]));
    let runs = init_runs(&p, at(10, 20, 0));
    let got: Vec<(&str, DateTime<Utc>, DateTime<Utc>, bool)> = runs
        .iter()
        .map(|r| (r.container.as_str(), r.start, r.end, r.running))
        .collect();
    assert_eq!(
        got,
        [
            ("fetch-schema", at(10, 0, 2), at(10, 0, 9), false),
            ("migrate", at(10, 0, 10), at(10, 3, 40), false),
            ("wait-db", at(10, 3, 41), at(10, 20, 0), true),
        ]
    );
    // The image comes from the spec when the status does not say.
    assert_eq!(runs[1].image.as_deref(), Some("ghcr.io/acme/migrate:1.4.2"));
    assert_eq!(runs[0].reason.as_deref(), Some("Completed"));
    let span = span_of(&runs[2]);
    assert_eq!(span.name, "init wait-db");
    assert_eq!(span.error, None);
    assert!(span.attributes.contains(&(
        "lastmile.init.state".into(),
        SpanValue::Str("running".into())
    )));
}

#[test]
fn a_restarted_init_container_shows_its_previous_run_before_the_current_one() {
    let p = pod(json!([
        {"name": "migrate", "restartCount": 3,
         "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2026-11-26T10:04:00Z", "finishedAt": "2026-11-26T10:04:05Z"}},
         "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    ]));
    let runs = init_runs(&p, at(10, 6, 0));
    assert_eq!(runs.len(), 1, "a waiting state is no run: {runs:#?}");
    let r = &runs[0];
    assert!(r.previous);
    assert_eq!((r.exit_code, r.restart_count), (Some(1), 3));
    let span = span_of(r);
    assert_eq!(span.error.as_deref(), Some("exit code 1 (Error)"));
    assert!(
        span.attributes
            .contains(&("k8s.container.restart_count".into(), SpanValue::Int(3)))
    );

    // Restarted and running again: both runs.
    let p = pod(json!([
        {"name": "migrate", "restartCount": 1,
         "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": "2026-11-26T10:04:00Z", "finishedAt": "2026-11-26T10:04:30Z"}},
         "state": {"running": {"startedAt": "2026-11-26T10:04:41Z"}}}
    ]));
    let runs = init_runs(&p, at(10, 5, 0));
    let order: Vec<(bool, bool)> = runs.iter().map(|r| (r.previous, r.running)).collect();
    assert_eq!(order, [(true, false), (false, true)]);
}

#[test]
fn missing_and_unparsable_timestamps_cost_the_run_not_the_pod() {
    let p = pod(json!([
        // No start: cannot be placed.
        {"name": "fetch-schema", "state": {"terminated": {"exitCode": 0, "finishedAt": "2026-11-26T10:00:09Z"}}},
        // Unparsable start.
        {"name": "migrate", "state": {"running": {"startedAt": "yesterday-ish"}}},
        // No end: ends where it started.
        {"name": "wait-db", "state": {"terminated": {"exitCode": 2, "startedAt": "2026-11-26T10:01:00Z", "finishedAt": null}}},
        // No name: skipped.
        {"state": {"running": {"startedAt": "2026-11-26T10:01:00Z"}}},
        // Not an object at all.
        "garbage"
    ]));
    let runs = init_runs(&p, at(10, 5, 0));
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(
        (runs[0].container.as_str(), runs[0].start, runs[0].end),
        ("wait-db", at(10, 1, 0), at(10, 1, 0))
    );
}

#[test]
fn clocks_running_backwards_never_make_a_negative_span() {
    let p = pod(json!([
        {"name": "migrate", "state": {"terminated": {"exitCode": 0, "startedAt": "2026-11-26T10:02:00Z", "finishedAt": "2026-11-26T10:01:00Z"}}},
        {"name": "wait-db", "state": {"running": {"startedAt": "2026-11-26T10:09:00Z"}}}
    ]));
    // `now` (the watcher's clock) before the kubelet's start time.
    let runs = init_runs(&p, at(10, 8, 0));
    assert!(runs.iter().all(|r| r.end >= r.start), "{runs:#?}");
}

#[test]
fn a_pod_without_init_containers_has_no_runs() {
    assert!(init_runs(&json!({"status": {}}), at(10, 0, 0)).is_empty());
    assert!(init_runs(&json!(null), at(10, 0, 0)).is_empty());
}
