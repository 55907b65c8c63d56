//! Intake of recorded `kubectl get -o json` documents (the files under `events/examples/`
//! and `tests/fixtures/`).

use lastmile_events::{CloudEvent, IncidentFamily};

use super::*;

fn example(name: &str) -> Vec<u8> {
    let path = format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const PODLIST: &[u8] = include_bytes!("../tests/fixtures/podlist-two-pending-one-job.json");
const EVENTS_V1: &[u8] = include_bytes!("../tests/fixtures/eventlist-events-v1.json");

#[test]
fn pending_job_pod_becomes_one_incident_with_events_and_snapshot() {
    let incidents = incidents_from_json(&example("pending-job-insufficient-cpu.json")).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let inc = &incidents[0];
    assert_eq!(inc.family, IncidentFamily::Pending);
    assert_eq!(inc.subject.name, "integration-tests-q8v2m");
    assert_eq!(
        inc.owner.as_ref().map(|o| o.name.as_str()),
        Some("integration-tests")
    );
    assert!(inc.job.is_some() && inc.pod.is_some());
    let fs = inc
        .events_about("FailedScheduling")
        .next()
        .expect("FailedScheduling attached");
    assert_eq!(fs.count, 17);
    // The Job's own events are attached too.
    assert!(inc.events_about("SuccessfulCreate").next().is_some());
    assert_eq!(inc.snapshot.nodes.len(), 3);
    // Bound pods stay in the snapshot; the stuck pod itself does not.
    assert_eq!(inc.snapshot.pods.len(), 2);
    assert!(
        inc.snapshot
            .pods
            .iter()
            .all(|p| p.metadata.name.as_deref() != Some("integration-tests-q8v2m"))
    );
    assert_eq!(inc.last_seen.to_rfc3339(), "2026-03-03T10:14:31+00:00");
    assert_eq!(
        inc.key,
        Incident::key_for(IncidentFamily::Pending, &inc.subject, inc.owner.as_ref())
    );
}

#[test]
fn image_pull_backoff_routes_to_image_pull() {
    let incidents = incidents_from_json(&example("imagepull-auth-401.json")).unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].family, IncidentFamily::ImagePull);
    assert_eq!(
        incidents[0].owner.as_ref().map(|o| o.kind.as_str()),
        Some("Deployment"),
        "keyed by the workload the pipeline deployed, as the watcher keys it"
    );
    assert_eq!(incidents[0].events.len(), 6);
}

#[test]
fn init_container_loop_routes_to_init() {
    let incidents = incidents_from_json(&example("init-waiting-for-postgres.json")).unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].family, IncidentFamily::Init);
    assert!(incidents[0].events.iter().any(
        |e| e.regarding.field_path.as_deref() == Some("spec.initContainers{wait-for-postgres}")
    ));
}

#[test]
fn failed_job_is_a_job_incident_with_pod_events() {
    let incidents = incidents_from_json(&example("job-deadline-exceeded.json")).unwrap();
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(inc.family, IncidentFamily::Job);
    assert_eq!(
        (inc.subject.kind.as_str(), inc.subject.name.as_str()),
        ("Job", "db-migrate")
    );
    assert!(inc.job.is_some());
    assert!(inc.events_about("DeadlineExceeded").next().is_some());
    // The deleted pod's events are kept: it was named after the Job.
    assert!(
        inc.events
            .iter()
            .any(|e| e.regarding.name == "db-migrate-8kq2n")
    );
}

