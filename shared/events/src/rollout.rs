//! Has a rollout finished? The decision `kubectl rollout status` makes, in one place for the
//! watcher (which publishes a workload when its answer changes) and the gate (which exits 0
//! on it).
//!
//! | kind | complete when (after `status.observedGeneration >= metadata.generation`) |
//! |---|---|
//! | Deployment | `updatedReplicas >= spec.replicas` (default 1), no old replicas left (`replicas <= updatedReplicas`), `availableReplicas >= updatedReplicas`; `Progressing=False` with `ProgressDeadlineExceeded` is [`Rollout::Stalled`] |
//! | StatefulSet, `RollingUpdate` | `readyReplicas >= spec.replicas`, then with a `partition`: `updatedReplicas >= replicas - partition`; without one: `updateRevision == currentRevision` |
//! | StatefulSet, `OnDelete` | `readyReplicas >= spec.replicas` (see below) |
//! | DaemonSet | `updatedNumberScheduled >= desiredNumberScheduled` (`RollingUpdate` only) and `numberAvailable >= desiredNumberScheduled` |
//!
//! The comparisons are kubectl's (`<` means waiting), so a scale-down in flight, where the
//! status briefly counts more updated pods than the spec wants, is complete as kubectl says.
//!
//! **`OnDelete`.** kubectl refuses to track an `OnDelete` StatefulSet or DaemonSet ("rollout
//! status is only available for RollingUpdate strategy type"): its pods move to a new
//! revision only when someone deletes them, so waiting for the revision would wait forever.
//! Here such a rollout is complete once the controller observed the newest generation and
//! every wanted pod is Ready (StatefulSet) or available (DaemonSet), whatever revision runs.
//!
//! A missing `status` (the controller has not looked yet) is waiting, never complete.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::k8s::K8sObservation;

/// How a workload's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Finished: every wanted pod runs the newest spec and is available. The text is
    /// kubectl's success line (`deployment "web" successfully rolled out`).
    Complete(String),
    /// Still going (or not observed yet); the text says what it waits for, as kubectl does.
    Waiting(String),
    /// A Deployment past its progress deadline (`Progressing=False`): it will not finish by
    /// itself. The text is `REASON: message` of the condition.
    Stalled(String),
}

impl Rollout {
    /// True for [`Rollout::Complete`].
    pub fn is_complete(&self) -> bool {
        matches!(self, Self::Complete(_))
    }

    /// The words: kubectl's line for this state.
    pub fn text(&self) -> &str {
        match self {
            Self::Complete(t) | Self::Waiting(t) | Self::Stalled(t) => t,
        }
    }

    /// `complete`, `waiting` or `stalled`.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Complete(_) => "complete",
            Self::Waiting(_) => "waiting",
            Self::Stalled(_) => "stalled",
        }
    }
}

fn observed(meta: &ObjectMeta, observed_generation: Option<i64>) -> bool {
    observed_generation.is_some_and(|o| o >= meta.generation.unwrap_or(0))
}

fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

fn not_observed(kind: &str) -> Rollout {
    Rollout::Waiting(format!("Waiting for {kind} spec update to be observed..."))
}

/// A Deployment's rollout, as `kubectl rollout status deployment/NAME` decides it.
pub fn deployment(d: &Deployment) -> Rollout {
    let n = name(&d.metadata);
    let Some(st) = d.status.as_ref() else {
        return not_observed("deployment");
    };
    if !observed(&d.metadata, st.observed_generation) {
        return not_observed("deployment");
    }
    if let Some(c) = st.conditions.iter().flatten().find(|c| {
        c.type_.as_deref() == Some("Progressing")
            && (c.reason.as_deref() == Some("ProgressDeadlineExceeded")
                || c.status.as_deref() == Some("False"))
    }) {
        let reason = c.reason.as_deref().unwrap_or("ProgressDeadlineExceeded");
        return Rollout::Stalled(match c.message.as_deref() {
            Some(m) => format!("{reason}: {m}"),
            None => format!("{reason}: deployment {n:?} exceeded its progress deadline"),
        });
    }
    let want = d.spec.replicas.unwrap_or(1);
    let updated = st.updated_replicas.unwrap_or(0);
    let replicas = st.replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < want {
        return Rollout::Waiting(format!(
            "Waiting for deployment {n:?} rollout to finish: {updated} out of {want} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return Rollout::Waiting(format!(
            "Waiting for deployment {n:?} rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return Rollout::Waiting(format!(
            "Waiting for deployment {n:?} rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    Rollout::Complete(format!("deployment {n:?} successfully rolled out"))
}

/// A StatefulSet's rollout, as `kubectl rollout status statefulset/NAME` decides it, with
/// `OnDelete` read as the module says.
pub fn statefulset(s: &StatefulSet) -> Rollout {
    let Some(st) = s.status.as_ref() else {
        return not_observed("statefulset");
    };
    // kubectl also treats observedGeneration 0 as "not observed".
    if st.observed_generation.unwrap_or(0) == 0 || !observed(&s.metadata, st.observed_generation) {
        return not_observed("statefulset");
    }
    let want = s.spec.replicas.unwrap_or(1);
    let ready = st.ready_replicas.unwrap_or(0);
    if ready < want {
        return Rollout::Waiting(format!("Waiting for {} pods to be ready...", want - ready));
    }
    let strategy = s.spec.update_strategy.as_ref();
    if strategy.and_then(|u| u.type_.as_deref()) == Some("OnDelete") {
        return Rollout::Complete(format!(
            "statefulset {:?}: {ready} of {want} pods Ready (OnDelete: pods change revision only when deleted)",
            name(&s.metadata)
        ));
    }
    let updated = st.updated_replicas.unwrap_or(0);
    if let Some(partition) = strategy
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
    {
        let target = want - partition;
        if updated < target {
            return Rollout::Waiting(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {target} new pods have been updated..."
            ));
        }
        return Rollout::Complete(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        ));
    }
    let revision = st.update_revision.as_deref().unwrap_or("");
    if st.current_revision.as_deref().unwrap_or("") != revision {
        return Rollout::Waiting(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {revision}..."
        ));
    }
    Rollout::Complete(format!(
        "statefulset rolling update complete {ready} pods at revision {revision}..."
    ))
}

