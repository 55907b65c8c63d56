//! Tracker decisions on recorded objects (`fixtures/`, as `kubectl get -o json` prints them).

use chrono::TimeZone;
use lastmile_events::IncidentFamily;

use super::events::MAX_MESSAGE_LEN;
use super::*;
use crate::trim;

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn items<T: serde::de::DeserializeOwned>(name: &str) -> Vec<T> {
    let v = fixture(name);
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_value(i.clone()).unwrap())
        .collect()
}

fn one<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(fixture(name)).unwrap()
}

fn events() -> Vec<KubeEvent> {
    items::<k8s_openapi::api::core::v1::Event>("events.json")
        .iter()
        .map(KubeEvent::from_core)
        .collect()
}

fn at(min: u32, sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, min, sec).unwrap()
}

#[test]
fn pending_pods_of_one_job_are_one_incident_after_the_threshold() {
    let mut t = Tracker::new(TrackerConfig::default());
    for ev in events() {
        assert!(
            t.observe_event(ev, at(0, 30))
                .iter()
                .all(|i| i.family != IncidentFamily::Pending || i.subject.kind == "Job")
        );
    }
    t.observe_job(&one("job-migrate-active.json"), at(0, 30));
    let pods: Vec<Pod> = items("pods-job-pending.json");
    for p in &pods {
        let out = t.observe_pod(p, at(0, 30));
        assert!(
            out.iter().all(|i| i.subject.kind != "Pod"),
            "published before the pending threshold: {out:?}"
        );
    }
    let out = t.tick(at(1, 1));
    let inc: Vec<&Incident> = out
        .iter()
        .filter(|i| {
            i.family == IncidentFamily::Pending
                && i.owner.as_ref().is_some_and(|o| o.name == "migrate")
        })
        .collect();
    assert_eq!(inc.len(), 1, "{out:#?}");
    let inc = inc[0];
    assert_eq!(inc.count, 3);
    assert_eq!(inc.status, IncidentStatus::Open);
    assert_eq!(inc.first_seen, at(0, 0));
    assert!(
        inc.key.starts_with("pending.ci.job.migrate."),
        "{}",
        inc.key
    );
    // Events captured at once, deduplicated across the pods (same reason and message).
    assert_eq!(
        inc.events
            .iter()
            .filter(|e| e.reason == "FailedScheduling")
            .count(),
        1,
        "{:#?}",
        inc.events
    );
    assert!(inc.events.iter().any(|e| e.reason == "NotTriggerScaleUp"));
    // The Job rides along, its env values redacted, and the run it came from is linked.
    let job_json = serde_json::to_string(inc.job.as_deref().unwrap()).unwrap();
    assert!(!job_json.contains("tok-123"));
    assert_eq!(
        inc.ci.as_ref().map(|c| c.run_id.as_str()),
        Some("9876543210")
    );
    assert!(
        !serde_json::to_string(inc.pod.as_deref().unwrap())
            .unwrap()
            .contains("s3cr3t")
    );
}

#[test]
fn scheduling_every_pod_resolves_the_incident_once() {
    let mut t = Tracker::new(TrackerConfig::default());
    let pods: Vec<Pod> = items("pods-job-pending.json");
    for p in &pods {
        t.observe_pod(p, at(0, 10));
    }
    assert_eq!(t.tick(at(2, 0)).len(), 1);
    let mut resolved = Vec::new();
    for (i, p) in pods.iter().enumerate() {
        let mut p = p.clone();
        p.spec.as_mut().unwrap().node_name = Some("node-a".into());
        p.status.as_mut().unwrap().phase = Some("Running".into());
        resolved.extend(t.observe_pod(&p, at(3, i as u32)));
    }
    // Count updates are throttled; the resolution is published at once.
    let last = resolved.last().unwrap();
    assert_eq!(last.status, IncidentStatus::Resolved);
    assert!(
        last.resolution
            .as_deref()
            .unwrap()
            .contains("scheduled on node node-a"),
        "{:?}",
        last.resolution
    );
    assert_eq!(
        resolved
            .iter()
            .filter(|i| i.status == IncidentStatus::Resolved)
            .count(),
        1
    );
    assert!(t.open_incidents().next().is_none());
    assert!(t.tick(at(9, 0)).is_empty());
}

