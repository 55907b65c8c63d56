//! Jobs, from their conditions, spec and events (reference §4).

use std::sync::LazyLock;

use chrono::Duration;
use k8s_openapi::api::batch::v1::{Job, JobCondition};
use lastmile_events::k8s::time;
use lastmile_events::{Class, Diagnosis, Incident, KubeEvent, Subject};
use regex::Regex;

use crate::{diagnosis, remedy, structured};

/// Job subject: the Job itself when known, else the incident's owner Job, else its subject.
pub(crate) fn job_subject(incident: &Incident, job: Option<&Job>) -> Subject {
    if let Some(name) = job.and_then(|j| j.metadata.name.clone()) {
        return Subject {
            kind: "Job".into(),
            namespace: job.and_then(|j| j.metadata.namespace.clone()),
            name,
            container: None,
        };
    }
    let who = incident
        .owner
        .as_ref()
        .filter(|o| o.kind == "Job")
        .unwrap_or(&incident.subject);
    Subject::of(who, None)
}

/// The terminal (or about-to-be terminal) failure condition.
fn failure(job: &Job) -> Option<&JobCondition> {
    let conds = job.status.as_ref()?.conditions.as_ref()?;
    conds
        .iter()
        .find(|c| c.type_ == "Failed" && c.status == "True")
        .or_else(|| {
            conds
                .iter()
                .find(|c| c.type_ == "FailureTarget" && c.status == "True")
        })
}

/// When the controller decided the Job failed: the earliest `FailureTarget`/`Failed`
/// transition (the terminal condition waits for pods to terminate).
fn failed_at(job: Option<&Job>) -> Option<chrono::DateTime<chrono::Utc>> {
    job?.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .filter(|c| (c.type_ == "Failed" || c.type_ == "FailureTarget") && c.status == "True")
        .filter_map(|c| c.last_transition_time.as_ref().map(time))
        .min()
}

/// Diagnoses the incident's Job (or its terminal events when the Job object is gone).
pub(crate) fn diagnose(incident: &Incident) -> Vec<Diagnosis> {
    let job = incident.job.as_deref();
    let subject = job_subject(incident, job);
    let cond_reason = job.and_then(failure).and_then(|c| c.reason.clone());
    let event_reason = [
        "DeadlineExceeded",
        "BackoffLimitExceeded",
        "PodFailurePolicy",
        "MaxFailedIndexesExceeded",
        "FailedIndexes",
    ]
    .into_iter()
    .find(|r| {
        incident
            .events
            .iter()
            .any(|e| e.reason == *r && e.regarding.kind == "Job")
    })
    .map(str::to_owned);
    let pod_deadline = incident
        .pod
        .as_ref()
        .and_then(|p| p.status.as_ref())
        .and_then(|s| s.reason.as_deref())
        == Some("DeadlineExceeded");
    let reason = cond_reason
        .clone()
        .or(event_reason)
        .or_else(|| pod_deadline.then(|| "DeadlineExceeded".to_owned()));
    let from_condition = cond_reason.is_some();
    match reason.as_deref() {
        Some("DeadlineExceeded") => vec![deadline(
            incident,
            job,
            subject,
            from_condition,
            pod_deadline,
        )],
        Some(
            r @ ("BackoffLimitExceeded"
            | "PodFailurePolicy"
            | "MaxFailedIndexesExceeded"
            | "FailedIndexes"),
        ) => {
            vec![backoff(incident, job, subject, r, from_condition)]
        }
        _ => job
            .map(|j| still_active(incident, j, subject))
            .unwrap_or_default(),
    }
}

fn condition_or_event_message(
    incident: &Incident,
    job: Option<&Job>,
    reason: &str,
) -> Option<String> {
    job.and_then(failure)
        .and_then(|c| c.message.clone())
        .or_else(|| {
            incident
                .events
                .iter()
                .find(|e| e.reason == reason)
                .map(|e| e.clean_message().to_owned())
        })
}

