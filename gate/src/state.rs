//! The gate's state and verdicts: what each message means for the target.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lastmile_events::facts::{JobTerminal, ci_run_of, job_terminal, workload_key};
use lastmile_events::rollout::Rollout;
use lastmile_events::{
    CiEvent, CiEventKind, CloudEvent, Diagnosis, Incident, IncidentStatus, K8sObservation,
};
use lastmile_runtime::bus::Message;

use crate::{EXIT_FAILED, EXIT_READY, EXIT_TIMEOUT, Target};

/// How one workload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Standing {
    Waiting,
    Ready(String),
    Failed(String),
}

/// The gate's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Ready; the string says what showed it.
    Ready(String),
    /// Will not become ready: the diagnosis that says why, or the failure seen.
    Failed {
        /// The diagnosis that leads when a definitive one arrived: the most confident
        /// definitive finding, or a lead that contests it (`lastmile_events::ranking`).
        diagnosis: Option<Box<Diagnosis>>,
        /// What failed, in words.
        reason: String,
    },
    /// The timeout passed; the best (non-definitive) diagnoses so far.
    TimedOut {
        /// Diagnoses seen, most confident first.
        diagnoses: Vec<Diagnosis>,
    },
}

impl Verdict {
    /// The documented exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Ready(_) => EXIT_READY,
            Self::Failed { .. } => EXIT_FAILED,
            Self::TimedOut { .. } => EXIT_TIMEOUT,
        }
    }
}

/// Settings of one gate run.
#[derive(Debug, Clone)]
pub struct GateConfig {
    /// What to wait for.
    pub target: Target,
    /// Give up after this long.
    pub timeout: Duration,
    /// After a Job failed, wait this long for a diagnosis before failing without one.
    pub grace: Duration,
    /// For non-Job workloads: ready when no incident is open for this long (off when None).
    pub settle: Option<Duration>,
    /// Print a progress line this often.
    pub progress_every: Duration,
    /// The CI step's own trace context (`TRACEPARENT`), which the gate's span continues;
    /// without it, the run's as its messages carry it (see `trace`).
    pub traceparent: Option<String>,
}

/// How long a definitive finding without conviction (at most
/// [`lastmile_events::ranking::CONTESTABLE`]) waits for the `wording` lead of its incident
/// before the gate fails with it: the functions answer concurrently, and a lead that names
/// another class goes first (`lastmile_events::ranking`), as `explain` would show it. The
/// wording function's deadline is 2 s; a convinced finding fails the gate at once.
pub const CONTEST_WINDOW: chrono::Duration = chrono::Duration::seconds(3);

/// Diagnoses kept while no incident they name has arrived yet.
const UNMATCHED_KEPT: usize = 1024;

/// How long a rollout observation published before the gate started must stand before it
/// counts as complete. The gate reads `lookback` into the past, so the first observation it
/// reads may be the previous generation's "complete", published before the `kubectl apply`
/// the gate follows; the new generation's "waiting" is normally right behind it.
const CATCH_UP: chrono::Duration = chrono::Duration::seconds(2);

/// The newest rollout observation of a Deployment, StatefulSet or DaemonSet.
#[derive(Debug, Clone)]
struct RolloutSeen {
    /// `metadata.generation` of the object observed.
    generation: i64,
    /// Its rollout decision.
    rollout: Rollout,
    /// When the watcher published it.
    published: DateTime<Utc>,
}

/// The gate's state. Feed it messages with [`Gate::observe`]; ask [`Gate::verdict`].
#[derive(Debug)]
pub struct Gate {
    cfg: GateConfig,
    started: DateTime<Utc>,
    incidents: BTreeMap<String, Incident>,
    diagnoses: BTreeMap<String, Diagnosis>,
    /// Diagnoses that matched nothing yet, newest last (at most [`UNMATCHED_KEPT`]): the
    /// gate reads diagnoses and incidents through separate consumers, so when it starts
    /// after both were published, a diagnosis may arrive before the incident that makes it
    /// about the target.
    unmatched: VecDeque<Diagnosis>,
    workloads: BTreeMap<String, Standing>,
    /// The newest rollout observation per workload key (Deployments, StatefulSets,
    /// DaemonSets): what decides their readiness once one arrived.
    rollouts: BTreeMap<String, RolloutSeen>,
    job_failed_at: Option<DateTime<Utc>>,
    /// When the first definitive diagnosis arrived (see [`CONTEST_WINDOW`]).
    definitive_at: Option<DateTime<Utc>>,
    quiet_since: DateTime<Utc>,
    /// The run's trace context, from the first message about the target that carries it.
    traceparent: Option<String>,
}

