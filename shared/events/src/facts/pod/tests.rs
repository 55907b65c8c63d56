use super::*;

fn pod(v: serde_json::Value) -> Pod {
    serde_json::from_value(v).unwrap()
}

fn family(p: &Pod) -> Option<IncidentFamily> {
    stuck_pod(p, false).map(|s| s.family)
}

#[test]
fn every_kubelet_image_reason_is_image_pull_and_the_go_identifier_is_not() {
    for reason in IMAGE_PULL_REASONS {
        let p = pod(
            serde_json::json!({"metadata": {"name": "p"}, "status": {"phase": "Pending",
                "containerStatuses": [{"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": reason}}}]}}),
        );
        assert_eq!(family(&p), Some(IncidentFamily::ImagePull), "{reason}");
    }
    assert!(is_image_pull_reason("ImageInspectError"));
    assert!(!is_image_pull_reason("ErrImageInspect"));
}

#[test]
fn running_pod_with_a_native_sidecar_is_not_stuck() {
    let p = pod(serde_json::json!({
            "metadata": {"name": "api-1", "creationTimestamp": "2026-03-01T10:00:00Z"},
            "spec": {"nodeName": "n1", "initContainers": [{"name": "proxy", "image": "envoy", "restartPolicy": "Always"}],
                     "containers": [{"name": "api", "image": "api"}]},
            "status": {"phase": "Running", "initContainerStatuses": [{"name": "proxy", "image": "envoy", "imageID": "",
                "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-03-01T10:00:01Z"}}}]}}));
    assert_eq!(family(&p), None);
    // The same sidecar while the pod is still Pending (app containers creating) is done too.
    let mut pending = p.clone();
    pending.status.as_mut().unwrap().phase = Some("Pending".into());
    assert_eq!(family(&pending), None);
}

#[test]
fn running_regular_init_container_is_init_after_a_grace_period_since_it_started() {
    let p = pod(serde_json::json!({
            "metadata": {"name": "p", "creationTimestamp": "2026-03-01T09:59:00Z"},
            "spec": {"nodeName": "n1", "initContainers": [{"name": "wait-db", "image": "busybox"}], "containers": []},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "wait-db", "image": "busybox", "imageID": "",
                "ready": false, "restartCount": 0, "state": {"running": {"startedAt": "2026-03-01T10:00:00Z"}}}]}}));
    let s = stuck_pod(&p, false).unwrap();
    assert_eq!(s.family, IncidentFamily::Init);
    assert!(s.needs_age);
    assert_eq!(s.since.unwrap().to_rfc3339(), "2026-03-01T10:00:00+00:00");
}

#[test]
fn crashlooping_init_is_at_once_and_failed_init_fails_the_pod() {
    let p = pod(
        serde_json::json!({"metadata": {"name": "p"}, "status": {"phase": "Pending",
            "initContainerStatuses": [{"name": "migrate", "image": "m", "imageID": "", "ready": false, "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
    );
    assert_eq!(
        stuck_pod(&p, false),
        Some(StuckPod {
            family: IncidentFamily::Init,
            since: None,
            needs_age: false
        })
    );
    let failed = pod(
        serde_json::json!({"metadata": {"name": "p"}, "status": {"phase": "Failed",
            "initContainerStatuses": [{"name": "migrate", "image": "m", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}),
    );
    assert_eq!(family(&failed), Some(IncidentFamily::Init));
}

#[test]
fn unscheduled_is_pending_scheduled_is_not_and_finished_pods_are_never_stuck() {
    let unscheduled = pod(
        serde_json::json!({"metadata": {"name": "p"}, "status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}}),
    );
    assert_eq!(family(&unscheduled), Some(IncidentFamily::Pending));
    let creating = pod(
        serde_json::json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n", "containers": []},
            "status": {"phase": "Pending"}}),
    );
    assert_eq!(family(&creating), None);
    for phase in ["Running", "Succeeded", "Failed"] {
        let p = pod(serde_json::json!({"metadata": {"name": "p"}, "status": {"phase": phase}}));
        assert_eq!(family(&p), None, "{phase}");
    }
}

#[test]
fn crashlooping_app_container_is_a_job_problem_for_job_pods_and_runtime_otherwise() {
    let p = pod(
        serde_json::json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n", "containers": []},
            "status": {"phase": "Running", "containerStatuses": [{"name": "app", "image": "a", "imageID": "",
                "ready": false, "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
    );
    assert_eq!(
        stuck_pod(&p, true).map(|s| s.family),
        Some(IncidentFamily::Job)
    );
    assert_eq!(
        stuck_pod(&p, false).map(|s| s.family),
        Some(IncidentFamily::Runtime)
    );
}

fn app_pod(phase: &str, status: serde_json::Value) -> Pod {
    let mut status = status;
    status["name"] = "app".into();
    status["image"] = "a".into();
    status["imageID"] = "".into();
    pod(
        serde_json::json!({"metadata": {"name": "web-1", "creationTimestamp": "2026-03-01T10:00:00Z"},
            "spec": {"nodeName": "n", "containers": [{"name": "app", "image": "a"}]},
            "status": {"phase": phase, "containerStatuses": [status]}}),
    )
}

#[test]
fn main_containers_that_cannot_run_are_runtime_at_once_outside_jobs() {
    for reason in RUNTIME_WAITING_REASONS {
        let p = app_pod(
            "Pending",
            serde_json::json!({"ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason}}}),
        );
        let s = stuck_pod(&p, false).unwrap();
        assert_eq!(
            (s.family, s.needs_age),
            (IncidentFamily::Runtime, false),
            "{reason}"
        );
        // A Job's pods are reported through the Job (its conditions and backoff limit).
        assert_ne!(
            stuck_pod(&p, true).map(|s| s.family),
            Some(IncidentFamily::Runtime)
        );
    }
    let oom = app_pod(
        "Running",
        serde_json::json!({"ready": false, "restartCount": 3, "state": {"running": {"startedAt": "2026-03-01T10:05:00Z"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
    );
    assert_eq!(
        stuck_pod(&oom, false).map(|s| (s.family, s.needs_age)),
        Some((IncidentFamily::Runtime, false))
    );
}

#[test]
fn creating_and_not_ready_containers_are_runtime_after_a_grace_period() {
    let creating = app_pod(
        "Pending",
        serde_json::json!({"ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}),
    );
    let s = stuck_pod(&creating, false).unwrap();
    assert_eq!((s.family, s.needs_age), (IncidentFamily::Runtime, true));
    let unready = app_pod(
        "Running",
        serde_json::json!({"ready": false, "restartCount": 0, "started": true, "state": {"running": {"startedAt": "2026-03-01T10:01:00Z"}}}),
    );
    let s = stuck_pod(&unready, false).unwrap();
    assert_eq!((s.family, s.needs_age), (IncidentFamily::Runtime, true));
    assert_eq!(s.since.unwrap().to_rfc3339(), "2026-03-01T10:01:00+00:00");
    let ready = app_pod(
        "Running",
        serde_json::json!({"ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-03-01T10:01:00Z"}}}),
    );
    assert_eq!(stuck_pod(&ready, false), None);
}