fn deadline(
    incident: &Incident,
    job: Option<&Job>,
    subject: Subject,
    from_condition: bool,
    pod_level: bool,
) -> Diagnosis {
    let mut evidence = Vec::new();
    if let Some(msg) = condition_or_event_message(incident, job, "DeadlineExceeded") {
        let source = if from_condition {
            "condition Failed"
        } else {
            "event"
        };
        evidence.push(format!("{source} DeadlineExceeded: \"{msg}\""));
    }
    if pod_level {
        evidence.push("pod status.reason DeadlineExceeded: the pod template's activeDeadlineSeconds ended the pod".into());
    }
    let spec_deadline = job
        .and_then(|j| j.spec.as_ref())
        .and_then(|s| s.active_deadline_seconds);
    if let Some(secs) = spec_deadline {
        evidence.push(format!(
            "spec.activeDeadlineSeconds: {secs} ({})",
            human(secs)
        ));
    }
    let status = job.and_then(|j| j.status.as_ref());
    if let (Some(start), Some(end)) = (
        status.and_then(|s| s.start_time.as_ref()).map(time),
        failed_at(job),
    ) {
        evidence.push(format!(
            "status.startTime {} → failed at {} ({} s active)",
            start.to_rfc3339(),
            end.to_rfc3339(),
            (end - start).num_seconds()
        ));
    }
    // Time spent Pending counts against the deadline: name the real blocker when seen.
    let blockers: Vec<String> = incident
        .events
        .iter()
        .filter(|e| {
            e.ty == "Warning"
                && matches!(
                    e.reason.as_str(),
                    "FailedScheduling" | "FailedCreate" | "Failed" | "BackOff" | "FailedMount"
                )
        })
        .map(|e| format!("{} ×{}: {}", e.reason, e.count, e.clean_message()))
        .take(2)
        .collect();
    let mut summary = match spec_deadline {
        Some(secs) => format!(
            "Job `{}` ran past its activeDeadlineSeconds ({}) and was stopped; no retry will run.",
            subject.name,
            human(secs)
        ),
        None => format!(
            "Job `{}` ran past its active deadline and was stopped; no retry will run.",
            subject.name
        ),
    };
    if !blockers.is_empty() {
        summary
            .push_str(" Its pods were failing to start meanwhile (see evidence): fix that first.");
        evidence.extend(blockers.iter().map(|b| format!("while active: {b}")));
    }
    let remediation = vec![
        remedy::inspect_job(&subject),
        remedy::job_logs(&subject),
        remedy::recreate_job(
            &subject,
            "Raise `spec.activeDeadlineSeconds` to cover the real run time (or make the work faster)",
        ),
    ];
    let confidence = if from_condition { 0.95 } else { 0.88 };
    let mut d = diagnosis(
        Class::JobDeadlineExceeded,
        confidence,
        summary,
        subject,
        evidence,
        remediation,
        true,
    );
    if let Some(job) = job {
        structured::ttl_after_finished(&mut d, job);
    }
    d
}

/// Parses the Job controller's pod-failure-policy message (container, pod, exit code, action, rule).
pub(crate) static POLICY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Container (\S+) for pod (\S+)/(\S+) failed with exit code (\d+) matching (\w+) rule at index (\d+)").expect("pod-failure-policy message regex")
});

