//! Which nodes could run the pod, and what blocks each of the others.
//!
//! Unlike the scheduler, which stops at a node's first failing plugin, every check runs on
//! every node: "tolerate the taint *and* it would still not fit" is what decides the
//! smallest fix. Checks that depend on other pods (anti-affinity, topology spread) are
//! prepared once per pod, then each node costs a few map lookups.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{
    NodeSelector, Pod, PodAffinityTerm, PodSpec, Toleration, TopologySpreadConstraint,
};
use serde::Serialize;

use crate::index::{NodeView, SnapshotIndex};
use crate::labels::{CompiledLabelSelector, CompiledNodeSelector, CompiledSelectorMap, Sym};
use crate::quantity::Quantity;
use crate::resources::{PodRequests, pod_requests};
use crate::selectors::{Labels, label_selector_matches, untolerated};

/// One reason a node cannot take the pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// `spec.unschedulable` (cordoned).
    Unschedulable,
    /// A taint no toleration covers.
    Taint {
        /// Key.
        key: String,
        /// Value.
        value: String,
        /// Effect.
        effect: String,
    },
    /// A `nodeSelector` pair the node lacks.
    NodeSelector {
        /// Label key.
        key: String,
        /// Wanted value.
        value: String,
    },
    /// Required node affinity matches no term.
    NodeAffinity,
    /// A requested host port is taken.
    HostPort {
        /// The port.
        port: i32,
    },
    /// Not enough of a resource (details in [`NodeCheck::short`]).
    Insufficient {
        /// Resource name.
        resource: String,
    },
    /// A bound PV's node affinity excludes the node.
    VolumeNodeAffinity {
        /// The PV.
        pv: String,
    },
    /// The pod's required anti-affinity: a matching pod runs in this topology domain.
    AntiAffinity {
        /// Topology key.
        topology_key: String,
    },
    /// The pod's required affinity: no matching pod in this domain.
    Affinity {
        /// Topology key.
        topology_key: String,
    },
    /// An existing pod's required anti-affinity excludes this pod here.
    ExistingAntiAffinity {
        /// Topology key.
        topology_key: String,
    },
    /// A DoNotSchedule topology spread constraint would be violated.
    TopologySpread {
        /// Topology key.
        topology_key: String,
        /// The node lacks the topology label altogether.
        missing_label: bool,
    },
}

impl Block {
    /// The taxonomy class.
    pub fn class(&self) -> &'static str {
        use lastmile_events::Class;
        match self {
            Block::Unschedulable => Class::UNSCHEDULABLE_NODES,
            Block::Taint { .. } => Class::UNTOLERATED_TAINT,
            Block::NodeSelector { .. } | Block::NodeAffinity => Class::NODE_AFFINITY,
            Block::HostPort { .. } => Class::HOST_PORTS,
            Block::Insufficient { .. } => Class::INSUFFICIENT_RESOURCES,
            Block::VolumeNodeAffinity { .. } => Class::VOLUME_BINDING,
            Block::AntiAffinity { .. }
            | Block::Affinity { .. }
            | Block::ExistingAntiAffinity { .. }
            | Block::TopologySpread { .. } => Class::POD_AFFINITY,
        }
    }

    /// Scheduler-style wording.
    pub fn describe(&self) -> String {
        match self {
            Block::Unschedulable => "cordoned (spec.unschedulable)".into(),
            Block::Taint { key, value, effect } => {
                format!("untolerated taint {key}={value}:{effect}")
            }
            Block::NodeSelector { key, value } => {
                format!("nodeSelector {key}={value} does not match")
            }
            Block::NodeAffinity => "required node affinity does not match".into(),
            Block::HostPort { port } => format!("host port {port} already in use"),
            Block::Insufficient { resource } => format!("insufficient {resource}"),
            Block::VolumeNodeAffinity { pv } => {
                format!("PersistentVolume {pv}'s node affinity excludes it")
            }
            Block::AntiAffinity { topology_key } => {
                format!("pod anti-affinity ({topology_key}): a matching pod already runs there")
            }
            Block::Affinity { topology_key } => {
                format!("pod affinity ({topology_key}): no matching pod there")
            }
            Block::ExistingAntiAffinity { topology_key } => {
                format!("an existing pod's anti-affinity ({topology_key}) excludes it")
            }
            Block::TopologySpread {
                topology_key,
                missing_label: true,
            } => format!("topology spread: node lacks label {topology_key}"),
            Block::TopologySpread { topology_key, .. } => {
                format!("topology spread on {topology_key} would exceed maxSkew")
            }
        }
    }

    /// True for blocks that say "the pod was never meant for this node".
    pub fn is_scope(&self) -> bool {
        match self {
            Block::NodeSelector { .. } | Block::NodeAffinity => true,
            Block::Taint { key, .. } => crate::messages::reasons::is_control_plane_taint(key),
            _ => false,
        }
    }
}

