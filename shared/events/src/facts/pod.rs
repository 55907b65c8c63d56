//! Stuck pods: which family a pod is stuck in, and since when (reference §5.2, §7).

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};

use crate::incident::IncidentFamily;
use crate::k8s::time;

/// The kubelet's waiting reasons of a container whose image cannot be pulled or used
/// (reference §5.2, `pkg/kubelet/images/types.go`). `ImageInspectError` is the reason the
/// API stores; `ErrImageInspect` is only the Go identifier behind it.
pub const IMAGE_PULL_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "ImageInspectError",
    "RegistryUnavailable",
    "SignatureValidationFailed",
];

/// True when `reason` is one of [`IMAGE_PULL_REASONS`] (case as the API writes it).
pub fn is_image_pull_reason(reason: &str) -> bool {
    IMAGE_PULL_REASONS.contains(&reason)
}

/// Why a pod is stuck: the family, since when the condition holds, and whether it becomes
/// an incident only after a grace period (an unscheduled pod may schedule in a second; an
/// init container may legitimately run a while) or at once (the kubelet already gave up
/// and backs off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StuckPod {
    /// The failure family.
    pub family: IncidentFamily,
    /// Since when the condition holds, when the pod says (creation, or the start of the
    /// init container that never finishes).
    pub since: Option<DateTime<Utc>>,
    /// True when the condition needs to last (see the type's docs).
    pub needs_age: bool,
}

/// The waiting reason of a container, or `""`.
pub fn waiting_reason(c: &ContainerStatus) -> &str {
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

/// True for a native sidecar: an init container with `restartPolicy: Always` (v1.28+). It
/// keeps running for the pod's life, so running is its finished state.
pub fn is_native_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// True when the pod is bound to a node (`spec.nodeName` or `PodScheduled=True`).
pub fn is_scheduled(pod: &Pod) -> bool {
    pod.spec.as_ref().is_some_and(|s| s.node_name.is_some())
        || pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "PodScheduled" && c.status == "True")
            })
}

/// A pod's init containers as its spec lists them and as its status reports them (either
/// empty when absent).
pub fn init_containers(pod: &Pod) -> (&[Container], &[ContainerStatus]) {
    let specs = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    (specs, statuses)
}

/// The statuses of the init containers that have not finished: each regular init container
/// not terminated with exit code 0, and each native sidecar neither running nor started.
fn unfinished_init(pod: &Pod) -> Vec<&ContainerStatus> {
    let (specs, statuses) = init_containers(pod);
    statuses
        .iter()
        .filter(|c| {
            let sidecar = specs
                .iter()
                .find(|s| s.name == c.name)
                .is_some_and(is_native_sidecar);
            if sidecar {
                let running = c.state.as_ref().and_then(|s| s.running.as_ref()).is_some();
                !running && !c.started.unwrap_or(false)
            } else {
                terminated_exit(c) != Some(0)
            }
        })
        .collect()
}

/// True when the `Initialized` condition says init containers have not completed.
fn not_initialized(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.type_ == "Initialized"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("ContainersNotInitialized")
            })
        })
}

