//! An incident's life: opened for a suspect pod or for its owner (a Job, a Deployment), the
//! pods that join and leave it, the owner's own reason that keeps it open without pods, and
//! resolution.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use lastmile_events::facts;
use lastmile_events::{Incident, IncidentFamily, IncidentStatus, KubeEvent, ObjectRef};

use super::events::{is_about_job, merge_event};
use super::pods::since;
use super::{Key, Open, Suspect, Tracker, key, secs};

impl Tracker {
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
                    inc.job = Some(Box::new(job.clone()));
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
            // A Job's incident is also about its pods, which may be gone already, and its
            // Kueue Workload, whose events say why a queued Job is not admitted.
            if let Some(job) = inc.owner.as_ref().filter(|o| o.kind == "Job") {
                let ns = job.namespace.clone().unwrap_or_default();
                for ((kind, (ev_ns, name)), evs) in &self.events {
                    if *ev_ns == ns && is_about_job(kind, name, &job.name) {
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

    pub(super) fn promote(&mut self, k: &Key, now: DateTime<Utc>) {
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
                open.incident.pod = pod.map(Box::new);
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
    pub(super) fn leave(&mut self, old: &Suspect, pod_name: &str, why: String, now: DateTime<Utc>) {
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
                open.incident.pod = s.pod().map(Box::new);
            }
        }
    }

    pub(super) fn owner_trigger(
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

    pub(super) fn clear_owner_trigger(
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
    pub(super) fn resolve_owned(&mut self, owner: &ObjectRef, why: &str, now: DateTime<Utc>) {
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
}
