//! Rollouts that stop progressing, keyed per workload: a Runtime incident with the same key
//! as the incident its crash-looping or never-Ready pods raise (their owner is the workload),
//! so it is diagnosed through those pods when they are suspects, and stays open while the
//! rollout is stuck even when no pod is one (the pods were deleted and replaced).
//!
//! * A **Deployment** says so itself: `Progressing=False` (reason
//!   `ProgressDeadlineExceeded`, what `kubectl rollout status` times out on) opens it at once.
//! * **StatefulSets** and **DaemonSets** have no progress deadline: one whose status has not
//!   converged (pods not on the update revision, or not Ready/available) for
//!   [`TrackerConfig::rollout_after`](super::TrackerConfig::rollout_after) opens it, timed
//!   from when the watcher first saw it lagging (a restart of the watcher starts the clock
//!   again).

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use lastmile_events::facts::object_ref;
use lastmile_events::{Incident, IncidentFamily, ObjectRef};

use super::{Key, Tracker, key, secs};

/// A StatefulSet or DaemonSet rollout seen lagging, not yet (or already) an incident.
#[derive(Debug, Clone)]
pub(super) struct Lagging {
    /// When the watcher first saw it lagging.
    since: DateTime<Utc>,
    /// What lags, in words (`2 of 3 pods updated, 1 ready`).
    reason: String,
}

/// The key of a rollout in [`Tracker`]: kind and `(namespace, name)`.
pub(super) type RolloutKey = (&'static str, Key);

/// `REASON: message` of a `Progressing=False` condition; `None` while the rollout progresses
/// (or the controller has not looked at the newest generation yet).
pub fn rollout_stuck(d: &Deployment) -> Option<String> {
    let status = d.status.as_ref()?;
    let generation = d.metadata.generation.unwrap_or(0);
    if status.observed_generation.unwrap_or(0) < generation {
        return None;
    }
    let c = status.conditions.iter().flatten().find(|c| {
        c.type_.as_deref() == Some("Progressing") && c.status.as_deref() == Some("False")
    })?;
    let reason = c.reason.as_deref().unwrap_or("ProgressDeadlineExceeded");
    Some(match c.message.as_deref() {
        Some(m) => format!("{reason}: {m}"),
        None => reason.to_owned(),
    })
}

/// What a StatefulSet's rollout still lacks; `None` when it has converged (every replica on
/// the update revision and Ready), or the controller has not observed the newest generation.
/// With the `OnDelete` strategy pods move to a new revision only when deleted by hand, so
/// only readiness counts.
pub fn statefulset_lagging(s: &StatefulSet) -> Option<String> {
    let status = s.status.as_ref()?;
    if status.observed_generation.unwrap_or(0) < s.metadata.generation.unwrap_or(0) {
        return None;
    }
    let want = s.spec.replicas.unwrap_or(1);
    let on_delete = s
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.type_.as_deref())
        .is_some_and(|t| t == "OnDelete");
    let updated = status.updated_replicas.unwrap_or(0);
    let ready = status.ready_replicas.unwrap_or(0);
    let revision_pending = !on_delete
        && (updated < want
            || status
                .current_revision
                .as_ref()
                .zip(status.update_revision.as_ref())
                .is_some_and(|(c, u)| c != u));
    if !revision_pending && ready >= want {
        return None;
    }
    let revision = status
        .update_revision
        .as_deref()
        .unwrap_or("the update revision");
    Some(if on_delete {
        format!("{ready} of {want} pods Ready")
    } else {
        format!("{updated} of {want} pods on revision {revision}, {ready} Ready")
    })
}

/// What a DaemonSet's rollout still lacks; `None` when it has converged (every scheduled
/// pod updated and available) or the controller has not observed the newest generation.
/// With the `OnDelete` strategy only availability counts.
pub fn daemonset_lagging(d: &DaemonSet) -> Option<String> {
    let status = d.status.as_ref()?;
    if status.observed_generation.unwrap_or(0) < d.metadata.generation.unwrap_or(0) {
        return None;
    }
    let on_delete = d
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.type_.as_deref())
        .is_some_and(|t| t == "OnDelete");
    let want = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let unavailable = status.number_unavailable.unwrap_or(0);
    let ready = status.number_ready;
    if (on_delete || updated >= want) && unavailable == 0 && ready >= want {
        return None;
    }
    Some(if on_delete {
        format!("{ready} of {want} pods Ready, {unavailable} unavailable")
    } else {
        format!("{updated} of {want} pods updated, {ready} Ready, {unavailable} unavailable")
    })
}

