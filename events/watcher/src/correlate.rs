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
            let spec = incident.pod.as_deref()?.spec.as_ref()?;
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
mod tests;
