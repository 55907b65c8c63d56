//! Kubernetes Events: kept in a small bounded cache by the object they are about, and
//! merged into every open incident they concern (Kubernetes deletes Events after an hour, so
//! an incident keeps its own copies).

use chrono::{DateTime, Utc};
use lastmile_events::facts;
use lastmile_events::{Incident, IncidentFamily, KubeEvent, ObjectRef};

use super::{Key, Open, Tracker, key};

/// Normal-type event reasons worth keeping (the autoscaler's verdicts).
const NORMAL_REASONS_KEPT: &[&str] = &["NotTriggerScaleUp", "TriggeredScaleUp"];

/// Longest event message kept, bytes.
pub(super) const MAX_MESSAGE_LEN: usize = 4096;

impl Tracker {
    /// An Event was added or changed.
    pub fn observe_event(&mut self, ev: KubeEvent, now: DateTime<Utc>) -> Vec<Incident> {
        let keep = ev.ty == "Warning" || NORMAL_REASONS_KEPT.contains(&ev.reason.as_str());
        if !keep {
            return Vec::new();
        }
        let mut ev = ev;
        lastmile_redact::truncate_at_char_boundary(&mut ev.message, MAX_MESSAGE_LEN);
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

    pub(super) fn cached_events(&self, obj: &ObjectRef) -> impl Iterator<Item = &KubeEvent> {
        let k = (
            obj.kind.clone(),
            key(obj.namespace.as_deref(), Some(&obj.name)),
        );
        self.events.get(&k).into_iter().flatten()
    }
}

/// True when `ev` is about the incident's subject, owner or one of its member pods.
fn concerns(open: &Open, ev: &KubeEvent) -> bool {
    let r = &ev.regarding;
    let inc = &open.incident;
    let same = |o: &ObjectRef| o.kind == r.kind && o.namespace == r.namespace && o.name == r.name;
    let of_job = |o: &ObjectRef| {
        o.kind == "Job" && o.namespace == r.namespace && is_about_job(&r.kind, &r.name, &o.name)
    };
    same(&inc.subject)
        || inc.owner.as_ref().is_some_and(of_job)
        || inc.owner.as_ref().is_some_and(same)
        || (r.kind == "Pod"
            && r.namespace == inc.subject.namespace
            && open.members.contains(&r.name))
}

/// True when an object of `kind` named `name` belongs to the Job `job` (same namespace
/// assumed): one of its pods (`<job>-<suffix>`), or its Kueue Workload (`job-<job>-<hash>`).
pub(super) fn is_about_job(kind: &str, name: &str, job: &str) -> bool {
    match kind {
        "Pod" => facts::is_pod_name_of_job(name, job),
        "Workload" => facts::kueue_workload_job(name) == Some(job),
        _ => false,
    }
}

/// Adds `ev` to `list`, merging it with an event of the same kind, reason and message (the
/// newest count and time win). Keeps at most `max` entries, dropping the oldest. Returns true
/// when the list changed.
pub(super) fn merge_event(list: &mut Vec<KubeEvent>, ev: KubeEvent, max: usize) -> bool {
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