/// A DaemonSet's rollout, as `kubectl rollout status daemonset/NAME` decides it, with
/// `OnDelete` read as the module says.
pub fn daemonset(d: &DaemonSet) -> Rollout {
    let n = name(&d.metadata);
    let Some(st) = d.status.as_ref() else {
        return not_observed("daemon set");
    };
    if !observed(&d.metadata, st.observed_generation) {
        return not_observed("daemon set");
    }
    let on_delete = d
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete");
    let want = st.desired_number_scheduled;
    let updated = st.updated_number_scheduled.unwrap_or(0);
    let available = st.number_available.unwrap_or(0);
    if !on_delete && updated < want {
        return Rollout::Waiting(format!(
            "Waiting for daemon set {n:?} rollout to finish: {updated} out of {want} new pods have been updated..."
        ));
    }
    if available < want {
        return Rollout::Waiting(format!(
            "Waiting for daemon set {n:?} rollout to finish: {available} of {want} updated pods are available..."
        ));
    }
    Rollout::Complete(format!("daemon set {n:?} successfully rolled out"))
}

/// Only what the rollout decision and the gate read: name, namespace, uid, generation,
/// labels and lastmile's `lastmile.dev/*` annotations (the CI run).
fn compact_meta(m: &ObjectMeta) -> ObjectMeta {
    let annotations = m.annotations.as_ref().map(|a| {
        a.iter()
            .filter(|(k, _)| k.starts_with("lastmile.dev/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    });
    ObjectMeta {
        name: m.name.clone(),
        namespace: m.namespace.clone(),
        uid: m.uid.clone(),
        generation: m.generation,
        labels: m.labels.clone(),
        annotations: annotations.filter(|a| !a.is_empty()),
        ..ObjectMeta::default()
    }
}

/// A Deployment as its rollout observation carries it: the compact metadata, `spec.replicas`
/// and `spec.strategy`, the whole status; no pod template.
pub fn compact_deployment(d: &Deployment) -> Deployment {
    Deployment {
        metadata: compact_meta(&d.metadata),
        spec: k8s_openapi::api::apps::v1::DeploymentSpec {
            replicas: d.spec.replicas,
            strategy: d.spec.strategy.clone(),
            ..Default::default()
        },
        status: d.status.clone(),
    }
}

/// A StatefulSet as its rollout observation carries it: `spec.replicas` and
/// `spec.updateStrategy` (type, partition), the whole status; no pod template.
pub fn compact_statefulset(s: &StatefulSet) -> StatefulSet {
    StatefulSet {
        metadata: compact_meta(&s.metadata),
        spec: k8s_openapi::api::apps::v1::StatefulSetSpec {
            replicas: s.spec.replicas,
            update_strategy: s.spec.update_strategy.clone(),
            ..Default::default()
        },
        status: s.status.clone(),
    }
}

/// A DaemonSet as its rollout observation carries it: `spec.updateStrategy`, the whole
/// status; no pod template.
pub fn compact_daemonset(d: &DaemonSet) -> DaemonSet {
    DaemonSet {
        metadata: compact_meta(&d.metadata),
        spec: k8s_openapi::api::apps::v1::DaemonSetSpec {
            update_strategy: d.spec.update_strategy.clone(),
            ..Default::default()
        },
        status: d.status.clone(),
    }
}

impl K8sObservation {
    /// The rollout decision for a Deployment, StatefulSet or DaemonSet observation, with
    /// the object's metadata; `None` for other kinds.
    pub fn rollout(&self) -> Option<(&ObjectMeta, Rollout)> {
        match self {
            Self::Deployment(d) => Some((&d.metadata, deployment(d))),
            Self::StatefulSet(s) => Some((&s.metadata, statefulset(s))),
            Self::DaemonSet(d) => Some((&d.metadata, daemonset(d))),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
