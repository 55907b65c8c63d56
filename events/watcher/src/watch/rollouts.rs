//! The rollout readiness signal: a Deployment, StatefulSet or DaemonSet is published as a
//! compact observation on `lastmile.k8s.<kind>.<namespace>` when its rollout state changes
//! (what `lastmile gate --workload deployment/NS/NAME` waits for).
//!
//! "Changes" means the answer of [`lastmile_events::rollout`] (complete / waiting / stalled
//! and kubectl's line, which carries the replica counts) or the generation differs from the
//! last one published for that workload. A resync or relist delivers the same objects again
//! and publishes nothing; status-only updates that do not move the rollout (a heartbeat in a
//! condition's `lastUpdateTime`) publish nothing either.
//!
//! **After a (re)start** the initial list shows every workload of the cluster at once. A
//! rollout still in progress is published (a gate may wait for it); a complete one is only
//! remembered, unless it is a Deployment whose conditions changed within
//! [`WatchConfig::announce_window`](super::WatchConfig::announce_window) (it may have just
//! finished): a restart does not flood the bus with every settled workload. A StatefulSet or
//! DaemonSet that finished while the watcher was down has no such time and is not
//! announced; its next change is. A relist after a disconnect publishes what changed, as
//! any update does (the workload is known by then). Message ids derive from the state, so
//! JetStream's duplicate window drops repeats, and a queued observation of a workload is
//! replaced in the outbox by a newer one (only the newest matters to the gate).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use lastmile_events::envelope::stable_id;
use lastmile_events::facts::workload_key;
use lastmile_events::rollout::{
    Rollout, compact_daemonset, compact_deployment, compact_statefulset,
};
use lastmile_events::{CloudEvent, K8sObservation, subjects};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message};

/// An observation to queue: the outbox's coalescing key and the message.
pub(super) type Announcement = (String, Message);

/// The last rollout state published per workload.
#[derive(Debug)]
pub(super) struct RolloutAnnouncer {
    /// `kind/namespace/name` → the state published last (`uid`, generation, state, text).
    published: BTreeMap<String, String>,
    /// A complete Deployment first seen in the initial list is announced only when its
    /// conditions changed within this long.
    window: chrono::Duration,
}

impl RolloutAnnouncer {
    /// An announcer that remembers nothing yet.
    pub(super) fn new(window: std::time::Duration) -> Self {
        Self {
            published: BTreeMap::new(),
            window: chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX),
        }
    }

    /// A Deployment was added or changed (`first_list`: seen in an initial list or relist):
    /// its observation, when its rollout state changed.
    pub(super) fn deployment(
        &mut self,
        d: &Deployment,
        first_list: bool,
        source: &str,
        now: DateTime<Utc>,
    ) -> Option<Announcement> {
        let recent = d
            .status
            .iter()
            .flat_map(|s| s.conditions.iter().flatten())
            .flat_map(|c| [c.last_update_time.as_ref(), c.last_transition_time.as_ref()])
            .flatten()
            .any(|t| now - lastmile_events::k8s::time(t) <= self.window);
        let obs = K8sObservation::Deployment(compact_deployment(d));
        self.announce(obs, first_list && !recent, source, now)
    }

    /// A StatefulSet was added or changed: its observation, when its rollout state changed.
    pub(super) fn statefulset(
        &mut self,
        s: &StatefulSet,
        first_list: bool,
        source: &str,
        now: DateTime<Utc>,
    ) -> Option<Announcement> {
        let obs = K8sObservation::StatefulSet(compact_statefulset(s));
        self.announce(obs, first_list, source, now)
    }

    /// A DaemonSet was added or changed: its observation, when its rollout state changed.
    pub(super) fn daemonset(
        &mut self,
        d: &DaemonSet,
        first_list: bool,
        source: &str,
        now: DateTime<Utc>,
    ) -> Option<Announcement> {
        let obs = K8sObservation::DaemonSet(compact_daemonset(d));
        self.announce(obs, first_list, source, now)
    }

    /// The workload was deleted: a new one of that name is announced from scratch.
    pub(super) fn forget(&mut self, kind: &str, namespace: &str, name: &str) {
        self.published.remove(&workload_key(kind, namespace, name));
    }

    /// Workloads whose state is remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.published.len()
    }

    /// `settled_unless_waiting`: first seen in an initial list with nothing saying it
    /// changed lately, so a complete (or stalled) rollout is remembered, not published.
    fn announce(
        &mut self,
        obs: K8sObservation,
        settled_unless_waiting: bool,
        source: &str,
        now: DateTime<Utc>,
    ) -> Option<Announcement> {
        let kind = obs.kind();
        let (meta, rollout) = obs.rollout()?;
        let ns = meta.namespace.as_deref().unwrap_or_default();
        let name = meta.name.as_deref().unwrap_or_default();
        let uid = meta.uid.as_deref().unwrap_or_default();
        let generation = meta.generation.unwrap_or(0).to_string();
        let key = workload_key(kind, ns, name);
        let state = [uid, generation.as_str(), rollout.state(), rollout.text()].join("\u{0}");
        match self.published.get(&key) {
            Some(last) if *last == state => return None,
            None if settled_unless_waiting && !matches!(rollout, Rollout::Waiting(_)) => {
                self.published.insert(key, state);
                return None;
            }
            _ => {}
        }
        let id = stable_id(&[
            "rollout",
            kind,
            ns,
            name,
            uid,
            &generation,
            rollout.state(),
            rollout.text(),
        ]);
        let subject = subjects::k8s(kind, meta.namespace.as_deref());
        let body = match CloudEvent::new(id.clone(), source, Some(key.clone()), now, obs).to_vec() {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, kind, "Could not serialise a rollout observation.");
                return None;
            }
        };
        self.published.insert(key.clone(), state);
        let mut headers = BTreeMap::new();
        headers.insert(MSG_ID_HEADER.to_owned(), id);
        let message = Message {
            subject,
            headers,
            payload: body.into(),
        };
        Some((format!("rollout-observation:{key}"), message))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
