//! An indexed cluster snapshot: per-node free capacity, used host ports and bound pods,
//! computed once so that each pending pod is checked against thousands of nodes quickly.
//!
//! The index borrows the snapshot (no copies of objects); per-node sums are computed in
//! one pass over the pods.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{
    LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota, Taint,
};
use k8s_openapi::api::storage::v1::StorageClass;
use lastmile_events::ClusterSnapshot;

use crate::labels::{LabelSet, LabelTable};
use crate::quantity::Quantity;
use crate::resources::{Res, add_into, admitted_pod_requests, to_res};
use crate::selectors::Labels;

static EMPTY_LABELS: std::sync::LazyLock<Labels> = std::sync::LazyLock::new(Labels::new);

/// Where a node comes from, for provider-aware advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Google Kubernetes Engine.
    Gke,
    /// Amazon EKS.
    Eks,
    /// Azure AKS.
    Aks,
    /// Nodes launched by Karpenter (any cloud).
    Karpenter,
    /// kind / minikube / k3d and other local clusters.
    Local,
    /// Anything else.
    Other,
}

/// One node with what the scheduler needs.
#[derive(Debug, Clone)]
pub struct NodeView<'a> {
    /// The node's name.
    pub name: &'a str,
    /// `metadata.labels` (affinity and topology keys are read from them).
    pub labels: &'a Labels,
    /// The same labels, interned in [`SnapshotIndex::labels`].
    pub label_set: LabelSet,
    /// `spec.taints`.
    pub taints: &'a [Taint],
    /// `spec.unschedulable`.
    pub unschedulable: bool,
    /// `status.allocatable` (with `pods`).
    pub allocatable: Res,
    /// Sum of the effective requests of bound, non-terminal pods (with `pods`).
    pub requested: Res,
    /// `allocatable − requested` per allocatable resource, computed once at indexing.
    pub free: Res,
    /// Host ports in use: (protocol, port, host IP).
    pub ports: Vec<(String, i32, String)>,
    /// Node pool / node group / NodePool name, or `""`.
    pub pool: &'a str,
    /// Where the node comes from (GKE, EKS, AKS, Karpenter, local), read from its labels and provider ID.
    pub provider: Provider,
    /// Allocatable cpu and memory, e.g. `4 cpu, 15.5Gi memory`: nodes of one shape are grouped.
    pub shape: String,
    /// Dense id of the node's (pool, shape) pair, for cheap grouping.
    pub kind_id: usize,
}

impl NodeView<'_> {
    /// Free amount of `resource` (allocatable − requested; may be negative when overcommitted).
    pub fn free(&self, resource: &str) -> Quantity {
        match self.free.get(resource) {
            Some(f) => *f,
            None => Quantity::ZERO - self.requested.get(resource).copied().unwrap_or_default(),
        }
    }

    /// The topology value of `key` on this node.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

/// A pod bound to a node.
#[derive(Debug, Clone, Copy)]
pub struct BoundPod<'a> {
    /// The pod.
    pub pod: &'a Pod,
    /// Index into [`SnapshotIndex::nodes`].
    pub node: usize,
    /// The pod's namespace (inter-pod affinity and spread are namespace-scoped).
    pub namespace: &'a str,
    /// The pod's labels (what affinity and spread selectors match).
    pub labels: &'a Labels,
    /// The same labels, interned in [`SnapshotIndex::labels`].
    pub label_set: LabelSet,
}

/// The indexed snapshot.
#[derive(Debug, yoke::Yokeable)]
pub struct SnapshotIndex<'a> {
    /// The snapshot.
    pub snapshot: &'a ClusterSnapshot,
    /// Nodes, in snapshot order.
    pub nodes: Vec<NodeView<'a>>,
    /// Bound, non-terminal pods.
    pub bound: Vec<BoundPod<'a>>,
    /// Indices into `bound` that carry required pod anti-affinity.
    pub with_anti_affinity: Vec<usize>,
    /// The labels of every node and bound pod, interned.
    pub labels: LabelTable<'a>,
    /// Per resource name: free amount on each node (index order), as [`NodeView::free`].
    free_columns: HashMap<String, Vec<Quantity>>,
    node_by_name: HashMap<&'a str, usize>,
    bound_by_ns: HashMap<&'a str, Vec<usize>>,
    pvcs: HashMap<(&'a str, &'a str), &'a PersistentVolumeClaim>,
    pvs: HashMap<&'a str, &'a PersistentVolume>,
    storage_classes: HashMap<&'a str, &'a StorageClass>,
}

