//! The incident tracker: decides what is an incident worth publishing.
//!
//! Pure and synchronous: it is fed observations (pods, Jobs, Events) with the time they were
//! seen and returns the incidents to publish. It never talks to the cluster or the bus, so
//! its decisions are unit-tested with recorded objects.
//!
//! * A pod is a *suspect* when it is unscheduled (Pending family), waits with an image-pull
//!   reason (ImagePull), has an init container that crash-loops or runs too long (Init), or a
//!   Job's main container crash-loops (Job). Suspects whose condition needs time (pending,
//!   long-running init) become incidents once older than the threshold; the rest at once.
//! * Suspects are grouped by [`Incident::key_for`] (family + owning workload), so 500 pods
//!   of one Job pending for one reason are one incident whose `count` tracks them.
//! * When the last suspect of an incident recovers (or the Job completes) the incident is
//!   published once more with [`IncidentStatus::Resolved`] and a resolution, then forgotten.
//! * Warning Events (and the autoscaler's scale-up verdicts) are kept in a small bounded
//!   cache by the object they are about, and copied into an incident as soon as it opens:
//!   Kubernetes deletes Events after an hour.
//!
//! Memory is bounded: only suspects, active Jobs, open incidents and recent relevant Events
//! are kept, each trimmed by [`crate::trim`].

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use lastmile_events::facts::StuckPod;
use lastmile_events::{Incident, IncidentStatus, KubeEvent, ObjectRef};
use serde_json::value::RawValue;

mod events;
mod lifecycle;
mod pods;
mod rollout;

pub use rollout::{daemonset_lagging, rollout_stuck, statefulset_lagging};

/// Thresholds and bounds of the tracker.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerConfig {
    /// An unscheduled pod becomes an incident after this long.
    pub pending_after: Duration,
    /// A running init container becomes an incident after this long.
    pub init_after: Duration,
    /// A running pod whose main containers never become Ready (failing probes, a container
    /// waiting to be created) becomes a Runtime incident after this long; crash loops and
    /// OOM kills open at once.
    pub runtime_after: Duration,
    /// A StatefulSet or DaemonSet whose rollout has not converged (pods not updated, not
    /// Ready or unavailable) becomes a Runtime incident after this long; a Deployment says
    /// itself when it is past its progress deadline.
    pub rollout_after: Duration,
    /// An active Job without a deadline, or a Job left suspended (`spec.suspend: true`: no
    /// pods, waiting for whatever suspended it, such as Kueue), becomes an incident after this
    /// long.
    pub job_stuck_after: Duration,
    /// An open incident whose count or events change is re-published at most this often.
    pub update_interval: Duration,
    /// Events kept per incident.
    pub max_events_per_incident: usize,
    /// Objects whose recent Events are cached (oldest forgotten first).
    pub max_event_subjects: usize,
    /// Events cached per object.
    pub max_events_per_subject: usize,
    /// Suspect pods tracked at once (more are ignored and counted).
    pub max_suspects: usize,
    /// A new incident that no Event is about yet waits this long for one before its first
    /// publish: the kubelet records the Event with the status change, but the Event watch
    /// may deliver it a moment later, and a first diagnosis made without it is poorer.
    pub first_publish_wait: Duration,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            pending_after: Duration::from_secs(60),
            init_after: Duration::from_secs(300),
            runtime_after: Duration::from_secs(180),
            rollout_after: Duration::from_secs(600),
            job_stuck_after: lastmile_events::facts::DEFAULT_STUCK_AFTER,
            update_interval: Duration::from_secs(15),
            max_events_per_incident: 20,
            max_event_subjects: 5000,
            max_events_per_subject: 8,
            max_suspects: 50_000,
            first_publish_wait: Duration::from_secs(3),
        }
    }
}

/// A pod that may be (or is part of) an incident. Up to `max_suspects` of them (a storm of
/// pending pods is thousands), so the trimmed pod is held as its JSON, a fraction of the
/// size of a deserialised `Pod`; it is deserialised only when an incident shows it.
#[derive(Debug)]
struct Suspect {
    /// The pod, trimmed ([`trim::pod`]), as JSON.
    pod: Box<RawValue>,
    /// The pod's reference.
    subject: ObjectRef,
    owner: Option<ObjectRef>,
    /// Why it is a suspect, with `since` filled in (the time it was first seen when the
    /// pod does not say).
    finding: StuckPod,
    /// The incident key, once promoted.
    incident: Option<String>,
}

#[derive(Debug)]
struct Open {
    incident: Incident,
    /// Names of the suspect pods it stands for.
    members: BTreeSet<String>,
    /// A reason raised on the owner itself (Job failed, FailedCreate), keeping it open
    /// without member pods.
    owner_trigger: Option<String>,
    published: Option<DateTime<Utc>>,
    /// When the tracker opened it (not when the condition started).
    opened: DateTime<Utc>,
    /// True when it opened the moment its pod changed (no grace period), so its Events may
    /// still be on their way: the first publish waits for one, up to `first_publish_wait`.
    fresh: bool,
    dirty: bool,
}