#[test]
fn scheduling_the_representative_pod_shows_a_still_pending_one_in_full() {
    let mut t = Tracker::new(TrackerConfig::default());
    let pods: Vec<Pod> = items("pods-job-pending.json");
    for p in &pods {
        t.observe_pod(p, at(0, 10));
    }
    let first = t.tick(at(2, 0));
    assert_eq!(first.len(), 1);
    let shown = first[0].subject.name.clone();
    assert_eq!(
        first[0].pod.as_deref(),
        Some(&trim::pod(
            pods.iter()
                .find(|p| p.metadata.name.as_deref() == Some(&shown))
                .unwrap()
        ))
    );
    let mut scheduled = pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(&shown))
        .unwrap()
        .clone();
    scheduled.spec.as_mut().unwrap().node_name = Some("node-a".into());
    scheduled.status.as_mut().unwrap().phase = Some("Running".into());
    let out = t.observe_pod(&scheduled, at(3, 0));
    assert_eq!(out.len(), 1, "{out:#?}");
    let inc = &out[0];
    assert_eq!(inc.status, IncidentStatus::Open);
    assert_eq!(inc.count, 2);
    assert_ne!(inc.subject.name, shown);
    let still = pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(&inc.subject.name))
        .unwrap();
    // The pod is the whole trimmed pod (held as JSON while a suspect), uid and all.
    assert_eq!(inc.pod, Some(Box::new(trim::pod(still))));
    assert_eq!(inc.subject.uid, still.metadata.uid);
}

#[test]
fn image_pull_backoff_is_an_incident_at_once_owned_by_the_deployment() {
    let mut t = Tracker::new(TrackerConfig::default());
    for ev in events() {
        t.observe_event(ev, at(0, 5));
    }
    let out = t.observe_pod(&one("pod-image-pull-backoff.json"), at(0, 6));
    assert_eq!(out.len(), 1);
    let inc = &out[0];
    assert_eq!(inc.family, IncidentFamily::ImagePull);
    let owner = inc.owner.as_ref().unwrap();
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("Deployment", "api")
    );
    assert!(
        inc.events
            .iter()
            .any(|e| e.message.contains("failed to resolve reference"))
    );
    // Normal `Scheduled` is noise; the kubelet's Normal BackOff is not kept either.
    assert!(inc.events.iter().all(|e| e.reason != "Scheduled"));
    let ci = inc.ci.as_ref().unwrap();
    assert_eq!(
        (ci.run_id.as_str(), ci.commit.as_deref()),
        ("9876543210", Some("4f2a9c1e"))
    );
}

#[test]
fn init_container_running_too_long_becomes_an_init_incident() {
    let cfg = TrackerConfig {
        init_after: Duration::from_secs(120),
        ..Default::default()
    };
    let mut t = Tracker::new(cfg);
    let pod: Pod = one("pod-init-running.json");
    assert!(t.observe_pod(&pod, at(1, 0)).is_empty());
    assert!(
        t.tick(at(2, 0)).is_empty(),
        "started 10:00:03, threshold 2 min"
    );
    let out = t.tick(at(2, 4));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].family, IncidentFamily::Init);
    assert_eq!(out[0].first_seen, at(0, 3));
}

#[test]
fn job_failedcreate_opens_an_incident_on_the_job_with_the_quota_message() {
    let mut t = Tracker::new(TrackerConfig::default());
    t.observe_job(&one("job-seed-quota.json"), at(0, 1));
    let out: Vec<Incident> = events()
        .into_iter()
        .flat_map(|e| t.observe_event(e, at(0, 2)))
        .collect();
    let inc = out.iter().find(|i| i.subject.name == "seed-quota").unwrap();
    assert_eq!(inc.family, IncidentFamily::Pending);
    assert_eq!(inc.subject.kind, "Job");
    assert!(inc.events[0].message.contains("exceeded quota: ci-quota"));
    assert!(inc.job.is_some());
}

#[test]
fn job_past_its_deadline_is_a_job_incident_and_deletion_resolves_it() {
    let mut t = Tracker::new(TrackerConfig::default());
    let out = t.observe_job(&one("job-report-deadline.json"), at(6, 0));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].family, IncidentFamily::Job);
    assert_eq!(out[0].subject.name, "report");
    let out = t.forget_job("ci", "report", at(7, 0));
    assert_eq!(out[0].status, IncidentStatus::Resolved);
}

