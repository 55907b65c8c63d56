//! Rollouts that stop progressing: a Deployment whose `Progressing` condition is `False`
//! (reason `ProgressDeadlineExceeded`, what `kubectl rollout status` times out on) is a
//! Runtime incident keyed per Deployment: the same key as the incident its crash-looping or
//! never-Ready pods raise, so it is diagnosed through those pods when they are suspects, and
//! stays open while the controller says the rollout is stuck even when none is.

use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::Deployment;
use lastmile_events::{Incident, IncidentFamily, ObjectRef};

use super::Tracker;

fn deployment_ref(d: &Deployment) -> ObjectRef {
    ObjectRef {
        kind: "Deployment".into(),
        namespace: d.metadata.namespace.clone(),
        name: d.metadata.name.clone().unwrap_or_default(),
        uid: d.metadata.uid.clone(),
        field_path: None,
    }
}

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

impl Tracker {
    /// A Deployment was added or changed: a stalled rollout opens (or keeps open) its
    /// Runtime incident; a progressing one no longer holds it open.
    pub fn observe_deployment(&mut self, d: &Deployment, now: DateTime<Utc>) -> Vec<Incident> {
        let dref = deployment_ref(d);
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
        let dref = ObjectRef {
            kind: "Deployment".into(),
            namespace: Some(namespace.into()),
            name: name.into(),
            ..Default::default()
        };
        let why = format!("Deployment {namespace}/{name} was deleted");
        self.resolve_owned(&dref, &why, now);
        self.flush(now)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use lastmile_events::IncidentStatus;

    use super::*;
    use crate::TrackerConfig;

    fn deployment(progressing: &str, reason: &str) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "checkout", "namespace": "shop", "uid": "d-1", "generation": 4},
            "spec": {"progressDeadlineSeconds": 600, "selector": {"matchLabels": {"app": "checkout"}},
                     "template": {"metadata": {"labels": {"app": "checkout"}}, "spec": {"containers": [{"name": "checkout", "image": "registry.example.com/shop/checkout:2.3.0"}]}}},
            "status": {
                "observedGeneration": 4, "replicas": 4, "updatedReplicas": 1, "readyReplicas": 3, "unavailableReplicas": 1,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                    {"type": "Progressing", "status": progressing, "reason": reason,
                     "message": "ReplicaSet \"checkout-6d9f7b8c5\" has timed out progressing."}
                ]
            }
        }))
        .unwrap()
    }

    fn at(min: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 3, 1, 10, min, 0).unwrap()
    }

    #[test]
    fn progress_deadline_exceeded_is_one_runtime_incident_per_deployment_until_it_progresses() {
        let mut t = Tracker::new(TrackerConfig {
            first_publish_wait: Duration::ZERO,
            ..Default::default()
        });
        assert!(
            t.observe_deployment(&deployment("True", "ReplicaSetUpdated"), at(1))
                .is_empty()
        );
        let out = t.observe_deployment(&deployment("False", "ProgressDeadlineExceeded"), at(11));
        assert_eq!(out.len(), 1, "{out:#?}");
        let inc = &out[0];
        assert_eq!(inc.family, IncidentFamily::Runtime);
        let owner = inc.owner.as_ref().unwrap();
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Deployment", "checkout")
        );
        // The same key its pods' Runtime incident would have.
        let pod = ObjectRef {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: "checkout-6d9f7b8c5-7xk2q".into(),
            ..Default::default()
        };
        assert_eq!(
            inc.key,
            Incident::key_for(IncidentFamily::Runtime, &pod, Some(owner))
        );
        let out = t.observe_deployment(&deployment("True", "NewReplicaSetAvailable"), at(15));
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].status, IncidentStatus::Resolved);
    }

    #[test]
    fn a_condition_about_an_older_generation_is_not_a_stuck_rollout() {
        let mut d = deployment("False", "ProgressDeadlineExceeded");
        d.metadata.generation = Some(5);
        assert_eq!(rollout_stuck(&d), None);
        d.metadata.generation = Some(4);
        assert!(
            rollout_stuck(&d)
                .unwrap()
                .starts_with("ProgressDeadlineExceeded: ReplicaSet \"checkout-6d9f7b8c5\"")
        );
    }
}
