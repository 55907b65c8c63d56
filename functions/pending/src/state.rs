//! Diagnosis from cluster state: node groups, volumes, quota and LimitRange arithmetic.
//!
//! Every cause names the node groups it stands for (counts, never node lists) and the
//! smallest change that would let the pod run, computed from the numbers.

mod admission;
mod nodes;
mod placement;
mod volumes;

use lastmile_events::{Class, Remediation};
use serde_json::Value;

pub use admission::{limit_range_causes, quota_causes};

use crate::fit::{NodeGroup, PodNeeds, check_all, group};
use crate::index::SnapshotIndex;
use crate::remedy::Workload;
use nodes::node_causes;
use volumes::volume_causes;

/// One cause, before it becomes a [`lastmile_events::Diagnosis`].
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// The failure class this cause stands for.
    pub class: Class,
    /// How sure, 0..1.
    pub confidence: f64,
    /// One sentence.
    pub summary: String,
    /// The facts it rests on (node groups, arithmetic, quoted messages, value origins).
    pub evidence: Vec<String>,
    /// Steps that would let the pod run, smallest first.
    pub remediation: Vec<Remediation>,
    /// Waiting cannot fix it.
    pub definitive: bool,
    /// Structured details (node groups, arithmetic).
    pub details: Value,
}

impl Cause {
    fn new(class: Class, confidence: f64, summary: impl Into<String>, definitive: bool) -> Self {
        Self {
            class,
            confidence,
            summary: summary.into(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            definitive,
            details: Value::Null,
        }
    }
}

/// The result of checking the pod against the snapshot.
#[derive(Debug, Clone)]
pub struct StateAnalysis {
    /// Causes, most likely first.
    pub causes: Vec<Cause>,
    /// Node groups (all nodes), largest first.
    pub groups: Vec<NodeGroup>,
    /// Nodes where the pod fits now.
    pub fitting: usize,
    /// Nodes checked.
    pub nodes: usize,
}

/// At most this many groups go into details/evidence.
pub const MAX_GROUPS: usize = 20;

/// Analyses the pod against the indexed snapshot.
pub fn analyse(
    needs: &PodNeeds<'_>,
    index: &SnapshotIndex<'_>,
    workload: &Workload,
) -> StateAnalysis {
    let mut causes = Vec::new();
    if let Some(gates) = needs
        .spec
        .scheduling_gates
        .as_ref()
        .filter(|g| !g.is_empty())
    {
        let names: Vec<&str> = gates.iter().map(|g| g.name.as_str()).collect();
        let mut c = Cause::new(
            Class::Gated,
            0.95,
            format!(
                "the pod is held by scheduling gate(s) {}; the scheduler ignores it until they are removed",
                names.join(", ")
            ),
            false,
        );
        c.evidence
            .push(format!("spec.schedulingGates: [{}]", names.join(", ")));
        c.remediation.push(Remediation {
            description: "remove the gates once whatever owns them (a queue controller such as Kueue) is satisfied; removing them by hand bypasses that controller".into(),
            command: Some(format!("kubectl patch pod {} -n {} --type=json -p '[{{\"op\":\"remove\",\"path\":\"/spec/schedulingGates\"}}]'", needs.name, needs.namespace)),
        });
        causes.push(c);
    }
    causes.extend(volume_causes(needs, index));
    let report = check_all(needs, index);
    let groups = group(&report, index, needs);
    let fitting = report.fitting().len();
    if index.nodes.is_empty() && !index.snapshot.pods.is_empty() {
        let mut c = Cause::new(
            Class::NoNodes,
            0.7,
            "the cluster snapshot holds no nodes: there is nothing to schedule on",
            false,
        );
        c.evidence.push("snapshot: 0 nodes".into());
        c.remediation.push(Remediation {
            description: "add nodes (or check that the node pool / autoscaler is running)".into(),
            command: Some("kubectl get nodes -o wide".into()),
        });
        causes.push(c);
    } else if fitting == 0 && !index.nodes.is_empty() {
        causes.extend(node_causes(needs, index, &report, &groups, workload));
    }
    causes.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    StateAnalysis {
        causes,
        groups,
        fitting,
        nodes: index.nodes.len(),
    }
}
