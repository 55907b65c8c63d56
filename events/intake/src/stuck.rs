//! Which objects are stuck, and in which family.
//!
//! Reads only status fields the API stores (phase, container states, conditions), never
//! the `STATUS` column `kubectl get pods` computes (reference §7.2).

use chrono::{DateTime, Duration, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use lastmile_events::IncidentFamily;

/// Waiting reasons of a container whose image cannot be pulled (reference §5.2).
const PULL_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "RegistryUnavailable",
    "ErrImageInspect",
    "SignatureValidationFailed",
];

/// The family a pod is stuck in, or `None` when it is not stuck (running, succeeded, or
/// failed in a way that the owning Job's own condition reports).
pub(crate) fn pod_family(pod: &Pod, owned_by_job: bool) -> Option<IncidentFamily> {
    let status = pod.status.as_ref()?;
    let phase = status.phase.as_deref().unwrap_or("");
    if phase == "Succeeded" {
        return None;
    }
    let init = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    let app = status.container_statuses.as_deref().unwrap_or_default();
    if init
        .iter()
        .chain(app)
        .any(|c| PULL_REASONS.contains(&waiting_reason(c)))
    {
        return Some(IncidentFamily::ImagePull);
    }
    if phase == "Pending" || phase.is_empty() {
        if init_unfinished(pod, init) {
            return Some(IncidentFamily::Init);
        }
        return Some(IncidentFamily::Pending);
    }
    if phase == "Failed"
        && init
            .iter()
            .any(|c| terminated_exit(c).is_some_and(|code| code != 0))
    {
        return Some(IncidentFamily::Init);
    }
    if owned_by_job && app.iter().any(|c| waiting_reason(c) == "CrashLoopBackOff") {
        return Some(IncidentFamily::Job);
    }
    None
}

/// True when a scheduled pod still waits for an init container: one is waiting or running
/// (sidecars, `restartPolicy: Always`, count as done once started) or the `Initialized`
/// condition says so.
fn init_unfinished(pod: &Pod, init: &[ContainerStatus]) -> bool {
    let sidecars: Vec<&str> = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .map(|cs| {
            cs.iter()
                .filter(|c| c.restart_policy.as_deref() == Some("Always"))
                .map(|c| c.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    let unfinished = init.iter().any(|c| {
        let state = c.state.as_ref();
        let running = state.and_then(|s| s.running.as_ref()).is_some();
        if sidecars.contains(&c.name.as_str()) {
            return !running && !c.started.unwrap_or(false);
        }
        terminated_exit(c) != Some(0)
    });
    let condition = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.type_ == "Initialized"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("ContainersNotInitialized")
            })
        });
    unfinished || condition
}

/// The waiting reason of a container, or "".
pub(crate) fn waiting_reason(c: &ContainerStatus) -> &str {
    c.state
        .as_ref()
        .and_then(|s| s.waiting.as_ref())
        .and_then(|w| w.reason.as_deref())
        .unwrap_or("")
}

fn terminated_exit(c: &ContainerStatus) -> Option<i32> {
    c.state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| t.exit_code)
}

/// True when a Job failed (`Failed` or the earlier `FailureTarget` condition, reference
/// §4.1) or is still active past `activeDeadlineSeconds` as of `now`.
pub(crate) fn job_stuck(job: &Job, now: Option<DateTime<Utc>>) -> bool {
    let status = job.status.as_ref();
    let failed = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| (c.type_ == "Failed" || c.type_ == "FailureTarget") && c.status == "True")
        });
    if failed {
        return true;
    }
    let active = status.and_then(|s| s.active).unwrap_or(0) > 0;
    let deadline = job.spec.as_ref().and_then(|s| s.active_deadline_seconds);
    let start = status
        .and_then(|s| s.start_time.as_ref())
        .map(lastmile_events::k8s::time);
    match (active, deadline, start, now) {
        (true, Some(secs), Some(start), Some(now)) => Duration::try_seconds(secs)
            .is_some_and(|d| start.checked_add_signed(d).is_some_and(|end| now > end)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "p"}, "status": status}))
            .unwrap()
    }

    #[test]
    fn image_pull_wins_over_pending_phase() {
        let p = pod(
            serde_json::json!({"phase": "Pending", "containerStatuses": [
            {"name": "app", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"x\""}}}]}),
        );
        assert_eq!(pod_family(&p, false), Some(IncidentFamily::ImagePull));
    }

    #[test]
    fn init_container_running_keeps_pod_in_init() {
        let p = pod(
            serde_json::json!({"phase": "Pending", "initContainerStatuses": [
            {"name": "wait-db", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"running": {"startedAt": "2026-03-01T10:00:00Z"}}}]}),
        );
        assert_eq!(pod_family(&p, false), Some(IncidentFamily::Init));
    }

    #[test]
    fn unscheduled_pending_pod_is_pending() {
        let p = pod(serde_json::json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]}));
        assert_eq!(pod_family(&p, false), Some(IncidentFamily::Pending));
    }

    #[test]
    fn running_and_succeeded_pods_are_not_stuck() {
        assert_eq!(
            pod_family(&pod(serde_json::json!({"phase": "Running"})), true),
            None
        );
        assert_eq!(
            pod_family(&pod(serde_json::json!({"phase": "Succeeded"})), true),
            None
        );
    }

    #[test]
    fn job_active_past_its_deadline_is_stuck() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "j"}, "spec": {"activeDeadlineSeconds": 60, "template": {}},
            "status": {"active": 1, "startTime": "2026-03-01T10:00:00Z"}}))
        .unwrap();
        let at = |s: &str| Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        assert!(job_stuck(&job, at("2026-03-01T10:05:00Z")));
        assert!(!job_stuck(&job, at("2026-03-01T10:00:30Z")));
    }
}
