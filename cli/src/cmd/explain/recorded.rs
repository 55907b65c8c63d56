//! The cluster state of recorded documents, shared by every incident they hold.
//!
//! Intake keeps one copy of a document's cluster objects ([`lastmile_intake::Recording`]);
//! this view hands that one copy ([`Arc`]) to the functions through the [`ClusterView`] they
//! already ask, as the watcher's live view does. Nothing is copied per incident, so a
//! document of thousands of pods with hundreds stuck costs one copy of the pods.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use lastmile_contract::ClusterView;
use lastmile_events::{ClusterSnapshot, Incident};
use lastmile_intake::Recording;

/// Incident key → the cluster state its document recorded.
#[derive(Debug, Default)]
pub struct RecordedCluster {
    by_key: HashMap<String, Arc<ClusterSnapshot>>,
}

impl RecordedCluster {
    /// Adds the incidents of `recording`, with `extra` cluster state (a `--snapshot` file)
    /// merged into what they see. Returns the incidents; an incident whose document records
    /// no cluster state of its own keeps `extra` in its own snapshot.
    pub fn add(
        &mut self,
        mut recording: Recording,
        extra: Option<&ClusterSnapshot>,
    ) -> Vec<Incident> {
        let shares: Vec<bool> = (0..recording.incidents.len())
            .map(|i| recording.cluster_for(i).is_some())
            .collect();
        if let Some(extra) = extra
            && shares.contains(&true)
        {
            lastmile_intake::merge_snapshot(Arc::make_mut(&mut recording.cluster), extra);
        }
        let mut incidents = recording.incidents;
        for (incident, shares) in incidents.iter_mut().zip(shares) {
            if shares {
                self.by_key
                    .insert(incident.key.clone(), Arc::clone(&recording.cluster));
            } else if let Some(extra) = extra {
                lastmile_intake::merge_snapshot(
                    std::sync::Arc::make_mut(&mut incident.snapshot),
                    extra,
                );
            }
        }
        incidents
    }
}

#[async_trait]
impl ClusterView for RecordedCluster {
    async fn snapshot(&self, incident: &Incident) -> Option<Arc<ClusterSnapshot>> {
        self.by_key.get(&incident.key).cloned()
    }
}