fn backoff(
    incident: &Incident,
    job: Option<&Job>,
    subject: Subject,
    reason: &str,
    from_condition: bool,
) -> Diagnosis {
    let mut evidence = Vec::new();
    let message = condition_or_event_message(incident, job, reason);
    if let Some(msg) = &message {
        let source = if from_condition {
            "condition Failed"
        } else {
            "event"
        };
        evidence.push(format!("{source} {reason}: \"{msg}\""));
    }
    let spec = job.and_then(|j| j.spec.as_ref());
    let limit = spec.and_then(|s| s.backoff_limit);
    let failed = job.and_then(|j| j.status.as_ref()).and_then(|s| s.failed);
    if let Some(f) = failed {
        evidence.push(format!("status.failed: {f}"));
    }
    match limit {
        Some(0) => {
            evidence.push("spec.backoffLimit: 0 — the first failed pod fails the Job".into())
        }
        Some(l) => evidence.push(format!("spec.backoffLimit: {l}")),
        None if job.is_some() => evidence.push("spec.backoffLimit not set (default 6)".into()),
        None => {}
    }
    let policy = message.as_deref().and_then(|m| POLICY.captures(m));
    let exit = policy
        .as_ref()
        .and_then(|c| c.get(4))
        .map(|m| m.as_str().to_owned())
        .or_else(|| pod_exit_code(incident).map(|c| c.to_string()));
    if let Some(code) = &exit {
        evidence.push(format!("pod container exit code: {code}"));
    }
    let summary = match (reason, exit.as_deref()) {
        ("PodFailurePolicy", Some(code)) => format!(
            "Job `{}` failed: a pod exited with code {code}, which its podFailurePolicy marks as fatal (FailJob).",
            subject.name
        ),
        ("PodFailurePolicy", None) => format!(
            "Job `{}` failed: a pod failure matched a FailJob rule of its podFailurePolicy.",
            subject.name
        ),
        ("MaxFailedIndexesExceeded" | "FailedIndexes", _) => format!(
            "Indexed Job `{}` failed: indexes exhausted their per-index backoff limit.",
            subject.name
        ),
        (_, Some(code)) => format!(
            "Job `{}` failed: its pods kept failing (exit code {code}) until backoffLimit was used up.",
            subject.name
        ),
        _ => format!(
            "Job `{}` failed: its pods kept failing until backoffLimit was used up.",
            subject.name
        ),
    };
    let remediation = vec![
        remedy::job_logs(&subject),
        remedy::inspect_job(&subject),
        remedy::recreate_job(
            &subject,
            "Fix the failing command (or raise `spec.backoffLimit` for flaky work)",
        ),
    ];
    let confidence = if from_condition { 0.95 } else { 0.88 };
    diagnosis(
        Class::JobBackoffLimit,
        confidence,
        summary,
        subject,
        evidence,
        remediation,
        true,
    )
}

fn pod_exit_code(incident: &Incident) -> Option<i32> {
    let status = incident.pod.as_deref()?.status.as_ref()?;
    status.container_statuses.iter().flatten().find_map(|c| {
        let state = c.state.as_ref();
        state
            .and_then(|s| s.terminated.as_ref())
            .or_else(|| c.last_state.as_ref().and_then(|s| s.terminated.as_ref()))
            .map(|t| t.exit_code)
            .filter(|code| *code != 0)
    })
}

/// What a suspended Job means and where to look, shared with the text rule that reads a
/// job shown or told to be suspended.
pub(crate) const SUSPENDED: &str = "the Job controller creates no pods for it, so it neither runs nor fails. A queueing controller such as Kueue creates Jobs suspended and resumes them only when it admits their workload: check the Job's `kueue.x-k8s.io/queue-name` label, its Workload and the ClusterQueue (`kubectl get workloads -n <namespace>`), or resume it by hand.";

/// A Job left suspended (`spec.suspend: true`, no pod): it waits for whatever suspended it.
fn suspended(incident: &Incident, job: &Job, subject: Subject) -> Diagnosis {
    let mut evidence = vec!["spec.suspend: true".to_owned()];
    let since = lastmile_events::facts::suspended_since(job);
    if let Some(since) = since {
        evidence.push(if incident.last_seen > since {
            format!(
                "suspended since {} ({} as of {})",
                since.to_rfc3339(),
                human((incident.last_seen - since).num_seconds()),
                incident.last_seen.to_rfc3339()
            )
        } else {
            format!(
                "suspended since {} (the input holds nothing newer, so not for how long: its events, `kubectl get events -n {}`, would tell)",
                since.to_rfc3339(),
                subject.namespace.as_deref().unwrap_or("<namespace>")
            )
        });
    }
    let mut remediation = vec![remedy::inspect_job(&subject), remedy::resume_job(&subject)];
    let mut summary = format!(
        "Job `{}` is suspended (`spec.suspend: true`): {SUSPENDED}",
        subject.name
    );
    if let Some(ev) = queue_verdict(incident, &subject.name) {
        let workload = &ev.regarding.name;
        let said = ev.clean_message();
        evidence.push(format!(
            "Workload {workload}: {} {} (x{}): {said}",
            ev.ty, ev.reason, ev.count
        ));
        summary = format!(
            "Job `{}` is suspended (`spec.suspend: true`) and Kueue has not admitted its Workload `{workload}`: \"{said}\". The Job controller creates no pods for it until Kueue does: free or raise the quota of its ClusterQueue, or fix the queue the message names.",
            subject.name
        );
        remediation.insert(0, remedy::inspect_workload(&subject, workload));
    }
    // The Job's own spec says why nothing runs: with conviction, so a lead read from the
    // words of its requests (cpu, memory) does not contest it.
    diagnosis(
        Class::JobStuckActive,
        0.85,
        summary,
        subject,
        evidence,
        remediation,
        true,
    )
}