/// What the pending pod needs from a node.
#[derive(Debug, Clone)]
pub struct PodNeeds<'p> {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: Labels,
    /// The spec.
    pub spec: &'p PodSpec,
    /// Effective requests (LimitRange defaults applied).
    pub requests: PodRequests,
    /// Host ports: (protocol, port, host IP).
    pub host_ports: Vec<(String, i32, String)>,
}

impl<'p> PodNeeds<'p> {
    /// Reads the pod (or a Job's pod template), applying the namespace's LimitRange defaults.
    pub fn new(
        namespace: &str,
        name: &str,
        labels: Labels,
        spec: &'p PodSpec,
        index: Option<&SnapshotIndex<'_>>,
    ) -> Self {
        let lrs = index.map(|i| i.limit_ranges(namespace)).unwrap_or_default();
        let requests = pod_requests(spec, &lrs);
        let mut host_ports = Vec::new();
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            for p in c.ports.iter().flatten() {
                if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                    host_ports.push((
                        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        hp,
                        p.host_ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
                    ));
                }
            }
        }
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            labels,
            spec,
            requests,
            host_ports,
        }
    }

    /// From a Pod object.
    pub fn from_pod(pod: &'p Pod, index: Option<&SnapshotIndex<'_>>) -> Option<Self> {
        let spec = pod.spec.as_ref()?;
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod
            .metadata
            .name
            .as_deref()
            .or(pod.metadata.generate_name.as_deref())
            .unwrap_or("");
        Some(Self::new(
            ns,
            name,
            pod.metadata.labels.clone().unwrap_or_default(),
            spec,
            index,
        ))
    }

    fn tolerations(&self) -> &[Toleration] {
        self.spec.tolerations.as_deref().unwrap_or(&[])
    }

    fn required_node_affinity(&self) -> Option<&NodeSelector> {
        self.spec
            .affinity
            .as_ref()?
            .node_affinity
            .as_ref()?
            .required_during_scheduling_ignored_during_execution
            .as_ref()
    }
}

/// One node's verdict.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeCheck {
    /// Everything that blocks the pod here, sorted; empty when it fits.
    pub blocks: Vec<Block>,
    /// For each insufficient resource: how much more the pod needs than is free.
    pub short: Vec<(String, Quantity)>,
}

/// Per-pod preparation of the checks that depend on other pods and volumes, with every
/// selector compiled against the index's interned labels ([`crate::labels`]) so that each
/// node costs a few integer comparisons.
#[derive(Debug, Default)]
struct Prepared<'s> {
    /// The pod's `nodeSelector`.
    node_selector: Option<CompiledSelectorMap<'s>>,
    /// Requested resources (non-zero): name, amount, free column of the index.
    resources: Vec<(&'s str, Quantity, Option<&'s [Quantity]>)>,
    /// PVs (name, node selector) the pod's bound claims pin it to.
    pv_affinity: Vec<(String, CompiledNodeSelector<'s>)>,
    /// Required anti-affinity: topology key and the domains with a matching pod.
    anti: Vec<Domains>,
    /// Required affinity: topology key, domains with a matching pod, self-match.
    affinity: Vec<(Domains, bool)>,
    /// Domains excluded by existing pods' anti-affinity.
    existing_anti: Vec<Domains>,
    /// DoNotSchedule spread constraints: the domains where one more matching pod would
    /// exceed maxSkew.
    spread: Vec<Domains>,
    /// Per node (index order): does the required node affinity allow it (empty when the
    /// pod has none). Evaluated once, used by topology spread and the node checks.
    affinity_ok: Vec<bool>,
}