/// True for pods that no longer hold node resources.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn pool_of(labels: &Labels) -> &str {
    const KEYS: [&str; 8] = [
        "cloud.google.com/gke-nodepool",
        "eks.amazonaws.com/nodegroup",
        "alpha.eksctl.io/nodegroup-name",
        "kubernetes.azure.com/agentpool",
        "agentpool",
        "karpenter.sh/nodepool",
        "karpenter.sh/provisioner-name",
        "node.kubernetes.io/instance-type",
    ];
    KEYS.iter()
        .find_map(|k| labels.get(*k))
        .map_or("", String::as_str)
}

fn provider_of(node: &Node, labels: &Labels) -> Provider {
    let pid = node
        .spec
        .as_ref()
        .and_then(|s| s.provider_id.as_deref())
        .unwrap_or("");
    if labels.contains_key("karpenter.sh/nodepool")
        || labels.contains_key("karpenter.sh/provisioner-name")
    {
        Provider::Karpenter
    } else if pid.starts_with("gce://") || labels.contains_key("cloud.google.com/gke-nodepool") {
        Provider::Gke
    } else if labels.contains_key("eks.amazonaws.com/nodegroup")
        || (pid.starts_with("aws://") && labels.contains_key("alpha.eksctl.io/nodegroup-name"))
    {
        Provider::Eks
    } else if pid.starts_with("azure://") || labels.contains_key("kubernetes.azure.com/agentpool") {
        Provider::Aks
    } else if pid.starts_with("kind://")
        || pid.starts_with("k3s://")
        || labels.contains_key("minikube.k8s.io/name")
    {
        Provider::Local
    } else if pid.starts_with("aws://") {
        Provider::Eks
    } else {
        Provider::Other
    }
}

/// One column per resource any node allocates or any bound pod requests.
fn free_columns(nodes: &[NodeView<'_>]) -> HashMap<String, Vec<Quantity>> {
    let mut names: Vec<&str> = nodes
        .iter()
        .flat_map(|n| n.free.keys().chain(n.requested.keys()))
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|r| (r.to_owned(), nodes.iter().map(|n| n.free(r)).collect()))
        .collect()
}

