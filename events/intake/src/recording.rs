//! What one document yields: incidents, the cluster state they share, what was ignored.

use std::collections::HashSet;
use std::sync::Arc;

use lastmile_events::{ClusterSnapshot, Incident};

use crate::document::Objects;
use crate::group;
use crate::lenient::Ignored;

/// The incidents of one document and the cluster state they reason against.
///
/// The cluster state is held once and shared ([`Arc`]): a document of thousands of pods and
/// hundreds of stuck ones costs one copy of the pods, not one per incident. The incidents'
/// own `snapshot` fields stay empty (except for a CloudEvent incident, which carries its
/// own); [`Recording::cluster_for`] gives the state each one should see.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The incidents, ordered by family then key.
    pub incidents: Vec<Incident>,
    /// Every cluster object of the document (nodes, all pods, quotas, limit ranges, volumes,
    /// storage classes); empty for a CloudEvent.
    pub cluster: Arc<ClusterSnapshot>,
    /// Fields and objects intake could not read, in document order.
    pub ignored: Vec<Ignored>,
    /// Per incident, the indices in `cluster.pods` of the stuck pods it stands for.
    own_pods: Vec<Vec<usize>>,
}

impl Recording {
    /// Incidents that carry their own snapshot (a CloudEvent's, one built from text), with
    /// no shared cluster state.
    pub fn carrying(incidents: Vec<Incident>) -> Self {
        Self {
            own_pods: vec![Vec::new(); incidents.len()],
            incidents,
            ..Self::default()
        }
    }

    pub(crate) fn from_objects(mut objects: Objects) -> Self {
        let found = group::incidents(&objects);
        let ignored = std::mem::take(&mut objects.ignored);
        let (incidents, own_pods) = found.into_iter().map(|f| (f.incident, f.pods)).unzip();
        Self {
            incidents,
            cluster: Arc::new(objects.into_cluster()),
            ignored,
            own_pods,
        }
    }

    /// The cluster state incident `i` reasons against: the shared one, or `None` when the
    /// document holds nothing but the incident's own stuck pods (a lone pod says nothing
    /// about the cluster; the incident's own `snapshot` then stands).
    pub fn cluster_for(&self, i: usize) -> Option<Arc<ClusterSnapshot>> {
        let c = &self.cluster;
        let own = self.own_pods.get(i).map_or(0, Vec::len);
        let only_own = c.pods.len() == own
            && c.nodes.is_empty()
            && c.resource_quotas.is_empty()
            && c.limit_ranges.is_empty()
            && c.pvcs.is_empty()
            && c.pvs.is_empty()
            && c.storage_classes.is_empty()
            && c.services.is_empty()
            && c.endpoint_slices.is_empty()
            && c.configs.is_empty();
        (!only_own).then(|| Arc::clone(c))
    }

    /// The incidents, each with its own copy of the cluster state minus its own stuck pods
    /// in `snapshot` (a CloudEvent's incident keeps the snapshot it carries). Copies the
    /// cluster once per incident: for small recordings and tests.
    pub fn into_incidents_with_snapshots(self) -> Vec<Incident> {
        let Self {
            mut incidents,
            cluster,
            own_pods,
            ..
        } = self;
        for (incident, own) in incidents.iter_mut().zip(&own_pods) {
            if cluster.is_empty() {
                continue;
            }
            let own: HashSet<usize> = own.iter().copied().collect();
            let mut snapshot = ClusterSnapshot {
                taken_at: None,
                pods: cluster
                    .pods
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !own.contains(i))
                    .map(|(_, p)| p.clone())
                    .collect(),
                ..without_pods(&cluster)
            };
            if !snapshot.is_empty() {
                snapshot.taken_at = cluster.taken_at;
            }
            incident.snapshot = snapshot.into();
        }
        incidents
    }
}

/// A copy of everything but the pods.
fn without_pods(c: &ClusterSnapshot) -> ClusterSnapshot {
    ClusterSnapshot {
        taken_at: c.taken_at,
        nodes: c.nodes.clone(),
        pods: Vec::new(),
        resource_quotas: c.resource_quotas.clone(),
        limit_ranges: c.limit_ranges.clone(),
        pvcs: c.pvcs.clone(),
        pvs: c.pvs.clone(),
        storage_classes: c.storage_classes.clone(),
        services: c.services.clone(),
        endpoint_slices: c.endpoint_slices.clone(),
        configs: c.configs.clone(),
    }
}
