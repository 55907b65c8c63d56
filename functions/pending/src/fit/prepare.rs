//! Per-pod preparation of the checks that depend on other pods and volumes: selectors
//! compiled against the index, and the topology domains that hold matching pods.

use std::collections::{HashMap, HashSet};

use k8s_openapi::api::core::v1::{PodAffinityTerm, TopologySpreadConstraint};

use super::PodNeeds;
use crate::index::{NodeView, SnapshotIndex};
use crate::labels::{CompiledLabelSelector, CompiledNodeSelector, CompiledSelectorMap, Sym};
use crate::quantity::Quantity;
use crate::selectors::label_selector_matches;

/// Per-pod preparation of the checks that depend on other pods and volumes, with every
/// selector compiled against the index's interned labels ([`crate::labels`]) so that each
/// node costs a few integer comparisons.
#[derive(Debug, Default)]
pub(super) struct Prepared<'s> {
    /// The pod's `nodeSelector`.
    pub(super) node_selector: Option<CompiledSelectorMap<'s>>,
    /// Requested resources (non-zero): name, amount, free column of the index.
    pub(super) resources: Vec<(&'s str, Quantity, Option<&'s [Quantity]>)>,
    /// PVs (name, node selector) the pod's bound claims pin it to.
    pub(super) pv_affinity: Vec<(String, CompiledNodeSelector<'s>)>,
    /// Required anti-affinity: topology key and the domains with a matching pod.
    pub(super) anti: Vec<Domains>,
    /// Required affinity: topology key, domains with a matching pod, self-match.
    pub(super) affinity: Vec<(Domains, bool)>,
    /// Domains excluded by existing pods' anti-affinity.
    pub(super) existing_anti: Vec<Domains>,
    /// DoNotSchedule spread constraints: the domains where one more matching pod would
    /// exceed maxSkew.
    pub(super) spread: Vec<Domains>,
    /// Per node (index order): does the required node affinity allow it (empty when the
    /// pod has none). Evaluated once, used by topology spread and the node checks.
    pub(super) affinity_ok: Vec<bool>,
}

/// A topology key and a set of its values (domains), interned.
#[derive(Debug, Default)]
pub(super) struct Domains {
    /// The key as written.
    pub(super) key: String,
    /// Its id; `None` when no indexed object carries it.
    pub(super) id: Option<Sym>,
    /// The domains.
    pub(super) values: HashSet<Sym>,
}

impl Domains {
    pub(super) fn new(key: &str, index: &SnapshotIndex<'_>) -> Self {
        Self {
            key: key.to_owned(),
            id: index.labels.id(key),
            values: HashSet::new(),
        }
    }

    /// The node's domain for this key.
    pub(super) fn of(&self, index: &SnapshotIndex<'_>, n: &NodeView<'_>) -> Option<Sym> {
        index.labels.lookup(n.label_set, self.id)
    }

    /// True when the node's domain is in the set.
    pub(super) fn holds(&self, index: &SnapshotIndex<'_>, n: &NodeView<'_>) -> bool {
        !self.values.is_empty() && self.of(index, n).is_some_and(|v| self.values.contains(&v))
    }
}

pub(super) fn term_namespaces<'t>(term: &'t PodAffinityTerm, own: &'t str) -> Option<Vec<&'t str>> {
    // A namespaceSelector (even empty) widens the scope; treat it as all namespaces.
    if term.namespace_selector.is_some() {
        return None;
    }
    match term.namespaces.as_deref() {
        Some(ns) if !ns.is_empty() => Some(ns.iter().map(String::as_str).collect()),
        _ => Some(vec![own]),
    }
}

pub(super) fn domains_with_match(
    index: &SnapshotIndex<'_>,
    term: &PodAffinityTerm,
    own_ns: &str,
) -> Domains {
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

pub(super) fn prepare<'s>(needs: &'s PodNeeds<'_>, index: &'s SnapshotIndex<'_>) -> Prepared<'s> {
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

pub(super) fn prepare_spread(
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

/// Whether the node passes the pod's `nodeSelector` and required node affinity.
fn selector_ok(p: &Prepared<'_>, index: &SnapshotIndex<'_>, i: usize, n: &NodeView<'_>) -> bool {
    p.node_selector
        .as_ref()
        .is_none_or(|s| s.first_mismatch(&index.labels, n.label_set).is_none())
        && p.affinity_ok.get(i).copied().unwrap_or(true)
}