/// A recording holds a Job Kueue keeps suspended and the Warning Kueue gave its Workload
/// 1h42m later: judged with the watcher's default patience (1h), it is one Job incident
/// carrying that event (the Workload is the Job's, not an incident of its own); the same
/// Job recorded 20 minutes after it was suspended is no incident yet.
#[test]
fn a_job_suspended_past_the_default_patience_is_a_job_incident_with_its_workloads_events() {
    let incidents = incidents_from_json(&example("job-suspended-kueue.json")).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let inc = &incidents[0];
    assert_eq!(inc.family, IncidentFamily::Job);
    assert_eq!(inc.subject.name, "train");
    assert!(
        inc.events
            .iter()
            .any(|e| e.regarding.kind == "Workload"
                && e.message.contains("insufficient unused quota")),
        "{:#?}",
        inc.events
    );

    let mut early: serde_json::Value =
        serde_json::from_slice(&example("job-suspended-kueue.json")).unwrap();
    for item in early["items"].as_array_mut().unwrap() {
        if item["involvedObject"]["kind"] == "Workload" {
            item["lastTimestamp"] = "2026-11-26T10:20:00Z".into();
        }
    }
    let incidents = incidents_from_json(&serde_json::to_vec(&early).unwrap()).unwrap();
    assert!(
        incidents.iter().all(|i| i.family != IncidentFamily::Job),
        "{incidents:#?}"
    );

    // The Job pasted alone: nothing newer than its suspension, so how long cannot be told;
    // read after the fact, it counts.
    let alone = early["items"][0].clone();
    assert_eq!(alone["kind"], "Job");
    let incidents = incidents_from_json(&serde_json::to_vec(&alone).unwrap()).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0].family, IncidentFamily::Job);
}

#[test]
fn quota_failed_create_on_a_job_is_a_pending_incident_about_the_job() {
    let incidents = incidents_from_json(&example("quota-failedcreate-job.json")).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let inc = &incidents[0];
    assert_eq!(inc.family, IncidentFamily::Pending);
    assert_eq!(inc.subject.kind, "Job");
    assert!(inc.job.is_some());
    assert_eq!(inc.snapshot.resource_quotas.len(), 1);
    assert_eq!(
        inc.events_about("FailedCreate").next().map(|e| e.count),
        Some(9)
    );
}

#[test]
fn pods_of_one_job_are_one_incident_with_count() {
    let incidents = incidents_from_json(PODLIST).unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    assert_eq!(incidents[0].count, 2);
    assert_eq!(
        incidents[0].subject.name, "shard-0-4kq9z",
        "first pod by name is the subject"
    );
    // The succeeded pod is cluster state, not part of the incident.
    assert_eq!(incidents[0].snapshot.pods.len(), 1);
}

#[test]
fn events_v1_list_alone_gives_incidents_per_object() {
    let incidents = incidents_from_json(EVENTS_V1).unwrap();
    let families: Vec<(IncidentFamily, &str)> = incidents
        .iter()
        .map(|i| (i.family, i.subject.name.as_str()))
        .collect();
    assert_eq!(
        families,
        vec![
            (IncidentFamily::Pending, "shard-0-4kq9z"),
            (IncidentFamily::ImagePull, "importer-2h7kq")
        ]
    );
    assert_eq!(incidents[0].events[0].count, 12);
    assert_eq!(incidents[1].events[0].count, 6);
    assert_eq!(
        incidents[0].last_seen.to_rfc3339(),
        "2026-03-03T11:09:44.100131+00:00"
    );
}

#[test]
fn pods_and_their_events_from_two_documents_merge_when_concatenated_as_a_list() {
    let mut pods: serde_json::Value = serde_json::from_slice(PODLIST).unwrap();
    let events: serde_json::Value = serde_json::from_slice(EVENTS_V1).unwrap();
    let list =
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [pods.take(), events]});
    let incidents = incidents_from_json(&serde_json::to_vec(&list).unwrap()).unwrap();
    let pending = incidents
        .iter()
        .find(|i| i.family == IncidentFamily::Pending)
        .unwrap();
    assert_eq!(pending.count, 2);
    assert!(pending.events_about("FailedScheduling").next().is_some());
}