/// A topology key and a set of its values (domains), interned.
#[derive(Debug, Default)]
struct Domains {
    /// The key as written.
    key: String,
    /// Its id; `None` when no indexed object carries it.
    id: Option<Sym>,
    /// The domains.
    values: HashSet<Sym>,
}

impl Domains {
    fn new(key: &str, index: &SnapshotIndex<'_>) -> Self {
        Self {
            key: key.to_owned(),
            id: index.labels.id(key),
            values: HashSet::new(),
        }
    }

    /// The node's domain for this key.
    fn of(&self, index: &SnapshotIndex<'_>, n: &NodeView<'_>) -> Option<Sym> {
        index.labels.lookup(n.label_set, self.id)
    }

    /// True when the node's domain is in the set.
    fn holds(&self, index: &SnapshotIndex<'_>, n: &NodeView<'_>) -> bool {
        !self.values.is_empty() && self.of(index, n).is_some_and(|v| self.values.contains(&v))
    }
}

fn term_namespaces<'t>(term: &'t PodAffinityTerm, own: &'t str) -> Option<Vec<&'t str>> {
    // A namespaceSelector (even empty) widens the scope; treat it as all namespaces.
    if term.namespace_selector.is_some() {
        return None;
    }
    match term.namespaces.as_deref() {
        Some(ns) if !ns.is_empty() => Some(ns.iter().map(String::as_str).collect()),
        _ => Some(vec![own]),
    }
}

fn domains_with_match(index: &SnapshotIndex<'_>, term: &PodAffinityTerm, own_ns: &str) -> Domains {
    let mut out = Domains::new(&term.topology_key, index);
    if out.id.is_none() {
        return out;
    }
    let selector = CompiledLabelSelector::new(term.label_selector.as_ref(), &index.labels);
    let scope = term_namespaces(term, own_ns);
    let candidates: Box<dyn Iterator<Item = &crate::index::BoundPod<'_>>> = match &scope {
        Some(namespaces) => Box::new(
            namespaces
                .iter()
                .flat_map(|ns| index.bound_in(ns).iter().map(|&i| &index.bound[i])),
        ),
        None => Box::new(index.bound.iter()),
    };
    for b in candidates {
        if selector.matches(&index.labels, b.label_set)
            && let Some(v) = out.of(index, &index.nodes[b.node])
        {
            out.values.insert(v);
        }
    }
    out
}

