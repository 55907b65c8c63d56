//! The wait-for graph between pods stuck in init: pod → what its init command probes →
//! the Service that name resolves to (cluster DNS, from the pod's namespace) → the pods
//! that Service selects. A cycle is a deadlock.
//!
//! Edges come from the Services in the snapshot (what the watcher attaches to an Init
//! incident). Only when the snapshot holds no Service at all (pasted text, a recording
//! without Services) does a name guess stand in: a pod whose app label or name equals the
//! probed Service name; [`WaitGraph::guessed`] then says so, and the evidence repeats it.

use k8s_openapi::api::core::v1::{Pod, Service};
use lastmile_events::ClusterSnapshot;
use lastmile_events::facts::{ServiceIndex, workload_key, workload_of};

use crate::deps::Dependency;

/// One pod of the graph and what it waits for.
pub(crate) struct Waiter<'a> {
    pub pod: &'a Pod,
    pub waits: Vec<Dependency>,
}

impl Waiter<'_> {
    /// `namespace/name` of the pod.
    pub fn name(&self) -> String {
        self.pod.metadata.name.clone().unwrap_or_default()
    }

    /// The workload the pod belongs to (`deployment/shop/api`), or the pod itself.
    pub fn workload(&self) -> String {
        let m = &self.pod.metadata;
        match workload_of(self.pod) {
            Some(w) => workload_key(&w.kind, w.namespace.as_deref().unwrap_or(""), &w.name),
            None => workload_key(
                "pod",
                m.namespace.as_deref().unwrap_or(""),
                m.name.as_deref().unwrap_or(""),
            ),
        }
    }
}

/// One step of a cycle: who waits, on which name, reaching which Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    /// The waiting pod's name.
    pub pod: String,
    /// Its workload key.
    pub workload: String,
    /// The name it probes, as written.
    pub target: String,
    /// `namespace/name` of the Service it resolves to (`None` when guessed by name).
    pub service: Option<String>,
}

/// Pods waiting in init, and how their waits resolve.
pub(crate) struct WaitGraph<'a> {
    nodes: Vec<Waiter<'a>>,
    index: ServiceIndex<'a>,
}

impl<'a> WaitGraph<'a> {
    /// The graph of `first` (the incident's pod, node 0) and the snapshot's pods that wait
    /// in init, each with what its first unfinished init container probes.
    pub fn new(
        first: &'a Pod,
        snapshot: &'a ClusterSnapshot,
        waits_of: impl Fn(&Pod) -> Vec<Dependency>,
    ) -> Self {
        let same = |a: &Pod, b: &Pod| {
            a.metadata.name == b.metadata.name && a.metadata.namespace == b.metadata.namespace
        };
        let mut nodes = vec![Waiter {
            pod: first,
            waits: waits_of(first),
        }];
        for p in &snapshot.pods {
            if same(p, first) {
                continue;
            }
            let waits = waits_of(p);
            if !waits.is_empty() {
                nodes.push(Waiter { pod: p, waits });
            }
        }
        Self {
            nodes,
            index: ServiceIndex::new(&snapshot.services, &snapshot.endpoint_slices),
        }
    }

    /// True when no Service was known, so edges were guessed from names.
    pub fn guessed(&self) -> bool {
        self.index.is_empty()
    }

    /// The Service `dep` reaches from `pod`, when Services are known.
    pub fn service_of(&self, pod: &Pod, dep: &Dependency) -> Option<&'a Service> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        self.index.resolve(&dep.target, ns)
    }

    /// The index over the snapshot's Services.
    pub fn index(&self) -> ServiceIndex<'a> {
        self.index
    }

    /// Nodes `from`'s wait `dep` leads to, with the Service when resolved.
    fn targets(&self, from: usize, dep: &Dependency) -> Vec<(usize, Option<String>)> {
        if self.guessed() {
            return (0..self.nodes.len())
                .filter(|j| *j != from && provides(self.nodes[*j].pod, dep))
                .map(|j| (j, None))
                .collect();
        }
        let Some(svc) = self.service_of(self.nodes[from].pod, dep) else {
            return Vec::new();
        };
        let key = format!(
            "{}/{}",
            svc.metadata.namespace.as_deref().unwrap_or(""),
            svc.metadata.name.as_deref().unwrap_or("")
        );
        (0..self.nodes.len())
            .filter(|j| *j != from && ServiceIndex::selects(svc, self.nodes[*j].pod))
            .map(|j| (j, Some(key.clone())))
            .collect()
    }

    /// A cycle through node 0, as its steps, when there is one.
    pub fn cycle(&self) -> Option<Vec<Step>> {
        if self.nodes.len() < 2 || self.nodes[0].waits.is_empty() {
            return None;
        }
        let mut path = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        self.dfs(0, &mut seen, &mut path).then_some(path)
    }

    fn dfs(&self, at: usize, seen: &mut [bool], path: &mut Vec<Step>) -> bool {
        seen[at] = true;
        for dep in &self.nodes[at].waits {
            for (j, service) in self.targets(at, dep) {
                path.push(Step {
                    pod: self.nodes[at].name(),
                    workload: self.nodes[at].workload(),
                    target: dep.target.clone(),
                    service,
                });
                if j == 0 || (!seen[j] && self.dfs(j, seen, path)) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
}

/// The name guess, for snapshots without Services: the pod's app labels or its name
/// without the controller's hash suffix equal the probed Service name.
pub(crate) fn provides(pod: &Pod, dep: &Dependency) -> bool {
    let svc = dep.service().to_lowercase();
    let svc = svc
        .strip_suffix("-svc")
        .or_else(|| svc.strip_suffix("-service"))
        .unwrap_or(&svc)
        .to_owned();
    let labels = pod.metadata.labels.as_ref();
    let label_hit = [
        "app",
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "name",
        "component",
    ]
    .iter()
    .filter_map(|k| labels.and_then(|l| l.get(*k)))
    .any(|v| v.to_lowercase() == svc);
    label_hit
        || pod
            .metadata
            .name
            .as_deref()
            .is_some_and(|n| base_name(n) == svc)
}

/// `api-7c9b6d8f45-p2xnq` → `api`, `postgres-0` → `postgres`.
fn base_name(name: &str) -> String {
    let mut parts: Vec<&str> = name.split('-').collect();
    let is_hash = |s: &str| {
        (5..=10).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars().any(|c| c.is_ascii_digit())
    };
    while parts.len() > 1
        && parts
            .last()
            .is_some_and(|p| is_hash(p) || p.chars().all(|c| c.is_ascii_digit()))
    {
        parts.pop();
    }
    parts.join("-").to_lowercase()
}