#[test]
fn active_job_overdue_by_its_deadline_is_noticed_before_the_controller_marks_it() {
    let mut t = Tracker::new(TrackerConfig::default());
    let mut job: Job = one("job-migrate-active.json");
    job.spec.as_mut().unwrap().active_deadline_seconds = Some(600);
    assert!(t.observe_job(&job, at(5, 0)).is_empty());
    let out = t.tick(at(10, 1));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].family, IncidentFamily::Job);
}

/// A Job left suspended (a queueing controller that never admits it) has no pod, so no
/// pod rule sees it: past the Job patience since it was suspended (not before), it is a Job
/// incident carrying the Job, which the workload function reads as suspended.
#[test]
fn a_job_suspended_past_the_patience_is_a_job_incident() {
    let mut t = Tracker::new(TrackerConfig {
        job_stuck_after: std::time::Duration::from_secs(30 * 60),
        ..TrackerConfig::default()
    });
    let job: Job = one("job-train-suspended.json");
    assert!(t.observe_job(&job, at(5, 0)).is_empty());
    assert!(t.tick(at(29, 0)).is_empty());
    let out = t.tick(at(31, 0));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].family, IncidentFamily::Job);
    assert_eq!(out[0].subject.name, "train");
    let carried = out[0].job.as_deref().and_then(|j| j.spec.as_ref());
    assert_eq!(
        carried.and_then(|s| s.suspend),
        Some(true),
        "the Job rides along"
    );
}

/// Kueue says why it does not admit a queued Job in Warning events on the Job's Workload
/// (`job-<job>-<hash>`): cached before the Job's incident opens or arriving after, they ride
/// in the Job's incident; another Job's Workload's do not.
#[test]
fn a_suspended_jobs_incident_carries_its_kueue_workloads_events() {
    let workload_events = || {
        items::<k8s_openapi::api::core::v1::Event>("workload-train-pending.json")
            .iter()
            .map(KubeEvent::from_core)
            .collect::<Vec<_>>()
    };
    let quota = |inc: &Incident| {
        inc.events.iter().any(|e| {
            e.regarding.kind == "Workload" && e.message.contains("insufficient unused quota")
        })
    };
    let cfg = TrackerConfig {
        job_stuck_after: std::time::Duration::from_secs(30 * 60),
        ..TrackerConfig::default()
    };
    let job: Job = one("job-train-suspended.json");

    // Cached first.
    let mut t = Tracker::new(cfg.clone());
    for ev in workload_events() {
        assert!(
            t.observe_event(ev, at(1, 0)).is_empty(),
            "no incident of its own"
        );
    }
    t.observe_job(&job, at(5, 0));
    let out = t.tick(at(31, 0));
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(quota(&out[0]), "{:#?}", out[0].events);

    // Arriving after the incident opened.
    let mut t = Tracker::new(cfg.clone());
    t.observe_job(&job, at(5, 0));
    let out = t.tick(at(31, 0));
    assert!(!quota(&out[0]));
    let mut out = Vec::new();
    for ev in workload_events() {
        out.extend(t.observe_event(ev, at(32, 0)));
    }
    out.extend(t.tick(at(33, 0)));
    assert!(out.iter().any(quota), "{out:#?}");

    // Another Job's Workload.
    let mut t = Tracker::new(cfg);
    for mut ev in workload_events() {
        ev.regarding.name = "job-trainer-5c1e7".into();
        t.observe_event(ev, at(1, 0));
    }
    t.observe_job(&job, at(5, 0));
    let out = t.tick(at(31, 0));
    assert!(!quota(&out[0]), "{:#?}", out[0].events);
}

#[test]
fn completing_the_job_resolves_its_pending_incident() {
    let mut t = Tracker::new(TrackerConfig::default());
    t.observe_job(&one("job-migrate-active.json"), at(0, 1));
    for p in items::<Pod>("pods-job-pending.json") {
        t.observe_pod(&p, at(0, 1));
    }
    assert_eq!(t.tick(at(1, 30)).len(), 1);
    let out = t.observe_job(&one("job-migrate-complete.json"), at(9, 12));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].status, IncidentStatus::Resolved);
    assert_eq!(
        out[0].resolution.as_deref(),
        Some("Job ci/migrate completed")
    );
}

