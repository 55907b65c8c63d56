//! Nodes grouped by (blocks, pool, shape), so that causes speak of groups and counts.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{Block, FitReport, PodNeeds};
use crate::index::SnapshotIndex;
use crate::quantity::Quantity;

/// Nodes with the same blocks, pool and shape.
#[derive(Debug, Clone, Serialize)]
pub struct NodeGroup {
    /// What blocks them (empty: the pod fits).
    pub blocks: Vec<Block>,
    /// Pool / node group (`""` when unknown).
    pub pool: String,
    /// Where these nodes come from, for provider-specific advice.
    pub provider: crate::index::Provider,
    /// Allocatable shape.
    pub shape: String,
    /// How many nodes.
    pub count: usize,
    /// Up to three node names.
    pub sample: Vec<String>,
    /// For each requested resource: the most free on any node of the group.
    pub max_free: BTreeMap<String, String>,
    #[serde(skip)]
    /// Same as `max_free`, as quantities.
    pub max_free_q: BTreeMap<String, Quantity>,
}

/// Groups nodes by (blocks, pool, shape); largest groups first.
pub fn group(
    report: &FitReport,
    index: &SnapshotIndex<'_>,
    needs: &PodNeeds<'_>,
) -> Vec<NodeGroup> {
    let mut by_key: HashMap<(&[Block], usize), usize> = HashMap::new();
    let mut groups: Vec<NodeGroup> = Vec::new();
    let columns: Vec<_> = needs
        .requests
        .total
        .keys()
        .map(|r| (r, index.free_column(r)))
        .collect();
    for (i, check) in report.nodes.iter().enumerate() {
        let n = &index.nodes[i];
        let key = (check.blocks.as_slice(), n.kind_id);
        let g = match by_key.get(&key) {
            Some(&g) => g,
            None => {
                groups.push(NodeGroup {
                    blocks: check.blocks.clone(),
                    pool: n.pool.to_owned(),
                    provider: n.provider,
                    shape: n.shape.clone(),
                    count: 0,
                    sample: Vec::new(),
                    max_free: BTreeMap::new(),
                    max_free_q: BTreeMap::new(),
                });
                by_key.insert(key, groups.len() - 1);
                groups.len() - 1
            }
        };
        let grp = &mut groups[g];
        grp.count += 1;
        if grp.sample.len() < 3 {
            grp.sample.push(n.name.to_owned());
        }
        for (res, column) in &columns {
            let free = column
                .and_then(|c| c.get(i).copied())
                .unwrap_or(Quantity::ZERO);
            match grp.max_free_q.get_mut(*res) {
                Some(e) if free > *e => *e = free,
                Some(_) => {}
                None => {
                    grp.max_free_q.insert((*res).clone(), free);
                }
            }
        }
    }
    for g in &mut groups {
        g.max_free = g
            .max_free_q
            .iter()
            .map(|(k, v)| (k.clone(), v.display_for(k)))
            .collect();
    }
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.pool.cmp(&b.pool)));
    groups
}