#[test]
fn a_cloud_event_incident_is_returned_as_is() {
    let inc = incidents_from_json(&example("job-deadline-exceeded.json"))
        .unwrap()
        .remove(0);
    let ce = CloudEvent::new("id-1", "/test", None, inc.last_seen, inc.clone());
    let back = incidents_from_json(&ce.to_vec().unwrap()).unwrap();
    assert_eq!(back, vec![inc]);
}

#[test]
fn a_single_object_is_accepted() {
    let doc: serde_json::Value =
        serde_json::from_slice(&example("job-deadline-exceeded.json")).unwrap();
    let job = serde_json::to_vec(&doc["items"][0]).unwrap();
    let incidents = incidents_from_json(&job).unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].family, IncidentFamily::Job);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(
        incidents_from_json(b"Name: x"),
        Err(IntakeError::Json(_))
    ));
    assert!(matches!(
        incidents_from_json(b"{\"hello\": 1}"),
        Err(IntakeError::NotKubernetes)
    ));
    assert!(matches!(
        incidents_from_json(b"{\"specversion\": \"1.0\"}"),
        Err(IntakeError::Envelope(_))
    ));
    assert!(
        incidents_from_json(
            b"{\"kind\": \"List\", \"items\": [1, \"x\", {\"kind\": \"Pod\", \"spec\": 7}]}"
        )
        .unwrap()
        .is_empty()
    );
}

#[test]
fn intake_is_deterministic() {
    let bytes = example("pending-job-insufficient-cpu.json");
    assert_eq!(
        incidents_from_json(&bytes).unwrap(),
        incidents_from_json(&bytes).unwrap()
    );
}

#[test]
fn snapshot_merge_skips_objects_already_present() {
    let doc = example("pending-job-insufficient-cpu.json");
    let mut snap = snapshot_from_json(&doc).unwrap();
    let extra = snapshot_from_json(&doc).unwrap();
    merge_snapshot(&mut snap, &extra);
    assert_eq!(snap.nodes.len(), 3);
    let quota = snapshot_from_json(&example("quota-failedcreate-job.json")).unwrap();
    merge_snapshot(&mut snap, &quota);
    assert_eq!(snap.resource_quotas.len(), 1);
}

#[test]
fn crashlooping_deployment_pod_is_a_runtime_incident_and_secrets_keep_key_names_only() {
    let doc = serde_json::json!({"kind": "List", "apiVersion": "v1", "items": [
        {"kind": "Pod", "apiVersion": "v1",
         "metadata": {"name": "api-7c9b6d8f45-p2xnq", "namespace": "shop", "labels": {"pod-template-hash": "7c9b6d8f45"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7c9b6d8f45", "uid": "rs", "controller": true}]},
         "spec": {"nodeName": "n1", "containers": [{"name": "api", "image": "api:2"}]},
         "status": {"phase": "Running", "containerStatuses": [{"name": "api", "image": "api:2", "imageID": "", "ready": false,
            "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}},
        {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "db", "namespace": "shop"},
         "data": {"password": "aHVudGVyMg=="}},
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "flags", "namespace": "shop"},
         "data": {"mode": "fast"}}
    ]});
    let rec = read_json(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(rec.incidents.len(), 1);
    assert_eq!(rec.incidents[0].family, IncidentFamily::Runtime);
    assert!(
        rec.incidents[0]
            .key
            .starts_with("runtime.shop.deployment.api."),
        "{}",
        rec.incidents[0].key
    );
    // The configs are cluster state: the incident reasons against them.
    let cluster = rec.cluster_for(0).expect("configs count as cluster state");
    assert_eq!(cluster.configs.len(), 2);
    assert_eq!(cluster.configs[0].keys, ["password"]);
    let all = serde_json::to_string(&*cluster).unwrap();
    assert!(
        !all.contains("aHVudGVyMg") && !all.contains("fast"),
        "{all}"
    );
}

mod prop {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            let inc = crate::incident_from_text(&text);
            prop_assert_eq!(inc.text.as_deref(), Some(text.as_str()));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = crate::incidents_from_json(&bytes);
        }
    }
}