#[test]
fn events_are_bounded_per_subject_and_in_total() {
    let cfg = TrackerConfig {
        max_event_subjects: 10,
        max_events_per_subject: 2,
        ..Default::default()
    };
    let mut t = Tracker::new(cfg);
    for i in 0..1000u32 {
        let ev = KubeEvent {
            ty: "Warning".into(),
            reason: format!("R{}", i % 5),
            message: "x".repeat(10_000),
            regarding: ObjectRef {
                kind: "Pod".into(),
                namespace: Some("ns".into()),
                name: format!("p{}", i % 50),
                ..Default::default()
            },
            ..Default::default()
        };
        t.observe_event(ev, at(0, 0));
    }
    assert!(t.sizes().2 <= 10);
    assert!(
        t.events
            .values()
            .all(|v| v.len() <= 2 && v.iter().all(|e| e.message.len() <= MAX_MESSAGE_LEN))
    );
}

#[test]
fn malformed_pod_without_spec_or_status_does_not_panic_and_is_pending() {
    let mut t = Tracker::new(TrackerConfig::default());
    let pod: Pod =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "bare", "namespace": "x"}}))
            .unwrap();
    t.observe_pod(&pod, at(0, 0));
    assert_eq!(t.sizes().0, 1);
    assert_eq!(t.forget_pod("x", "bare", at(0, 1)).len(), 0);
}

/// The kubelet's Events about the image-pull pod, as the Event watch delivers them.
fn pull_events() -> Vec<KubeEvent> {
    events()
        .into_iter()
        .filter(|e| e.regarding.name.starts_with("api-") && e.ty == "Warning")
        .collect()
}

#[test]
fn image_pull_incident_waits_for_its_events_when_they_arrive_after_the_pod() {
    let mut t = Tracker::new(TrackerConfig::default());
    let pod: Pod = one("pod-image-pull-backoff.json");
    assert!(
        t.observe_pod(&pod, at(0, 6)).is_empty(),
        "no Event about it yet: the first publish waits for one"
    );
    let mut out = Vec::new();
    for ev in pull_events() {
        out.extend(t.observe_event(ev, at(0, 7)));
    }
    assert_eq!(out.len(), 1, "{out:#?}");
    assert!(
        out[0]
            .events
            .iter()
            .any(|e| e.message.contains("failed to resolve reference")),
        "the first publish carries the Event: {:#?}",
        out[0].events
    );
}

#[test]
fn image_pull_incident_without_events_is_published_after_the_first_publish_wait() {
    let mut t = Tracker::new(TrackerConfig::default());
    let pod: Pod = one("pod-image-pull-backoff.json");
    assert!(t.observe_pod(&pod, at(0, 6)).is_empty());
    assert!(t.tick(at(0, 8)).is_empty(), "3 s wait not over");
    let out = t.tick(at(0, 9));
    assert_eq!(out.len(), 1);
    assert!(out[0].events.is_empty());
}

#[test]
fn held_tracker_publishes_nothing_until_released_then_with_what_was_read_meanwhile() {
    let mut t = Tracker::new(TrackerConfig::default());
    t.hold();
    // Relist order after a restart: pods first, their Events later.
    assert!(
        t.observe_pod(&one("pod-image-pull-backoff.json"), at(0, 6))
            .is_empty()
    );
    for ev in pull_events() {
        assert!(t.observe_event(ev, at(0, 7)).is_empty(), "held");
    }
    assert!(t.tick(at(5, 0)).is_empty(), "held past every wait");
    let out = t.release(at(5, 1));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].family, IncidentFamily::ImagePull);
    assert!(
        out[0]
            .events
            .iter()
            .any(|e| e.message.contains("failed to resolve reference"))
    );
    assert!(t.tick(at(5, 2)).is_empty(), "published once");
}

#[test]
fn touched_incident_is_published_again_after_the_update_interval_untouched_ones_are_not() {
    let mut t = Tracker::new(TrackerConfig::default());
    for ev in pull_events() {
        t.observe_event(ev, at(0, 5));
    }
    assert_eq!(
        t.observe_pod(&one("pod-image-pull-backoff.json"), at(0, 6))
            .len(),
        1
    );
    assert!(t.touch(|_| false, at(0, 7)).is_empty());
    assert!(t.tick(at(1, 0)).is_empty(), "nothing changed");
    assert!(
        t.touch(
            |i| i.owner.as_ref().is_some_and(|o| o.name == "api"),
            at(1, 1)
        )
        .len()
            == 1,
        "past the update interval: at once"
    );
    assert!(t.touch(|_| true, at(1, 2)).is_empty(), "throttled");
    assert_eq!(t.tick(at(1, 17)).len(), 1, "then with the next update");
}