impl<'a> SnapshotIndex<'a> {
    /// Indexes `snapshot`: one pass over nodes, one over pods.
    pub fn build(snapshot: &'a ClusterSnapshot) -> Self {
        let mut nodes = Vec::with_capacity(snapshot.nodes.len());
        let mut table = LabelTable::default();
        let mut node_by_name = HashMap::with_capacity(snapshot.nodes.len());
        for node in &snapshot.nodes {
            let name = node.metadata.name.as_deref().unwrap_or("");
            let labels = node.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS);
            let spec = node.spec.as_ref();
            let allocatable = to_res(
                node.status
                    .as_ref()
                    .and_then(|s| s.allocatable.as_ref().or(s.capacity.as_ref())),
            );
            let shape = format!(
                "{} cpu, {} memory",
                allocatable
                    .get("cpu")
                    .copied()
                    .unwrap_or_default()
                    .display_cpu(),
                allocatable
                    .get("memory")
                    .copied()
                    .unwrap_or_default()
                    .display_bytes()
            );
            node_by_name.insert(name, nodes.len());
            nodes.push(NodeView {
                name,
                labels,
                label_set: table.add(labels),
                taints: spec.and_then(|s| s.taints.as_deref()).unwrap_or(&[]),
                unschedulable: spec.and_then(|s| s.unschedulable).unwrap_or(false),
                allocatable,
                requested: Res::new(),
                free: Res::new(),
                ports: Vec::new(),
                pool: pool_of(labels),
                provider: provider_of(node, labels),
                shape,
                kind_id: 0,
            });
        }
        let mut bound = Vec::new();
        let mut with_anti_affinity = Vec::new();
        for pod in &snapshot.pods {
            let Some(spec) = pod.spec.as_ref() else {
                continue;
            };
            let Some(&idx) = spec.node_name.as_deref().and_then(|n| node_by_name.get(n)) else {
                continue;
            };
            if is_terminal(pod) {
                continue;
            }
            let req = admitted_pod_requests(spec);
            let node = &mut nodes[idx];
            add_into(&mut node.requested, &req);
            for c in spec
                .containers
                .iter()
                .chain(spec.init_containers.iter().flatten())
            {
                for p in c.ports.iter().flatten() {
                    if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                        node.ports.push((
                            p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                            hp,
                            p.host_ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
                        ));
                    }
                }
            }
            let has_anti = spec
                .affinity
                .as_ref()
                .and_then(|a| a.pod_anti_affinity.as_ref())
                .and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                })
                .is_some_and(|t| !t.is_empty());
            if has_anti {
                with_anti_affinity.push(bound.len());
            }
            let labels = pod.metadata.labels.as_ref().unwrap_or(&EMPTY_LABELS);
            bound.push(BoundPod {
                pod,
                node: idx,
                namespace: pod.metadata.namespace.as_deref().unwrap_or("default"),
                labels,
                label_set: table.add(labels),
            });
        }
        let mut bound_by_ns: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (i, b) in bound.iter().enumerate() {
            bound_by_ns.entry(b.namespace).or_default().push(i);
        }
        let mut kinds: HashMap<(&'a str, String), usize> = HashMap::new();
        for n in &mut nodes {
            let next = kinds.len();
            n.kind_id = *kinds.entry((n.pool, n.shape.clone())).or_insert(next);
            n.free = n
                .allocatable
                .iter()
                .map(|(k, a)| {
                    (
                        k.clone(),
                        *a - n.requested.get(k).copied().unwrap_or_default(),
                    )
                })
                .collect();
        }
        let free_columns = free_columns(&nodes);
        let pvcs = snapshot
            .pvcs
            .iter()
            .map(|p| {
                (
                    (
                        p.metadata.namespace.as_deref().unwrap_or("default"),
                        p.metadata.name.as_deref().unwrap_or(""),
                    ),
                    p,
                )
            })
            .collect();
        let pvs = snapshot
            .pvs
            .iter()
            .map(|p| (p.metadata.name.as_deref().unwrap_or(""), p))
            .collect();
        let storage_classes = snapshot
            .storage_classes
            .iter()
            .map(|s| (s.metadata.name.as_deref().unwrap_or(""), s))
            .collect();
        Self {
            snapshot,
            nodes,
            bound,
            with_anti_affinity,
            labels: table,
            free_columns,
            node_by_name,
            bound_by_ns,
            pvcs,
            pvs,
            storage_classes,
        }
    }

    /// Free amount of `resource` on every node (index order); `None` when no node has or
    /// uses it (then every node has zero free).
    pub fn free_column(&self, resource: &str) -> Option<&[Quantity]> {
        self.free_columns.get(resource).map(Vec::as_slice)
    }

    /// Bound pods of one namespace (indices into [`Self::bound`]).
    pub fn bound_in(&self, namespace: &str) -> &[usize] {
        self.bound_by_ns.get(namespace).map_or(&[], Vec::as_slice)
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeView<'a>> {
        self.node_by_name.get(name).map(|i| &self.nodes[*i])
    }

    /// A PVC.
    pub fn pvc(&self, namespace: &str, name: &str) -> Option<&'a PersistentVolumeClaim> {
        self.pvcs.get(&(namespace, name)).copied()
    }

    /// A PV.
    pub fn pv(&self, name: &str) -> Option<&'a PersistentVolume> {
        self.pvs.get(name).copied()
    }

    /// A StorageClass.
    pub fn storage_class(&self, name: &str) -> Option<&'a StorageClass> {
        self.storage_classes.get(name).copied()
    }

    /// The default StorageClass, when one is annotated.
    pub fn default_storage_class(&self) -> Option<&'a StorageClass> {
        self.snapshot.storage_classes.iter().find(|s| {
            s.metadata.annotations.as_ref().is_some_and(|a| {
                a.get("storageclass.kubernetes.io/is-default-class")
                    .is_some_and(|v| v == "true")
                    || a.get("storageclass.beta.kubernetes.io/is-default-class")
                        .is_some_and(|v| v == "true")
            })
        })
    }

    /// PersistentVolumes, for static binding checks.
    pub fn all_pvs(&self) -> &'a [PersistentVolume] {
        &self.snapshot.pvs
    }

    /// LimitRanges of a namespace.
    pub fn limit_ranges(&self, namespace: &str) -> Vec<&'a LimitRange> {
        self.snapshot
            .limit_ranges
            .iter()
            .filter(|l| l.metadata.namespace.as_deref() == Some(namespace))
            .collect()
    }

    /// ResourceQuotas of a namespace.
    pub fn quotas(&self, namespace: &str) -> Vec<&'a ResourceQuota> {
        self.snapshot
            .resource_quotas
            .iter()
            .filter(|q| q.metadata.namespace.as_deref() == Some(namespace))
            .collect()
    }
}
