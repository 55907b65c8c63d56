//! The per-node check: every block of every node, not only the first (see the module
//! docs of `fit`).

use super::prepare::{Prepared, prepare};
use super::{Block, PodNeeds};
use crate::index::{NodeView, SnapshotIndex};
use crate::quantity::Quantity;
use crate::selectors::untolerated;

/// One node's verdict.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeCheck {
    /// Everything that blocks the pod here, sorted; empty when it fits.
    pub blocks: Vec<Block>,
    /// For each insufficient resource: how much more the pod needs than is free.
    pub short: Vec<(String, Quantity)>,
}

fn ports_conflict(want: &(String, i32, String), used: &(String, i32, String)) -> bool {
    want.0 == used.0
        && want.1 == used.1
        && (want.2 == used.2 || want.2 == "0.0.0.0" || used.2 == "0.0.0.0")
}

fn check_node(
    needs: &PodNeeds<'_>,
    prep: &Prepared<'_>,
    index: &SnapshotIndex<'_>,
    i: usize,
    n: &NodeView<'_>,
) -> NodeCheck {
    let mut out = NodeCheck::default();
    if n.unschedulable {
        out.blocks.push(Block::Unschedulable);
    }
    // A cordoned node also carries `node.kubernetes.io/unschedulable`: one fact, one block.
    let taints: Vec<_> = if n.unschedulable {
        n.taints
            .iter()
            .filter(|t| t.key != "node.kubernetes.io/unschedulable")
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let taints = if n.unschedulable {
        taints.as_slice()
    } else {
        n.taints
    };
    if let Some(t) = untolerated(taints, needs.tolerations()) {
        out.blocks.push(Block::Taint {
            key: t.key.clone(),
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.clone(),
        });
    }
    if let Some((k, v)) = prep
        .node_selector
        .as_ref()
        .and_then(|s| s.first_mismatch(&index.labels, n.label_set))
    {
        out.blocks.push(Block::NodeSelector {
            key: k.to_owned(),
            value: v.to_owned(),
        });
    }
    if prep.affinity_ok.get(i) == Some(&false) {
        out.blocks.push(Block::NodeAffinity);
    }
    if let Some(p) = needs
        .host_ports
        .iter()
        .find(|want| n.ports.iter().any(|used| ports_conflict(want, used)))
    {
        out.blocks.push(Block::HostPort { port: p.1 });
    }
    for (res, want, column) in &prep.resources {
        let free = column
            .and_then(|c| c.get(i).copied())
            .unwrap_or(Quantity::ZERO);
        if *want > free {
            out.blocks.push(Block::Insufficient {
                resource: (*res).to_owned(),
            });
            out.short.push(((*res).to_owned(), *want - free));
        }
    }
    for (pv, sel) in &prep.pv_affinity {
        if !sel.matches(&index.labels, n.label_set, n.name) {
            out.blocks
                .push(Block::VolumeNodeAffinity { pv: pv.clone() });
        }
    }
    for d in &prep.anti {
        if d.holds(index, n) {
            out.blocks.push(Block::AntiAffinity {
                topology_key: d.key.clone(),
            });
        }
    }
    for (d, self_match) in &prep.affinity {
        let ok = match d.of(index, n) {
            Some(v) => d.values.contains(&v) || (d.values.is_empty() && *self_match),
            None => false,
        };
        if !ok {
            out.blocks.push(Block::Affinity {
                topology_key: d.key.clone(),
            });
        }
    }
    for d in &prep.existing_anti {
        if d.holds(index, n) {
            out.blocks.push(Block::ExistingAntiAffinity {
                topology_key: d.key.clone(),
            });
        }
    }
    for d in &prep.spread {
        if d.of(index, n).is_none() {
            out.blocks.push(Block::TopologySpread {
                topology_key: d.key.clone(),
                missing_label: true,
            });
        } else if d.holds(index, n) {
            out.blocks.push(Block::TopologySpread {
                topology_key: d.key.clone(),
                missing_label: false,
            });
        }
    }
    out.blocks.sort();
    out.blocks.dedup();
    out
}

/// The verdict for every node.
#[derive(Debug, Clone)]
pub struct FitReport {
    /// One check per node, in index order.
    pub nodes: Vec<NodeCheck>,
}

impl FitReport {
    /// Indices of nodes where the pod fits now.
    pub fn fitting(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.blocks.is_empty())
            .map(|(i, _)| i)
            .collect()
    }
}

/// Checks the pod against every node of the index.
pub fn check_all(needs: &PodNeeds<'_>, index: &SnapshotIndex<'_>) -> FitReport {
    let prep = prepare(needs, index);
    FitReport {
        nodes: index
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| check_node(needs, &prep, index, i, n))
            .collect(),
    }
}