fn prepare<'s>(needs: &'s PodNeeds<'_>, index: &'s SnapshotIndex<'_>) -> Prepared<'s> {
    let mut p = Prepared {
        node_selector: needs
            .spec
            .node_selector
            .as_ref()
            .map(|s| CompiledSelectorMap::new(s, &index.labels)),
        resources: needs
            .requests
            .total
            .iter()
            .filter(|(_, q)| !q.is_zero())
            .map(|(r, q)| (r.as_str(), *q, index.free_column(r)))
            .collect(),
        ..Prepared::default()
    };
    if let Some(a) = needs.required_node_affinity() {
        let a = CompiledNodeSelector::new(a, &index.labels);
        p.affinity_ok = index
            .nodes
            .iter()
            .map(|n| a.matches(&index.labels, n.label_set, n.name))
            .collect();
    }
    for v in needs.spec.volumes.iter().flatten() {
        let Some(claim) = v
            .persistent_volume_claim
            .as_ref()
            .map(|c| c.claim_name.as_str())
        else {
            continue;
        };
        let Some(pvc) = index.pvc(&needs.namespace, claim) else {
            continue;
        };
        let Some(pv_name) = pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .filter(|n| !n.is_empty())
        else {
            continue;
        };
        if let Some(sel) = index
            .pv(pv_name)
            .and_then(|pv| pv.spec.as_ref()?.node_affinity.as_ref()?.required.as_ref())
        {
            p.pv_affinity.push((
                pv_name.to_owned(),
                CompiledNodeSelector::new(sel, &index.labels),
            ));
        }
    }
    let affinity = needs.spec.affinity.as_ref();
    for term in affinity
        .and_then(|a| {
            a.pod_anti_affinity
                .as_ref()?
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
    {
        p.anti
            .push(domains_with_match(index, term, &needs.namespace));
    }
    for term in affinity
        .and_then(|a| {
            a.pod_affinity
                .as_ref()?
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .into_iter()
        .flatten()
    {
        let self_match = label_selector_matches(term.label_selector.as_ref(), &needs.labels);
        p.affinity.push((
            domains_with_match(index, term, &needs.namespace),
            self_match,
        ));
    }
    for &i in &index.with_anti_affinity {
        let b = index.bound[i];
        let terms = b.pod.spec.as_ref().and_then(|s| {
            s.affinity
                .as_ref()?
                .pod_anti_affinity
                .as_ref()?
                .required_during_scheduling_ignored_during_execution
                .as_ref()
        });
        for term in terms.into_iter().flatten() {
            let in_scope = term_namespaces(term, b.namespace)
                .is_none_or(|s| s.contains(&needs.namespace.as_str()));
            if !in_scope || !label_selector_matches(term.label_selector.as_ref(), &needs.labels) {
                continue;
            }
            let pos = match p
                .existing_anti
                .iter()
                .position(|d| d.key == term.topology_key)
            {
                Some(pos) => pos,
                None => {
                    p.existing_anti
                        .push(Domains::new(&term.topology_key, index));
                    p.existing_anti.len() - 1
                }
            };
            let d = &mut p.existing_anti[pos];
            if let Some(v) = d.of(index, &index.nodes[b.node]) {
                d.values.insert(v);
            }
        }
    }
    for c in needs.spec.topology_spread_constraints.iter().flatten() {
        if c.when_unsatisfiable != "DoNotSchedule" {
            continue;
        }
        let spread = prepare_spread(c, needs, index, &p);
        p.spread.push(spread);
    }
    p
}

fn prepare_spread(
    c: &TopologySpreadConstraint,
    needs: &PodNeeds<'_>,
    index: &SnapshotIndex<'_>,
    p: &Prepared<'_>,
) -> Domains {
    let mut out = Domains::new(&c.topology_key, index);
    // Domains: label values of nodes the pod's node selector/affinity allows.
    let mut counts: HashMap<Sym, i64> = HashMap::new();
    let mut eligible = vec![false; index.nodes.len()];
    for (i, n) in index.nodes.iter().enumerate() {
        if selector_ok(p, index, i, n)
            && let Some(v) = out.of(index, n)
        {
            counts.entry(v).or_insert(0);
            eligible[i] = true;
        }
    }
    let selector = CompiledLabelSelector::new(c.label_selector.as_ref(), &index.labels);
    for b in index
        .bound_in(&needs.namespace)
        .iter()
        .map(|&i| &index.bound[i])
    {
        if !eligible[b.node] {
            continue;
        }
        if selector.matches(&index.labels, b.label_set)
            && let Some(v) = out.of(index, &index.nodes[b.node])
        {
            *counts.entry(v).or_insert(0) += 1;
        }
    }
    let min = counts.values().copied().min().unwrap_or(0);
    let self_match = i64::from(label_selector_matches(
        c.label_selector.as_ref(),
        &needs.labels,
    ));
    let skew = i64::from(c.max_skew.max(1));
    out.values = counts
        .into_iter()
        .filter(|(_, n)| n + self_match - min > skew)
        .map(|(d, _)| d)
        .collect();
    out
}

fn selector_ok(p: &Prepared<'_>, index: &SnapshotIndex<'_>, i: usize, n: &NodeView<'_>) -> bool {
    p.node_selector
        .as_ref()
        .is_none_or(|s| s.first_mismatch(&index.labels, n.label_set).is_none())
        && p.affinity_ok.get(i).copied().unwrap_or(true)
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

/// Nodes with the same blocks, pool and shape.
#[derive(Debug, Clone, Serialize)]
pub struct NodeGroup {
    /// What blocks them (empty: the pod fits).
    pub blocks: Vec<Block>,
    /// Pool / node group (`""` when unknown).
    pub pool: String,
    /// Provider.
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