impl Gate {
    /// A gate that started at `now`.
    pub fn new(cfg: GateConfig, now: DateTime<Utc>) -> Self {
        let mut workloads = BTreeMap::new();
        if let Target::Workload {
            kind,
            namespace,
            name,
        } = &cfg.target
        {
            workloads.insert(workload_key(kind, namespace, name), Standing::Waiting);
        }
        Self {
            cfg,
            started: now,
            incidents: BTreeMap::new(),
            diagnoses: BTreeMap::new(),
            unmatched: VecDeque::new(),
            workloads,
            rollouts: BTreeMap::new(),
            job_failed_at: None,
            definitive_at: None,
            quiet_since: now,
            traceparent: None,
        }
    }

    /// The run's trace context, once a message about the target carried it.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    fn incident_matches(&self, inc: &Incident) -> bool {
        let t = &self.cfg.target;
        inc.ci.as_ref().is_some_and(|r| t.run_matches(r))
            || [Some(&inc.subject), inc.owner.as_ref()]
                .into_iter()
                .flatten()
                .any(|o| {
                    t.is(&o.kind, o.namespace.as_deref(), &o.name)
                        || self.workloads.contains_key(&workload_key(
                            &o.kind,
                            o.namespace.as_deref().unwrap_or(""),
                            &o.name,
                        ))
                })
    }

    fn diagnosis_matches(&self, d: &Diagnosis) -> bool {
        let t = &self.cfg.target;
        d.ci.as_ref().is_some_and(|r| t.run_matches(r))
            || d.incident
                .as_ref()
                .is_some_and(|k| self.incidents.contains_key(k))
            || t.is(
                &d.subject.kind,
                d.subject.namespace.as_deref(),
                &d.subject.name,
            )
            || self.incidents.values().any(|i| {
                i.subject.kind.eq_ignore_ascii_case(&d.subject.kind)
                    && i.subject.name == d.subject.name
                    && i.subject.namespace == d.subject.namespace
            })
    }

    /// Takes one message into account. Unknown or malformed messages are ignored.
    pub fn observe(&mut self, msg: &Message, now: DateTime<Utc>) {
        let s = msg.subject.as_str();
        if s.starts_with("lastmile.diagnosis.") {
            if let Ok(ce) = CloudEvent::<Diagnosis>::from_slice(&msg.payload) {
                if self.diagnosis_matches(&ce.data) {
                    self.keep_diagnosis(ce.data, now);
                } else {
                    if self.unmatched.len() >= UNMATCHED_KEPT {
                        self.unmatched.pop_front();
                    }
                    self.unmatched.push_back(ce.data);
                }
            }
        } else if s.starts_with("lastmile.incident.") {
            if let Ok(ce) = CloudEvent::<Incident>::from_slice(&msg.payload)
                && self.incident_matches(&ce.data)
            {
                let inc = ce.data;
                if self.traceparent.is_none() {
                    self.traceparent = inc.ci.as_ref().and_then(|c| c.traceparent.clone());
                }
                self.track_incident_workload(&inc);
                if inc.status == IncidentStatus::Open {
                    self.quiet_since = now;
                }
                self.incidents.insert(inc.key.clone(), inc);
                // Diagnoses read before this incident may be about it.
                let (now_matching, still): (Vec<Diagnosis>, Vec<Diagnosis>) =
                    std::mem::take(&mut self.unmatched)
                        .into_iter()
                        .partition(|d| self.diagnosis_matches(d));
                self.unmatched = still.into();
                for d in now_matching {
                    self.keep_diagnosis(d, now);
                }
            }
        } else if s.starts_with("lastmile.k8s.") {
            if let Ok(ce) = CloudEvent::<K8sObservation>::from_slice(&msg.payload) {
                if let K8sObservation::Job(job) = &ce.data {
                    self.observe_job(job, now);
                } else {
                    self.observe_rollout(&ce.data, ce.time);
                }
            }
        } else if s.starts_with("lastmile.ci.")
            && let Ok(ce) = CloudEvent::<CiEvent>::from_slice(&msg.payload)
            && ce.data.kind == CiEventKind::DeployRequested
            && self.cfg.target.run_matches(&ce.data.run)
        {
            if self.traceparent.is_none() {
                self.traceparent = ce.traceparent.clone().or(ce.data.run.traceparent.clone());
            }
            for w in &ce.data.workloads {
                self.workloads
                    .entry(workload_key(&w.kind, &w.namespace, &w.name))
                    .or_insert(Standing::Waiting);
            }
        }
    }

    fn keep_diagnosis(&mut self, d: Diagnosis, now: DateTime<Utc>) {
        if d.definitive {
            self.definitive_at.get_or_insert(now);
        }
        if self.traceparent.is_none() {
            self.traceparent = d.ci.as_ref().and_then(|c| c.traceparent.clone());
        }
        let key =
            d.id.clone()
                .unwrap_or_else(|| format!("{}/{}", d.incident.as_deref().unwrap_or(""), d.class));
        self.diagnoses.insert(key, d);
    }

    fn track_incident_workload(&mut self, inc: &Incident) {
        if !matches!(self.cfg.target, Target::CiRun { .. }) {
            return;
        }
        let o = inc.owner.as_ref().unwrap_or(&inc.subject);
        self.workloads
            .entry(workload_key(
                &o.kind,
                o.namespace.as_deref().unwrap_or(""),
                &o.name,
            ))
            .or_insert(Standing::Waiting);
    }

    fn observe_job(&mut self, job: &k8s_openapi::api::batch::v1::Job, now: DateTime<Utc>) {
        let ns = job.metadata.namespace.as_deref().unwrap_or("");
        let name = job.metadata.name.as_deref().unwrap_or("");
        let key = workload_key("job", ns, name);
        let ours = self.workloads.contains_key(&key)
            || ci_run_of(&job.metadata).is_some_and(|r| self.cfg.target.run_matches(&r));
        if !ours {
            return;
        }
        let standing = match job_terminal(job) {
            Some(JobTerminal::Complete { .. }) => {
                Standing::Ready(format!("Job {ns}/{name} completed"))
            }
            Some(JobTerminal::Failed { reason }) => {
                self.job_failed_at.get_or_insert(now);
                Standing::Failed(format!("Job {ns}/{name} failed: {reason}"))
            }
            None => return,
        };
        self.workloads.insert(key, standing);
    }

    /// A Deployment, StatefulSet or DaemonSet observation: its rollout decision replaces the
    /// one held unless it is about an older generation (a late redelivery).
    fn observe_rollout(&mut self, obs: &K8sObservation, published: DateTime<Utc>) {
        let kind = obs.kind();
        let Some((meta, rollout)) = obs.rollout() else {
            return;
        };
        let ns = meta.namespace.as_deref().unwrap_or("");
        let name = meta.name.as_deref().unwrap_or("");
        let key = workload_key(kind, ns, name);
        let ours = self.workloads.contains_key(&key)
            || ci_run_of(meta).is_some_and(|r| self.cfg.target.run_matches(&r));
        if !ours {
            return;
        }
        let generation = meta.generation.unwrap_or(0);
        if self
            .rollouts
            .get(&key)
            .is_some_and(|seen| seen.generation > generation)
        {
            return;
        }
        self.workloads
            .entry(key.clone())
            .or_insert(Standing::Waiting);
        self.rollouts.insert(
            key,
            RolloutSeen {
                generation,
                rollout,
                published,
            },
        );
    }

    /// Whether a waiting workload is ready by its rollout observation: `Some(complete)` once
    /// one arrived, `None` without one (then the incident rule applies).
    fn rollout_ready(&self, key: &str, now: DateTime<Utc>) -> Option<bool> {
        let seen = self.rollouts.get(key)?;
        Some(
            seen.rollout.is_complete()
                && (seen.published >= self.started || now - self.started >= CATCH_UP),
        )
    }

    fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents
            .values()
            .filter(|i| i.status == IncidentStatus::Open)
    }

    fn ranked(&self) -> Vec<Diagnosis> {
        let mut ds: Vec<Diagnosis> = self
            .diagnoses
            .values()
            .filter(|d| {
                d.incident
                    .as_ref()
                    .and_then(|k| self.incidents.get(k))
                    .is_none_or(|i| i.status == IncidentStatus::Open)
            })
            .cloned()
            .collect();
        // Definitive findings first (they are what fails the gate), then the shared order;
        // leads are settled as `explain` settles them: a lead may contest the first finding,
        // and one agreeing with a finding is folded into it (`lastmile_events::ranking`).
        ds.sort_by(|a, b| {
            b.definitive
                .cmp(&a.definitive)
                .then(b.confidence.total_cmp(&a.confidence))
        });
        lastmile_events::ranking::settle_leads(&mut ds);
        ds
    }

    /// Whether `finding` is one a lead could contest, no lead for its incident has arrived,
    /// and [`CONTEST_WINDOW`] has not passed since the first definitive diagnosis.
    fn awaits_a_lead(&self, finding: &Diagnosis, now: DateTime<Utc>) -> bool {
        finding.confidence <= lastmile_events::ranking::CONTESTABLE
            && !self
                .diagnoses
                .values()
                .any(|d| lastmile_events::ranking::is_lead(d) && d.incident == finding.incident)
            && self
                .definitive_at
                .is_some_and(|at| now - at < CONTEST_WINDOW)
    }

    /// The verdict now, if there is one.
    pub fn verdict(&self, now: DateTime<Utc>) -> Option<Verdict> {
        let ranked = self.ranked();
        if let Some(d) = ranked.iter().find(|d| d.definitive) {
            if self.awaits_a_lead(d, now) {
                return None;
            }
            // The definitive finding says what failed; the diagnosis shown is the first in
            // the shared order: a lead that contests the finding, or the finding itself.
            return Some(Verdict::Failed {
                reason: d.summary.clone(),
                diagnosis: ranked.first().cloned().map(Box::new),
            });
        }
        if let Some(reason) = self.workloads.values().find_map(|s| match s {
            Standing::Failed(r) => Some(r.clone()),
            _ => None,
        }) {
            let grace = chrono::Duration::from_std(self.cfg.grace).unwrap_or(chrono::Duration::MAX);
            let waited = self.job_failed_at.is_some_and(|t| now - t >= grace);
            if waited || !ranked.is_empty() {
                return Some(Verdict::Failed {
                    reason,
                    diagnosis: ranked.first().cloned().map(Box::new),
                });
            }
        }
        let any_open = self.open_incidents().next().is_some();
        if !any_open && !self.workloads.is_empty() {
            let all_ready = self.workloads.iter().all(|(key, s)| match s {
                Standing::Ready(_) => true,
                Standing::Failed(_) => false,
                // Deployments, StatefulSets, DaemonSets: their newest rollout observation;
                // without one (an older watcher), a resolved incident shows progress.
                Standing::Waiting => {
                    !key.starts_with("job/")
                        && self
                            .rollout_ready(key, now)
                            .unwrap_or_else(|| self.resolved_for(key))
                }
            });
            if all_ready {
                let how: Vec<String> = self
                    .workloads
                    .iter()
                    .map(|(k, s)| match (s, self.rollouts.get(k)) {
                        (Standing::Ready(r), _) => r.clone(),
                        (_, Some(seen)) => seen.rollout.text().to_owned(),
                        _ => format!("{k}: its incidents resolved"),
                    })
                    .collect();
                return Some(Verdict::Ready(how.join("; ")));
            }
            if let Some(settle) = self.cfg.settle {
                let settle = chrono::Duration::from_std(settle).unwrap_or(chrono::Duration::MAX);
                let no_jobs_waiting = !self
                    .workloads
                    .iter()
                    .any(|(k, s)| k.starts_with("job/") && *s == Standing::Waiting);
                if no_jobs_waiting && now - self.quiet_since >= settle {
                    return Some(Verdict::Ready(format!(
                        "no incident open for {}s",
                        settle.num_seconds()
                    )));
                }
            }
        }
        let timeout = chrono::Duration::from_std(self.cfg.timeout).unwrap_or(chrono::Duration::MAX);
        if now - self.started >= timeout {
            return Some(Verdict::TimedOut { diagnoses: ranked });
        }
        None
    }

    fn resolved_for(&self, workload: &str) -> bool {
        let mine: Vec<&Incident> = self
            .incidents
            .values()
            .filter(|i| {
                let o = i.owner.as_ref().unwrap_or(&i.subject);
                workload_key(&o.kind, o.namespace.as_deref().unwrap_or(""), &o.name) == workload
            })
            .collect();
        !mine.is_empty() && mine.iter().all(|i| i.status == IncidentStatus::Resolved)
    }

    /// One progress line.
    pub fn progress(&self, now: DateTime<Utc>) -> String {
        let open: Vec<String> = self
            .open_incidents()
            .map(|i| format!("{} ({} x{})", i.subject, i.family, i.count))
            .collect();
        let waiting: BTreeSet<String> = self
            .workloads
            .iter()
            .filter(|(_, s)| **s == Standing::Waiting)
            .map(|(k, _)| match self.rollouts.get(k) {
                Some(seen) => format!("{k}: {}", seen.rollout.text()),
                None => k.clone(),
            })
            .collect();
        format!(
            "lastmile gate: waiting for {} ({}s): {} workload(s) not ready {:?}, open incidents: {}, diagnoses: {}",
            self.cfg.target,
            (now - self.started).num_seconds(),
            waiting.len(),
            waiting,
            if open.is_empty() {
                "none".to_owned()
            } else {
                open.join(", ")
            },
            self.diagnoses.len()
        )
    }
}
