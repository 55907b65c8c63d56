//! One set of Kubernetes facts: the same generated pods, Jobs and Events fed to intake (a
//! recording, as `explain` and `replay` read it) and to the watcher's tracker (as the live
//! path sees them) give the same incidents, by key and family.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use lastmile_events::{IncidentFamily, KubeEvent};
use lastmile_watcher::{Tracker, TrackerConfig};
use proptest::prelude::*;
use serde_json::{Value, json};

const T0: &str = "2026-11-26T10:00:00Z";
const STARTED: &str = "2026-11-26T10:01:00Z";
const EVENT_AT: &str = "2026-11-26T10:05:00Z";
/// Two hours before the recording: past the default Job patience (1h) both sides judge by.
const LONG_AGO: &str = "2026-11-26T08:00:00Z";
/// Half an hour before the recording: within the default Job patience.
const LATELY: &str = "2026-11-26T09:30:00Z";
const NAMESPACES: [&str; 2] = ["ci", "shop"];
const PULL_REASONS: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "ImageInspectError",
    "RegistryUnavailable",
    "SignatureValidationFailed",
];

#[derive(Debug, Clone, Copy)]
enum JobState {
    Active,
    /// Active, without a deadline, since long before the recording.
    LongActive,
    /// Suspended (`spec.suspend`, a `Suspended` condition since then), no pod.
    Suspended(&'static str),
    /// Admission refuses its pods: no pod, a FailedCreate Event.
    Blocked,
    Complete,
    Failed(&'static str),
}

#[derive(Debug, Clone, Copy)]
enum PodState {
    Unschedulable { event: bool },
    ImagePull { reason: usize, event: bool },
    InitRunning,
    InitCrashLoop,
    NativeSidecarReady,
    Ready,
    AppCrashLoop,
}

#[derive(Debug, Clone, Copy)]
enum Owner {
    Deployment(usize),
    Job(usize),
    Bare,
}

#[derive(Debug, Clone)]
struct World {
    jobs: Vec<JobState>,
    pods: Vec<(usize, Owner, PodState)>,
}

fn job_state() -> impl Strategy<Value = JobState> {
    prop_oneof![
        Just(JobState::Active),
        Just(JobState::LongActive),
        Just(JobState::Suspended(LONG_AGO)),
        Just(JobState::Suspended(LATELY)),
        Just(JobState::Blocked),
        Just(JobState::Complete),
        Just(JobState::Failed("BackoffLimitExceeded")),
        Just(JobState::Failed("DeadlineExceeded")),
    ]
}

fn pod_state() -> impl Strategy<Value = PodState> {
    prop_oneof![
        any::<bool>().prop_map(|event| PodState::Unschedulable { event }),
        (0..PULL_REASONS.len(), any::<bool>())
            .prop_map(|(reason, event)| PodState::ImagePull { reason, event }),
        Just(PodState::InitRunning),
        Just(PodState::InitCrashLoop),
        Just(PodState::NativeSidecarReady),
        Just(PodState::Ready),
        Just(PodState::AppCrashLoop),
    ]
}

fn owner() -> impl Strategy<Value = Owner> {
    prop_oneof![
        (0..3usize).prop_map(Owner::Deployment),
        (0..3usize).prop_map(Owner::Job),
        Just(Owner::Bare),
    ]
}

fn world() -> impl Strategy<Value = World> {
    (
        proptest::collection::vec(job_state(), 3),
        proptest::collection::vec((0..NAMESPACES.len(), owner(), pod_state()), 0..12),
    )
        .prop_map(|(jobs, pods)| World { jobs, pods })
}

fn job_json(i: usize, state: JobState) -> Value {
    let cond = |ty: &str, reason: &str| json!([{"type": ty, "status": "True", "reason": reason, "lastTransitionTime": EVENT_AT}]);
    let status = match state {
        JobState::Active => json!({"active": 1, "startTime": T0}),
        JobState::LongActive => json!({"active": 1, "startTime": LONG_AGO}),
        JobState::Suspended(since) => json!({"conditions": [{"type": "Suspended", "status": "True",
            "reason": "JobSuspended", "message": "Job suspended", "lastTransitionTime": since}]}),
        JobState::Blocked => json!({"active": 0, "startTime": T0}),
        JobState::Complete => {
            json!({"succeeded": 1, "startTime": T0, "completionTime": EVENT_AT,
                "conditions": cond("Complete", "CompletionsReached")})
        }
        JobState::Failed(reason) => {
            json!({"failed": 1, "startTime": T0, "conditions": cond("Failed", reason)})
        }
    };
    let suspend = matches!(state, JobState::Suspended(_));
    let created = match state {
        JobState::LongActive | JobState::Suspended(_) => LONG_AGO,
        _ => T0,
    };
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": format!("job-{i}"), "namespace": "ci", "uid": format!("uid-job-{i}"),
            "creationTimestamp": created},
        "spec": {"backoffLimit": 2, "suspend": suspend, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": "ghcr.io/acme/task:1"}]}}},
        "status": status})
}