impl Tracker {
    /// A Deployment was added or changed: a stalled rollout opens (or keeps open) its
    /// Runtime incident; a progressing one no longer holds it open.
    pub fn observe_deployment(&mut self, d: &Deployment, now: DateTime<Utc>) -> Vec<Incident> {
        let dref = object_ref("Deployment", &d.metadata);
        match rollout_stuck(d) {
            Some(reason) => self.owner_trigger(IncidentFamily::Runtime, &dref, reason, now),
            None => self.clear_owner_trigger(
                IncidentFamily::Runtime,
                &dref,
                "the rollout is progressing",
                now,
            ),
        }
        self.flush(now)
    }

    /// A Deployment was deleted.
    pub fn forget_deployment(
        &mut self,
        namespace: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Vec<Incident> {
        self.forget_rollout("Deployment", namespace, name, now)
    }

    /// A StatefulSet was added or changed: one lagging for `rollout_after` opens (or keeps
    /// open) its Runtime incident; a converged one no longer holds it open.
    pub fn observe_statefulset(&mut self, s: &StatefulSet, now: DateTime<Utc>) -> Vec<Incident> {
        let sref = object_ref("StatefulSet", &s.metadata);
        self.lagging("StatefulSet", &sref, statefulset_lagging(s), now);
        self.flush(now)
    }

    /// A DaemonSet was added or changed, as [`Tracker::observe_statefulset`].
    pub fn observe_daemonset(&mut self, d: &DaemonSet, now: DateTime<Utc>) -> Vec<Incident> {
        let dref = object_ref("DaemonSet", &d.metadata);
        self.lagging("DaemonSet", &dref, daemonset_lagging(d), now);
        self.flush(now)
    }

    /// A Deployment, StatefulSet or DaemonSet (`kind` as Kubernetes spells it) was deleted:
    /// its incidents are resolved.
    pub fn forget_rollout(
        &mut self,
        kind: &'static str,
        namespace: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Vec<Incident> {
        self.rollouts
            .remove(&(kind, key(Some(namespace), Some(name))));
        let wref = ObjectRef {
            kind: kind.into(),
            namespace: Some(namespace.into()),
            name: name.into(),
            ..Default::default()
        };
        let why = format!("{kind} {namespace}/{name} was deleted");
        self.resolve_owned(&wref, &why, now);
        self.flush(now)
    }

    /// Records whether the rollout of `wref` lags (`reason`) and opens its incident once it
    /// has lagged for `rollout_after`; clears it when converged.
    fn lagging(
        &mut self,
        kind: &'static str,
        wref: &ObjectRef,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) {
        let k = (kind, key(wref.namespace.as_deref(), Some(&wref.name)));
        match reason {
            Some(reason) => {
                let entry = self.rollouts.entry(k).or_insert(Lagging {
                    since: now,
                    reason: String::new(),
                });
                entry.reason = reason;
                let entry = entry.clone();
                self.trigger_if_overdue(wref, &entry, now);
            }
            None => {
                if self.rollouts.remove(&k).is_some() {
                    self.clear_owner_trigger(
                        IncidentFamily::Runtime,
                        wref,
                        "the rollout converged",
                        now,
                    );
                }
            }
        }
    }

    fn trigger_if_overdue(&mut self, wref: &ObjectRef, lag: &Lagging, now: DateTime<Utc>) {
        let waited = now - lag.since;
        if waited >= secs(self.cfg.rollout_after) {
            let reason = format!("rollout not converged: {}", lag.reason);
            self.owner_trigger(IncidentFamily::Runtime, wref, reason, now);
        }
    }

    /// Opens the incidents of rollouts that have now lagged for `rollout_after`.
    pub(super) fn tick_rollouts(&mut self, now: DateTime<Utc>) {
        let due: Vec<(ObjectRef, Lagging)> = self
            .rollouts
            .iter()
            .filter(|(_, lag)| now - lag.since >= secs(self.cfg.rollout_after))
            .map(|((kind, (ns, name)), lag)| {
                let wref = ObjectRef {
                    kind: (*kind).into(),
                    namespace: Some(ns.clone()),
                    name: name.clone(),
                    ..Default::default()
                };
                (wref, lag.clone())
            })
            .collect();
        for (wref, lag) in due {
            self.trigger_if_overdue(&wref, &lag, now);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