/// The newest Warning a queueing controller gave the Job's Kueue Workload (intake and the
/// watcher attach a Workload's events to the Job it stands for): why it is not admitted.
fn queue_verdict<'a>(incident: &'a Incident, job: &str) -> Option<&'a KubeEvent> {
    incident
        .events
        .iter()
        .filter(|e| {
            e.ty == "Warning"
                && e.regarding.kind == "Workload"
                && lastmile_events::facts::kueue_workload_job(&e.regarding.name) == Some(job)
        })
        .max_by_key(|e| e.last_time)
}

/// An active Job with no terminal condition: suspended, past its deadline, or running far
/// too long.
fn still_active(incident: &Incident, job: &Job, subject: Subject) -> Vec<Diagnosis> {
    if lastmile_events::facts::is_suspended(job) {
        return vec![suspended(incident, job, subject)];
    }
    let status = job.status.as_ref();
    let active = status.and_then(|s| s.active).unwrap_or(0);
    let Some(start) = status.and_then(|s| s.start_time.as_ref()).map(time) else {
        return Vec::new();
    };
    let now = incident.last_seen;
    if active == 0 || now <= start {
        return Vec::new();
    }
    let elapsed = now - start;
    let deadline = job.spec.as_ref().and_then(|s| s.active_deadline_seconds);
    let mut evidence = vec![
        format!(
            "status.active: {active}, status.startTime: {}",
            start.to_rfc3339()
        ),
        format!(
            "active for {} s as of {}",
            elapsed.num_seconds(),
            now.to_rfc3339()
        ),
    ];
    if let Some(secs) = deadline
        && elapsed > Duration::seconds(secs)
    {
        evidence.push(format!(
            "spec.activeDeadlineSeconds: {secs} ({}) has passed",
            human(secs)
        ));
        let summary = format!(
            "Job `{}` is still active past its activeDeadlineSeconds ({}); the controller will stop it as DeadlineExceeded.",
            subject.name,
            human(secs)
        );
        let remediation = vec![
            remedy::inspect_job(&subject),
            remedy::job_logs(&subject),
            remedy::recreate_job(&subject, "Raise `spec.activeDeadlineSeconds`"),
        ];
        let mut d = diagnosis(
            Class::JobDeadlineExceeded,
            0.8,
            summary,
            subject,
            evidence,
            remediation,
            true,
        );
        structured::raise_deadline(&mut d, job, secs, elapsed.num_seconds());
        return vec![d];
    }
    let succeeded = status.and_then(|s| s.succeeded).unwrap_or(0);
    if deadline.is_none() && elapsed > Duration::hours(1) && succeeded == 0 {
        evidence.push("no activeDeadlineSeconds: nothing will ever stop it".into());
        let summary = format!(
            "Job `{}` has been active for {} with no pod succeeding and no deadline to stop it.",
            subject.name,
            human(elapsed.num_seconds())
        );
        let remediation = vec![remedy::job_logs(&subject), remedy::inspect_job(&subject)];
        let mut d = diagnosis(
            Class::JobStuckActive,
            0.55,
            summary,
            subject,
            evidence,
            remediation,
            false,
        );
        structured::suspend(&mut d, job);
        return vec![d];
    }
    Vec::new()
}

/// `330` → `5m30s`.
pub(crate) fn human(secs: i64) -> String {
    match (secs / 3600, (secs % 3600) / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}