fn waiting(name: &str, reason: &str) -> Value {
    json!({"name": name, "image": "ghcr.io/acme/app:1", "imageID": "", "ready": false,
        "restartCount": 3, "started": false,
        "state": {"waiting": {"reason": reason, "message": format!("{reason} on {name}")}}})
}

fn running(name: &str, ready: bool) -> Value {
    json!({"name": name, "image": "ghcr.io/acme/app:1", "imageID": "sha256:ab", "ready": ready,
        "restartCount": 0, "started": true, "state": {"running": {"startedAt": STARTED}}})
}

fn ready_conditions(ready: bool, initialized: bool) -> Value {
    let s = |b: bool| if b { "True" } else { "False" };
    json!([
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0},
        {"type": "Initialized", "status": s(initialized), "lastTransitionTime": STARTED},
        {"type": "ContainersReady", "status": s(ready), "lastTransitionTime": STARTED},
        {"type": "Ready", "status": s(ready), "lastTransitionTime": STARTED}
    ])
}

/// A pod and the Events about it.
fn pod_json(i: usize, ns: &str, owner: Owner, state: PodState) -> (Value, Vec<Value>) {
    let (name, refs, labels) = match owner {
        Owner::Deployment(d) => (
            format!("web{d}-5f7c9d8b6-p{i}"),
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("web{d}-5f7c9d8b6"),
                "uid": format!("uid-rs-{d}"), "controller": true}]),
            json!({"app": format!("web{d}"), "pod-template-hash": "5f7c9d8b6"}),
        ),
        Owner::Job(j) => (
            format!("job-{j}-p{i}"),
            json!([{"apiVersion": "batch/v1", "kind": "Job", "name": format!("job-{j}"),
                "uid": format!("uid-job-{j}"), "controller": true}]),
            json!({"job-name": format!("job-{j}"), "batch.kubernetes.io/job-name": format!("job-{j}")}),
        ),
        Owner::Bare => (format!("bare-{i}"), json!([]), json!({"app": "bare"})),
    };
    let mut events = Vec::new();
    let mut event = |reason: &str, message: &str| {
        events.push(json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("{name}.{reason}"), "namespace": ns},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": name, "uid": format!("uid-pod-{i}")},
            "reason": reason, "message": message, "type": "Warning", "count": 4,
            "firstTimestamp": STARTED, "lastTimestamp": EVENT_AT,
            "source": {"component": "kubelet"}}));
    };
    let init = json!([{"name": "wait-db", "image": "busybox:1.36",
        "command": ["sh", "-c", "until nc -z db 5432; do sleep 2; done"]}]);
    let sidecar = json!([{"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}]);
    let scheduled = |status: Value| (Some("node-a"), status);
    let (node, status) = match state {
        PodState::Unschedulable { event: e } => {
            if e {
                event(
                    "FailedScheduling",
                    "0/3 nodes are available: 3 Insufficient cpu.",
                );
            }
            (
                None,
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient cpu.",
                "lastTransitionTime": T0}]}),
            )
        }
        PodState::ImagePull { reason, event: e } => {
            let reason = PULL_REASONS[reason];
            if e {
                event(
                    "Failed",
                    "Failed to pull image \"ghcr.io/acme/app:1\": not found",
                );
            }
            scheduled(json!({"phase": "Pending", "startTime": T0,
                "conditions": ready_conditions(false, true),
                "containerStatuses": [waiting("app", reason)]}))
        }
        PodState::InitRunning => scheduled(json!({"phase": "Pending", "startTime": T0,
            "conditions": ready_conditions(false, false),
            "initContainerStatuses": [running("wait-db", false)],
            "containerStatuses": [waiting("app", "PodInitializing")]})),
        PodState::InitCrashLoop => scheduled(json!({"phase": "Pending", "startTime": T0,
            "conditions": ready_conditions(false, false),
            "initContainerStatuses": [waiting("wait-db", "CrashLoopBackOff")],
            "containerStatuses": [waiting("app", "PodInitializing")]})),
        PodState::NativeSidecarReady => scheduled(json!({"phase": "Running", "startTime": T0,
            "conditions": ready_conditions(true, true),
            "initContainerStatuses": [running("proxy", true)],
            "containerStatuses": [running("app", true)]})),
        PodState::Ready => scheduled(json!({"phase": "Running", "startTime": T0,
            "conditions": ready_conditions(true, true),
            "containerStatuses": [running("app", true)]})),
        PodState::AppCrashLoop => scheduled(json!({"phase": "Running", "startTime": T0,
            "conditions": ready_conditions(false, true),
            "containerStatuses": [waiting("app", "CrashLoopBackOff")]})),
    };
    let init_containers = match state {
        PodState::InitRunning | PodState::InitCrashLoop => init,
        PodState::NativeSidecarReady => sidecar,
        _ => json!([]),
    };
    let mut spec = json!({"containers": [{"name": "app", "image": "ghcr.io/acme/app:1"}],
        "initContainers": init_containers});
    if let Some(n) = node {
        spec["nodeName"] = n.into();
    }
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-pod-{i}"),
            "creationTimestamp": T0, "labels": labels, "ownerReferences": refs},
        "spec": spec, "status": status});
    (pod, events)
}

