//! Pods and Jobs as they change: a pod becomes a suspect, joins its incident once its
//! condition is old enough, and leaves it when it recovers or is deleted; a Job that failed,
//! cannot create pods or ran past its deadline holds its incident open by itself.

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use lastmile_events::facts::{self, JobTerminal, StuckPod, job_terminal};
use lastmile_events::{Incident, IncidentFamily, ObjectRef};

use super::{Key, Suspect, Tracker, key, secs};
use crate::trim;

fn pod_ref(pod: &Pod) -> ObjectRef {
    ObjectRef {
        kind: "Pod".into(),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone(),
        field_path: None,
    }
}

fn job_ref(job: &Job) -> ObjectRef {
    ObjectRef {
        kind: "Job".into(),
        namespace: job.metadata.namespace.clone(),
        name: job.metadata.name.clone().unwrap_or_default(),
        uid: job.metadata.uid.clone(),
        field_path: None,
    }
}

/// Classifies a pod with the shared facts; `None` when nothing is wrong with it (yet).
/// A condition whose start the pod does not say is taken to start `now`.
fn classify(pod: &Pod, owner: Option<&ObjectRef>, now: DateTime<Utc>) -> Option<StuckPod> {
    let owned_by_job = owner.is_some_and(|o| o.kind == "Job");
    facts::stuck_pod(pod, owned_by_job).map(|s| StuckPod {
        since: Some(s.since.unwrap_or(now)),
        ..s
    })
}

/// When a suspect's condition started.
pub(super) fn since(s: &Suspect) -> DateTime<Utc> {
    s.finding.since.unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// What recovery looked like, for the resolution message.
fn recovery(pod: &Pod, was: IncidentFamily) -> String {
    let name = format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    );
    let node = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown");
    match (was, node) {
        (IncidentFamily::Pending, Some(n)) => format!("pod {name} was scheduled on node {n}"),
        (IncidentFamily::ImagePull, _) => format!("pod {name}: images pulled, phase {phase}"),
        (IncidentFamily::Init, _) => format!("pod {name}: init containers finished, phase {phase}"),
        _ => format!("pod {name} recovered, phase {phase}"),
    }
}

impl Tracker {
    /// A pod was added or changed.
    pub fn observe_pod(&mut self, pod: &Pod, now: DateTime<Utc>) -> Vec<Incident> {
        let k = key(
            pod.metadata.namespace.as_deref(),
            pod.metadata.name.as_deref(),
        );
        let owner = facts::workload_of(pod);
        match classify(pod, owner.as_ref(), now) {
            None => {
                if let Some(old) = self.suspects.remove(&k) {
                    let why = recovery(pod, old.finding.family);
                    self.leave(&old, &k.1, why, now);
                }
            }
            Some(finding) => {
                let held = match serde_json::value::to_raw_value(&trim::pod(pod)) {
                    Ok(held) => held,
                    Err(e) => {
                        tracing::warn!(pod = %k.1, error = %e, "Could not keep a suspect pod.");
                        return self.flush(now);
                    }
                };
                let previous = self.suspects.remove(&k);
                let mut incident = None;
                if let Some(old) = previous {
                    if old.finding.family == finding.family {
                        incident = old.incident;
                    } else {
                        let why = format!(
                            "pod {}/{} moved on to a {} problem",
                            k.0, k.1, finding.family
                        );
                        self.leave(&old, &k.1, why, now);
                    }
                } else if self.suspects.len() >= self.cfg.max_suspects {
                    self.ignored_suspects += 1;
                    return self.flush(now);
                }
                let suspect = Suspect {
                    pod: held,
                    subject: pod_ref(pod),
                    owner,
                    finding,
                    incident,
                };
                self.suspects.insert(k.clone(), suspect);
                self.promote(&k, now);
            }
        }
        self.flush(now)
    }

    /// A pod was deleted.
    pub fn forget_pod(&mut self, namespace: &str, name: &str, now: DateTime<Utc>) -> Vec<Incident> {
        let k = key(Some(namespace), Some(name));
        if let Some(old) = self.suspects.remove(&k) {
            self.leave(
                &old,
                name,
                format!("pod {namespace}/{name} was deleted"),
                now,
            );
        }
        self.flush(now)
    }

    /// A Job was added or changed.
    pub fn observe_job(&mut self, job: &Job, now: DateTime<Utc>) -> Vec<Incident> {
        let k = key(
            job.metadata.namespace.as_deref(),
            job.metadata.name.as_deref(),
        );
        let jref = job_ref(job);
        let trimmed = trim::job(job);
        match job_terminal(job) {
            Some(JobTerminal::Complete { .. }) => {
                self.jobs.remove(&k);
                let msg = format!("Job {}/{} completed", k.0, k.1);
                self.resolve_owned(&jref, &msg, now);
            }
            Some(JobTerminal::Failed { reason }) => {
                self.jobs.insert(k.clone(), trimmed);
                self.owner_trigger(IncidentFamily::Job, &jref, reason, now);
            }
            None => {
                let active = job.status.as_ref().and_then(|s| s.active).unwrap_or(0);
                self.jobs.insert(k.clone(), trimmed);
                if active > 0 {
                    // Pods exist: an earlier FailedCreate no longer blocks the Job.
                    self.clear_owner_trigger(
                        IncidentFamily::Pending,
                        &jref,
                        "pods were created",
                        now,
                    );
                }
                let patience = Some(secs(self.cfg.job_stuck_after));
                if let Some(overdue) = facts::job_overdue(job, now, patience) {
                    self.owner_trigger(IncidentFamily::Job, &jref, overdue.as_str().into(), now);
                }
            }
        }
        self.flush(now)
    }

    /// A Job was deleted.
    pub fn forget_job(&mut self, namespace: &str, name: &str, now: DateTime<Utc>) -> Vec<Incident> {
        self.jobs.remove(&key(Some(namespace), Some(name)));
        let jref = ObjectRef {
            kind: "Job".into(),
            namespace: Some(namespace.into()),
            name: name.into(),
            ..Default::default()
        };
        self.resolve_owned(&jref, &format!("Job {namespace}/{name} was deleted"), now);
        self.flush(now)
    }

    /// Promotes suspects that have aged past their threshold, re-evaluates Job deadlines,
    /// and publishes throttled updates. Call every few seconds.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<Incident> {
        let waiting: Vec<Key> = self
            .suspects
            .iter()
            .filter(|(_, s)| s.incident.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for k in waiting {
            self.promote(&k, now);
        }
        let jobs: Vec<Job> = self
            .jobs
            .values()
            .filter(|j| job_terminal(j).is_none())
            .cloned()
            .collect();
        let mut out = Vec::new();
        for j in jobs {
            out.extend(self.observe_job(&j, now));
        }
        self.tick_rollouts(now);
        out.extend(self.flush(now));
        out
    }
}