type Key = (String, String);

fn key(ns: Option<&str>, name: Option<&str>) -> Key {
    (
        ns.unwrap_or_default().to_owned(),
        name.unwrap_or_default().to_owned(),
    )
}

impl Suspect {
    /// The trimmed pod, deserialised.
    fn pod(&self) -> Option<Pod> {
        serde_json::from_str(self.pod.get())
            .inspect_err(|e| tracing::warn!(error = %e, "A kept suspect pod does not parse."))
            .ok()
    }
}

fn secs(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The tracker. See the module docs.
#[derive(Debug)]
pub struct Tracker {
    cfg: TrackerConfig,
    suspects: HashMap<Key, Suspect>,
    jobs: HashMap<Key, Job>,
    incidents: HashMap<String, Open>,
    /// StatefulSet and DaemonSet rollouts seen lagging.
    rollouts: HashMap<rollout::RolloutKey, rollout::Lagging>,
    events: HashMap<(String, Key), Vec<KubeEvent>>,
    event_order: VecDeque<(String, Key)>,
    ignored_suspects: u64,
    /// While true, nothing is published (the initial lists are still being read).
    held: bool,
}

impl Tracker {
    /// A tracker with the given thresholds.
    pub fn new(cfg: TrackerConfig) -> Self {
        Self {
            cfg,
            suspects: HashMap::new(),
            jobs: HashMap::new(),
            incidents: HashMap::new(),
            rollouts: HashMap::new(),
            events: HashMap::new(),
            event_order: VecDeque::new(),
            ignored_suspects: 0,
            held: false,
        }
    }

    /// Publishes nothing until [`Tracker::release`]: incidents keep gathering pods, Events
    /// and state meanwhile, so their first publish is informed.
    pub fn hold(&mut self) {
        self.held = true;
    }

    /// True while held.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Ends [`Tracker::hold`] and returns what is due now.
    pub fn release(&mut self, now: DateTime<Utc>) -> Vec<Incident> {
        self.held = false;
        self.flush(now)
    }

    /// Marks the published open incidents `pred` selects as changed (a CI deploy event now
    /// links them to a run) and returns what is due; the rest go out with the next updates.
    pub fn touch(&mut self, pred: impl Fn(&Incident) -> bool, now: DateTime<Utc>) -> Vec<Incident> {
        for open in self.incidents.values_mut() {
            if open.published.is_some()
                && open.incident.status == IncidentStatus::Open
                && pred(&open.incident)
            {
                open.dirty = true;
            }
        }
        self.flush(now)
    }

    /// Warning Events cached about `obj` (kind, namespace, name), newest last.
    pub fn cached_events_about(&self, obj: &ObjectRef) -> impl Iterator<Item = &KubeEvent> {
        self.cached_events(obj)
    }

    /// Open incidents right now.
    pub fn open_incidents(&self) -> impl Iterator<Item = &Incident> {
        self.incidents.values().map(|o| &o.incident)
    }

    /// Suspect pods tracked, Jobs tracked, event subjects cached: for memory reports.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.suspects.len(), self.jobs.len(), self.events.len())
    }

    /// Suspects not tracked because `max_suspects` was reached.
    pub fn ignored_suspects(&self) -> u64 {
        self.ignored_suspects
    }

    /// Incidents to publish now: new and resolved ones at once, changed open ones at most
    /// every `update_interval`. Resolved incidents are forgotten once returned.
    fn flush(&mut self, now: DateTime<Utc>) -> Vec<Incident> {
        if self.held {
            return Vec::new();
        }
        let interval = secs(self.cfg.update_interval);
        let wait = secs(self.cfg.first_publish_wait);
        let mut out = Vec::new();
        let mut done = Vec::new();
        for (k, open) in &mut self.incidents {
            open.incident.count = u32::try_from(open.members.len().max(1)).unwrap_or(u32::MAX);
            let resolved = open.incident.status == IncidentStatus::Resolved;
            if resolved && open.published.is_none() {
                // Opened and resolved before anyone heard of it: nothing to announce.
                tracing::debug!(incident = %k, "Incident resolved before its first publish.");
                done.push(k.clone());
                continue;
            }
            let due = match open.published {
                None => {
                    !open.fresh || !open.incident.events.is_empty() || now - open.opened >= wait
                }
                Some(at) => resolved || now - at >= interval,
            };
            if open.dirty && due {
                open.dirty = false;
                open.published = Some(now);
                out.push(open.incident.clone());
            }
            if resolved && !open.dirty {
                done.push(k.clone());
            }
        }
        for k in done {
            self.incidents.remove(&k);
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