/// The world as Kubernetes objects: Jobs, pods and Events. A Job's pods live in its
/// namespace and match its state (a complete Job's pods are gone, a blocked Job has none).
fn objects(w: &World) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let jobs: Vec<Value> = w
        .jobs
        .iter()
        .enumerate()
        .map(|(i, s)| job_json(i, *s))
        .collect();
    let mut events: Vec<Value> = w
        .jobs
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, JobState::Blocked))
        .map(|(i, _)| {
            json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("job-{i}.FailedCreate"), "namespace": "ci"},
                "involvedObject": {"kind": "Job", "namespace": "ci", "name": format!("job-{i}"),
                    "uid": format!("uid-job-{i}")},
                "reason": "FailedCreate", "type": "Warning", "count": 5,
                "message": "Error creating: pods \"job-x\" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=8, limited: cpu=8",
                "firstTimestamp": STARTED, "lastTimestamp": EVENT_AT,
                "source": {"component": "job-controller"}})
        })
        .collect();
    let mut pods = Vec::new();
    for (i, (ns, owner, state)) in w.pods.iter().enumerate() {
        let ns = match owner {
            Owner::Job(j) => {
                if !matches!(w.jobs[*j], JobState::Active | JobState::LongActive) {
                    continue;
                }
                "ci"
            }
            _ => NAMESPACES[*ns],
        };
        let (pod, evs) = pod_json(i, ns, *owner, *state);
        pods.push(pod);
        events.extend(evs);
    }
    (jobs, pods, events)
}

fn at(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 10, min, 0)
        .single()
        .unwrap_or_default()
}

/// What intake makes of the objects as one recording. A recording is judged as of its
/// newest timestamp: one holding only a Job says nothing of how long the Job has run, so
/// each carries an Event of its moment, as `kubectl get jobs,pods,events` does (a Normal
/// one about a node, which neither side makes an incident of).
fn by_intake(jobs: &[Value], pods: &[Value], events: &[Value]) -> BTreeSet<(String, &'static str)> {
    let moment = json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "node-a.Starting", "namespace": "default"},
        "involvedObject": {"kind": "Node", "name": "node-a"},
        "reason": "Starting", "message": "Starting kubelet.", "type": "Normal", "count": 1,
        "firstTimestamp": EVENT_AT, "lastTimestamp": EVENT_AT, "source": {"component": "kubelet"}});
    let items: Vec<&Value> = jobs
        .iter()
        .chain(pods)
        .chain(events)
        .chain([&moment])
        .collect();
    let doc = json!({"apiVersion": "v1", "kind": "List", "items": items});
    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
    let rec = lastmile_intake::read_json(&bytes).unwrap_or_else(|e| panic!("intake: {e}"));
    rec.incidents
        .into_iter()
        .map(|i| (i.key, i.family.as_str()))
        .collect()
}