/// The family a pod is stuck in, or `None` when it is not (running, succeeded, being
/// deleted, or failed in a way the owning Job's own condition reports).
///
/// In order: any container waiting with an image-pull reason → ImagePull (at once); a pod
/// that failed because an init container failed → Init (at once); a Pending pod whose
/// regular init containers have not all finished (native sidecars excluded) → Init (at once
/// when one crash-loops, else after a grace period since it started); an unscheduled
/// Pending pod → Pending (after a grace period); a Job's pod whose app container
/// crash-loops → Job (at once); any other pod whose main containers cannot run → Runtime
/// (see [`RUNTIME_WAITING_REASONS`]; at once, or after a grace period for containers that
/// stay creating or never turn Ready).
pub fn stuck_pod(pod: &Pod, owned_by_job: bool) -> Option<StuckPod> {
    if pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    if phase == "Succeeded" {
        return None;
    }
    let created = pod.metadata.creation_timestamp.as_ref().map(time);
    let now = |family| {
        Some(StuckPod {
            family,
            since: created,
            needs_age: false,
        })
    };
    let init = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let app = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    if init
        .iter()
        .chain(app)
        .any(|c| is_image_pull_reason(waiting_reason(c)))
    {
        return now(IncidentFamily::ImagePull);
    }
    if phase == "Failed" {
        let init_failed = init
            .iter()
            .any(|c| terminated_exit(c).is_some_and(|code| code != 0));
        return if init_failed {
            now(IncidentFamily::Init)
        } else {
            None
        };
    }
    if phase == "Pending" || phase.is_empty() {
        let unfinished = unfinished_init(pod);
        if !unfinished.is_empty() || not_initialized(pod) {
            if unfinished
                .iter()
                .any(|c| waiting_reason(c) == "CrashLoopBackOff")
            {
                return now(IncidentFamily::Init);
            }
            let started = unfinished
                .iter()
                .filter_map(|c| c.state.as_ref()?.running.as_ref()?.started_at.as_ref())
                .map(time)
                .min();
            return Some(StuckPod {
                family: IncidentFamily::Init,
                since: started.or(created),
                needs_age: true,
            });
        }
        if !is_scheduled(pod) {
            return Some(StuckPod {
                family: IncidentFamily::Pending,
                since: created,
                needs_age: true,
            });
        }
    }
    if owned_by_job && app.iter().any(|c| waiting_reason(c) == "CrashLoopBackOff") {
        return now(IncidentFamily::Job);
    }
    if owned_by_job {
        return None;
    }
    runtime_stuck(app, phase, created)
}

/// The kubelet's waiting reasons of a main container that was scheduled and pulled but
/// cannot run: it keeps exiting, or cannot even be created or started. Each is a Runtime
/// incident at once (the kubelet already retried).
pub const RUNTIME_WAITING_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "PreStartHookError",
];

/// True when the container's current or last run ended `OOMKilled`.
pub fn oom_killed(c: &ContainerStatus) -> bool {
    let ended = |s: Option<&k8s_openapi::api::core::v1::ContainerState>| {
        s.and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.reason.as_deref())
            == Some("OOMKilled")
    };
    ended(c.state.as_ref()) || ended(c.last_state.as_ref())
}

/// The Runtime rules, for pods outside Jobs (a Job's own conditions report its pods): a main
/// container waiting with a [`RUNTIME_WAITING_REASONS`] reason, or restarted after an OOM
/// kill → at once; a scheduled pod whose containers stay `ContainerCreating` (volumes that
/// do not mount) or a running container that never turns Ready (failing probes) → after a
/// grace period since the pod was created or the container started.
fn runtime_stuck(
    app: &[ContainerStatus],
    phase: &str,
    created: Option<DateTime<Utc>>,
) -> Option<StuckPod> {
    let at_once = app.iter().any(|c| {
        RUNTIME_WAITING_REASONS.contains(&waiting_reason(c))
            || (c.restart_count > 0 && oom_killed(c))
    });
    if at_once {
        return Some(StuckPod {
            family: IncidentFamily::Runtime,
            since: created,
            needs_age: false,
        });
    }
    if app.iter().any(|c| waiting_reason(c) == "ContainerCreating") {
        return Some(StuckPod {
            family: IncidentFamily::Runtime,
            since: created,
            needs_age: true,
        });
    }
    if phase != "Running" {
        return None;
    }
    let not_ready_since = app
        .iter()
        .filter(|c| !c.ready)
        .filter_map(|c| c.state.as_ref()?.running.as_ref())
        .map(|r| r.started_at.as_ref().map(time).or(created))
        .min()?;
    Some(StuckPod {
        family: IncidentFamily::Runtime,
        since: not_ready_since.or(created),
        needs_age: true,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
