//! Correlation: which CI run deployed a workload.
//!
//! Two sources, strongest first:
//! 1. annotations or labels the pipeline puts on what it deploys
//!    ([`lastmile_events::facts::annotations`], read where incidents open);
//! 2. the CI system's deploy events ([`CiEventKind::DeployRequested`]), which list the
//!    workloads and images a run deploys: [`Correlator`] remembers them (bounded) and links
//!    an incident by owner workload, then by image reference.

use std::collections::{HashMap, VecDeque};

use lastmile_events::facts::workload_key;
use lastmile_events::{CiEvent, CiEventKind, CiRunRef, Incident, ObjectRef};

/// Remembers recent deploy events and links incidents to the run that deployed them.
#[derive(Debug)]
pub struct Correlator {
    by_workload: HashMap<String, CiRunRef>,
    by_image: HashMap<String, CiRunRef>,
    order: VecDeque<(bool, String)>,
    capacity: usize,
}

impl Correlator {
    /// Keeps at most `capacity` workload and image links (oldest forgotten first).
    pub fn new(capacity: usize) -> Self {
        Self {
            by_workload: HashMap::new(),
            by_image: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn remember(&mut self, is_image: bool, key: String, run: &CiRunRef) {
        let map = if is_image {
            &mut self.by_image
        } else {
            &mut self.by_workload
        };
        if map.insert(key.clone(), run.clone()).is_none() {
            self.order.push_back((is_image, key));
        }
        while self.order.len() > self.capacity {
            if let Some((img, k)) = self.order.pop_front() {
                if img {
                    self.by_image.remove(&k);
                } else {
                    self.by_workload.remove(&k);
                }
            }
        }
    }

    /// Learns from a CI event; only deploy events carry workloads.
    pub fn learn(&mut self, ev: &CiEvent) {
        if ev.kind != CiEventKind::DeployRequested {
            return;
        }
        for w in &ev.workloads {
            self.remember(false, workload_key(&w.kind, &w.namespace, &w.name), &ev.run);
            for image in &w.images {
                self.remember(true, image.clone(), &ev.run);
            }
        }
    }

    /// The run that deployed `obj`, if a deploy event named it.
    pub fn run_for(&self, obj: &ObjectRef) -> Option<&CiRunRef> {
        self.by_workload.get(&workload_key(
            &obj.kind,
            obj.namespace.as_deref().unwrap_or(""),
            &obj.name,
        ))
    }

    /// Sets `incident.ci` when it is not set yet: by owner, subject, then container image.
    pub fn link(&self, incident: &mut Incident) {
        if incident.ci.is_some() {
            return;
        }
        let by_obj = incident
            .owner
            .as_ref()
            .and_then(|o| self.run_for(o))
            .or_else(|| self.run_for(&incident.subject));
        let by_image = || {
            let spec = incident.pod.as_ref()?.spec.as_ref()?;
            spec.containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
                .filter_map(|c| c.image.as_ref())
                .find_map(|img| self.by_image.get(img))
        };
        incident.ci = by_obj.or_else(by_image).cloned();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use lastmile_events::{CiProvider, DeployedWorkload, IncidentFamily};

    #[test]
    fn deploy_event_links_incident_by_owner_then_image() {
        let run = CiRunRef {
            provider: CiProvider::Github,
            run_id: "77".into(),
            pipeline: None,
            url: None,
            commit: None,
            traceparent: None,
        };
        let ev = CiEvent {
            kind: CiEventKind::DeployRequested,
            run: run.clone(),
            job: None,
            workloads: vec![DeployedWorkload {
                kind: "Job".into(),
                namespace: "ci".into(),
                name: "migrate".into(),
                images: vec!["ghcr.io/acme/api:2.0".into()],
            }],
            at: chrono::Utc::now(),
        };
        let mut c = Correlator::new(16);
        c.learn(&ev);
        let pod = ObjectRef {
            kind: "Pod".into(),
            namespace: Some("ci".into()),
            name: "migrate-x".into(),
            ..Default::default()
        };
        let job = ObjectRef {
            kind: "Job".into(),
            namespace: Some("ci".into()),
            name: "migrate".into(),
            ..Default::default()
        };
        let mut inc = Incident::new(
            IncidentFamily::Pending,
            pod.clone(),
            Some(job),
            chrono::Utc::now(),
        );
        c.link(&mut inc);
        assert_eq!(inc.ci.as_ref().map(|r| r.run_id.as_str()), Some("77"));

        let mut other = Incident::new(IncidentFamily::ImagePull, pod, None, chrono::Utc::now());
        other.pod = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "api", "image": "ghcr.io/acme/api:2.0"}]}})).ok();
        c.link(&mut other);
        assert_eq!(other.ci.map(|r| r.run_id), Some("77".into()));
    }

    #[test]
    fn correlator_forgets_oldest_beyond_capacity() {
        let run = CiRunRef {
            provider: CiProvider::Generic,
            run_id: "1".into(),
            pipeline: None,
            url: None,
            commit: None,
            traceparent: None,
        };
        let mut c = Correlator::new(2);
        for n in ["a", "b", "c"] {
            c.learn(&CiEvent {
                kind: CiEventKind::DeployRequested,
                run: run.clone(),
                job: None,
                workloads: vec![DeployedWorkload {
                    kind: "Job".into(),
                    namespace: "ns".into(),
                    name: n.into(),
                    images: vec![],
                }],
                at: chrono::Utc::now(),
            });
        }
        let r = |n: &str| ObjectRef {
            kind: "Job".into(),
            namespace: Some("ns".into()),
            name: n.into(),
            ..Default::default()
        };
        assert!(c.run_for(&r("a")).is_none());
        assert!(c.run_for(&r("c")).is_some());
    }
}