/// What the tracker makes of the objects as a watch delivers them (Jobs, Events, pods),
/// with no grace periods for pods (a recording is read after the fact) and the default Job
/// patience, which intake also judges a recording's Jobs by.
fn by_tracker(
    jobs: &[Value],
    pods: &[Value],
    events: &[Value],
) -> BTreeSet<(String, &'static str)> {
    let mut t = Tracker::new(TrackerConfig {
        pending_after: Duration::ZERO,
        init_after: Duration::ZERO,
        job_stuck_after: lastmile_events::facts::DEFAULT_STUCK_AFTER,
        first_publish_wait: Duration::ZERO,
        ..TrackerConfig::default()
    });
    let now = at(10);
    for j in jobs {
        let job: Job = serde_json::from_value(j.clone()).unwrap_or_default();
        t.observe_job(&job, now);
    }
    for e in events {
        let ev: Event = serde_json::from_value(e.clone()).unwrap_or_default();
        t.observe_event(KubeEvent::from_core(&ev), now);
    }
    for p in pods {
        let pod: Pod = serde_json::from_value(p.clone()).unwrap_or_default();
        t.observe_pod(&pod, now);
    }
    t.tick(at(11));
    t.open_incidents()
        .map(|i| (i.key.clone(), i.family.as_str()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn intake_and_the_watchers_tracker_find_the_same_incidents(w in world()) {
        let (jobs, pods, events) = objects(&w);
        let intake = by_intake(&jobs, &pods, &events);
        let tracker = by_tracker(&jobs, &pods, &events);
        prop_assert_eq!(intake, tracker, "world: {:#?}", w);
    }
}

#[test]
fn the_generator_reaches_every_family_but_build() {
    let w = World {
        jobs: vec![
            JobState::Active,
            JobState::Blocked,
            JobState::Failed("DeadlineExceeded"),
        ],
        pods: vec![
            (
                0,
                Owner::Deployment(0),
                PodState::Unschedulable { event: true },
            ),
            (
                1,
                Owner::Deployment(1),
                PodState::ImagePull {
                    reason: 4,
                    event: false,
                },
            ),
            (1, Owner::Bare, PodState::InitRunning),
            (0, Owner::Job(0), PodState::AppCrashLoop),
            (1, Owner::Deployment(2), PodState::NativeSidecarReady),
        ],
    };
    let (jobs, pods, events) = objects(&w);
    let tracker = by_tracker(&jobs, &pods, &events);
    let families: BTreeSet<&str> = tracker.iter().map(|(_, f)| *f).collect();
    for f in [
        IncidentFamily::Pending,
        IncidentFamily::ImagePull,
        IncidentFamily::Init,
        IncidentFamily::Job,
    ] {
        assert!(families.contains(f.as_str()), "{f} missing: {tracker:#?}");
    }
    assert!(
        !tracker.iter().any(|(k, _)| k.contains("web2")),
        "a Ready pod with a native sidecar is no incident: {tracker:#?}"
    );
    assert_eq!(tracker, by_intake(&jobs, &pods, &events));
}

/// Jobs judged by the default patience: suspended or active (no deadline) since two hours
/// before the recording are Job incidents on both sides; suspended half an hour is none.
#[test]
fn jobs_past_the_default_patience_are_incidents_on_both_sides() {
    let w = World {
        jobs: vec![
            JobState::Suspended(LONG_AGO),
            JobState::Suspended(LATELY),
            JobState::LongActive,
        ],
        pods: Vec::new(),
    };
    let (jobs, pods, events) = objects(&w);
    let tracker = by_tracker(&jobs, &pods, &events);
    let job_incidents: BTreeSet<&str> = tracker
        .iter()
        .filter(|(_, f)| *f == IncidentFamily::Job.as_str())
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(job_incidents.len(), 2, "{tracker:#?}");
    assert!(
        job_incidents.iter().any(|k| k.contains(".job-0.")),
        "{tracker:#?}"
    );
    assert!(
        job_incidents.iter().any(|k| k.contains(".job-2.")),
        "{tracker:#?}"
    );
    assert_eq!(tracker, by_intake(&jobs, &pods, &events));
}
