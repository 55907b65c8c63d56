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
use lastmile_events::facts::{self, JobTerminal, StuckPod, job_terminal};
use lastmile_events::{Incident, IncidentFamily, IncidentStatus, KubeEvent, ObjectRef};
use serde_json::value::RawValue;

use crate::trim;

/// Normal-type event reasons worth keeping (the autoscaler's verdicts).
const NORMAL_REASONS_KEPT: &[&str] = &["NotTriggerScaleUp", "TriggeredScaleUp"];

/// Longest event message kept, bytes.
const MAX_MESSAGE_LEN: usize = 4096;

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
    /// An active Job without a deadline becomes an incident after this long.
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
            job_stuck_after: Duration::from_secs(3600),
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
    events: HashMap<(String, Key), Vec<KubeEvent>>,
    event_order: VecDeque<(String, Key)>,
    ignored_suspects: u64,
    /// While true, nothing is published (the initial lists are still being read).
    held: bool,
}

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
fn since(s: &Suspect) -> DateTime<Utc> {
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
    /// A tracker with the given thresholds.
    pub fn new(cfg: TrackerConfig) -> Self {
        Self {
            cfg,
            suspects: HashMap::new(),
            jobs: HashMap::new(),
            incidents: HashMap::new(),
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

    /// An Event was added or changed.
    pub fn observe_event(&mut self, ev: KubeEvent, now: DateTime<Utc>) -> Vec<Incident> {
        let keep = ev.ty == "Warning" || NORMAL_REASONS_KEPT.contains(&ev.reason.as_str());
        if !keep {
            return Vec::new();
        }
        let mut ev = ev;
        if ev.message.len() > MAX_MESSAGE_LEN {
            let mut cut = MAX_MESSAGE_LEN;
            while !ev.message.is_char_boundary(cut) {
                cut -= 1;
            }
            ev.message.truncate(cut);
        }
        let r = &ev.regarding;
        let subject_key = (r.kind.clone(), key(r.namespace.as_deref(), Some(&r.name)));
        self.cache_event(subject_key, ev.clone());

        // A FailedCreate on a Job: no pod exists to be pending, the Job itself is stuck.
        if r.kind == "Job" && ev.reason == "FailedCreate" {
            let jref = ObjectRef {
                kind: "Job".into(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                uid: r.uid.clone(),
                field_path: None,
            };
            self.owner_trigger(IncidentFamily::Pending, &jref, "FailedCreate".into(), now);
        }
        // Attach to every open incident it is about.
        let targets: Vec<String> = self
            .incidents
            .iter()
            .filter(|(_, o)| concerns(o, &ev))
            .map(|(k, _)| k.clone())
            .collect();
        for k in targets {
            if let Some(open) = self.incidents.get_mut(&k)
                && merge_event(
                    &mut open.incident.events,
                    ev.clone(),
                    self.cfg.max_events_per_incident,
                )
            {
                open.dirty = true;
            }
        }
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
        out.extend(self.flush(now));
        out
    }

    fn cache_event(&mut self, subject: (String, Key), ev: KubeEvent) {
        let max = self.cfg.max_events_per_subject;
        if !self.events.contains_key(&subject) {
            self.event_order.push_back(subject.clone());
        }
        merge_event(self.events.entry(subject).or_default(), ev, max);
        while self.events.len() > self.cfg.max_event_subjects {
            match self.event_order.pop_front() {
                Some(old) => {
                    self.events.remove(&old);
                }
                None => break,
            }
        }
    }

    fn cached_events(&self, obj: &ObjectRef) -> impl Iterator<Item = &KubeEvent> {
        let k = (
            obj.kind.clone(),
            key(obj.namespace.as_deref(), Some(&obj.name)),
        );
        self.events.get(&k).into_iter().flatten()
    }

    fn ensure_open(
        &mut self,
        family: IncidentFamily,
        subject: ObjectRef,
        owner: Option<ObjectRef>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> String {
        let k = Incident::key_for(family, &subject, owner.as_ref());
        if !self.incidents.contains_key(&k) {
            let mut inc = Incident::new(family, subject, owner, since);
            if let Some(o) = inc.owner.as_ref().filter(|o| o.kind == "Job") {
                let jk = key(o.namespace.as_deref(), Some(&o.name));
                if let Some(job) = self.jobs.get(&jk) {
                    inc.ci = facts::ci_run_of(&job.metadata);
                    inc.job = Some(job.clone());
                }
            }
            let mut events = Vec::new();
            let about: Vec<ObjectRef> = [Some(inc.subject.clone()), inc.owner.clone()]
                .into_iter()
                .flatten()
                .collect();
            for obj in &about {
                for ev in self.cached_events(obj) {
                    merge_event(&mut events, ev.clone(), self.cfg.max_events_per_incident);
                }
            }
            // A Job's incident is also about its pods, which may be gone already.
            if let Some(job) = inc.owner.as_ref().filter(|o| o.kind == "Job") {
                let ns = job.namespace.clone().unwrap_or_default();
                for ((kind, (ev_ns, name)), evs) in &self.events {
                    if kind == "Pod" && *ev_ns == ns && facts::is_pod_name_of_job(name, &job.name) {
                        for ev in evs {
                            merge_event(&mut events, ev.clone(), self.cfg.max_events_per_incident);
                        }
                    }
                }
            }
            inc.events = events;
            self.incidents.insert(
                k.clone(),
                Open {
                    incident: inc,
                    members: BTreeSet::new(),
                    owner_trigger: None,
                    published: None,
                    opened: now,
                    fresh: false,
                    dirty: true,
                },
            );
        }
        k
    }

    fn promote(&mut self, k: &Key, now: DateTime<Utc>) {
        let Some(s) = self.suspects.get(k) else {
            return;
        };
        if s.incident.is_some() {
            return;
        }
        let threshold = match s.finding.family {
            IncidentFamily::Init => self.cfg.init_after,
            IncidentFamily::Runtime => self.cfg.runtime_after,
            _ => self.cfg.pending_after,
        };
        if s.finding.needs_age && now - since(s) < secs(threshold) {
            return;
        }
        let (family, since, owner, subject, at_once) = (
            s.finding.family,
            since(s),
            s.owner.clone(),
            s.subject.clone(),
            !s.finding.needs_age,
        );
        let ik = self.ensure_open(family, subject.clone(), owner, since, now);
        let pod_events: Vec<KubeEvent> = self.cached_events(&subject).cloned().collect();
        if let Some(open) = self.incidents.get_mut(&ik) {
            if open.published.is_none() && open.members.is_empty() {
                open.fresh = at_once;
            }
            if open.members.is_empty() || open.incident.pod.is_none() {
                let pod = self.suspects.get(k).and_then(Suspect::pod);
                open.incident.ci = open
                    .incident
                    .ci
                    .take()
                    .or_else(|| facts::ci_run_of(&pod.as_ref()?.metadata));
                open.incident.pod = pod;
                open.incident.subject = subject;
            }
            for ev in pod_events {
                merge_event(
                    &mut open.incident.events,
                    ev,
                    self.cfg.max_events_per_incident,
                );
            }
            open.members.insert(k.1.clone());
            open.incident.first_seen = open.incident.first_seen.min(since);
            open.incident.last_seen = now;
            open.dirty = true;
        }
        if let Some(s) = self.suspects.get_mut(k) {
            s.incident = Some(ik);
        }
    }

    /// A suspect stopped being one: drop it from its incident, resolving it when empty.
    fn leave(&mut self, old: &Suspect, pod_name: &str, why: String, now: DateTime<Utc>) {
        let Some(ik) = &old.incident else { return };
        let Some(open) = self.incidents.get_mut(ik) else {
            return;
        };
        open.members.remove(pod_name);
        open.incident.last_seen = now;
        open.dirty = true;
        if open.members.is_empty() && open.owner_trigger.is_none() {
            open.incident.status = IncidentStatus::Resolved;
            open.incident.resolution = Some(why);
        } else if open.incident.subject.name == pod_name {
            // Keep the representative pod one that is still stuck.
            let next = open.members.iter().next().cloned();
            if let Some(s) = next.and_then(|n| {
                self.suspects
                    .get(&key(old.subject.namespace.as_deref(), Some(&n)))
            }) {
                open.incident.subject = s.subject.clone();
                open.incident.pod = s.pod();
            }
        }
    }

    fn owner_trigger(
        &mut self,
        family: IncidentFamily,
        owner: &ObjectRef,
        reason: String,
        now: DateTime<Utc>,
    ) {
        let ik = self.ensure_open(family, owner.clone(), Some(owner.clone()), now, now);
        if let Some(open) = self.incidents.get_mut(&ik) {
            if open.owner_trigger.as_deref() != Some(reason.as_str()) {
                open.owner_trigger = Some(reason);
                open.dirty = true;
            }
            open.incident.last_seen = now;
        }
    }

    fn clear_owner_trigger(
        &mut self,
        family: IncidentFamily,
        owner: &ObjectRef,
        why: &str,
        now: DateTime<Utc>,
    ) {
        let ik = Incident::key_for(family, owner, Some(owner));
        if let Some(open) = self.incidents.get_mut(&ik)
            && open.owner_trigger.take().is_some()
        {
            open.dirty = true;
            open.incident.last_seen = now;
            if open.members.is_empty() {
                open.incident.status = IncidentStatus::Resolved;
                open.incident.resolution = Some(format!(
                    "{} {}/{}: {why}",
                    owner.kind,
                    owner.namespace.as_deref().unwrap_or(""),
                    owner.name
                ));
            }
        }
    }

    /// Resolves every incident owned by `owner` (the Job completed or went away).
    fn resolve_owned(&mut self, owner: &ObjectRef, why: &str, now: DateTime<Utc>) {
        let same = |o: &ObjectRef| {
            o.kind == owner.kind && o.namespace == owner.namespace && o.name == owner.name
        };
        for open in self
            .incidents
            .values_mut()
            .filter(|o| o.incident.owner.as_ref().is_some_and(same))
        {
            open.members.clear();
            open.owner_trigger = None;
            open.incident.status = IncidentStatus::Resolved;
            open.incident.resolution = Some(why.to_owned());
            open.incident.last_seen = now;
            open.dirty = true;
        }
        for s in self
            .suspects
            .values_mut()
            .filter(|s| s.owner.as_ref().is_some_and(same))
        {
            s.incident = None;
        }
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

/// True when `ev` is about the incident's subject, owner or one of its member pods.
fn concerns(open: &Open, ev: &KubeEvent) -> bool {
    let r = &ev.regarding;
    let inc = &open.incident;
    let same = |o: &ObjectRef| o.kind == r.kind && o.namespace == r.namespace && o.name == r.name;
    let pod_of_job = |o: &ObjectRef| {
        o.kind == "Job" && o.namespace == r.namespace && facts::is_pod_name_of_job(&r.name, &o.name)
    };
    same(&inc.subject)
        || inc.owner.as_ref().is_some_and(same)
        || (r.kind == "Pod"
            && r.namespace == inc.subject.namespace
            && (open.members.contains(&r.name) || inc.owner.as_ref().is_some_and(pod_of_job)))
}

/// Adds `ev` to `list`, merging it with an event of the same kind, reason and message (the
/// newest count and time win). Keeps at most `max` entries, dropping the oldest. Returns true
/// when the list changed.
fn merge_event(list: &mut Vec<KubeEvent>, ev: KubeEvent, max: usize) -> bool {
    if let Some(same) = list.iter_mut().find(|e| {
        e.regarding.kind == ev.regarding.kind
            && e.reason == ev.reason
            && e.clean_message() == ev.clean_message()
    }) {
        let changed = ev.count > same.count || ev.last_time > same.last_time;
        if changed {
            same.count = same.count.max(ev.count);
            same.last_time = same.last_time.max(ev.last_time);
        }
        return changed;
    }
    list.push(ev);
    if list.len() > max {
        list.remove(0);
    }
    true
}

mod rollout;

pub use rollout::rollout_stuck;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
