//! The wait-for graph across a manifest set and its cycles.
//!
//! Nodes are workloads. An edge `a → b` says `a` cannot become ready before `b` is:
//! * an init container of `a` probes a name that resolves (cluster DNS, from `a`'s
//!   namespace) to a Service in the set whose selector matches `b`'s pod template;
//! * an init container of `a` waits for Job `b` to complete (`k8s-wait-for job`,
//!   `lastmile-wait job:`);
//! * Helm order: a `post-install`/`post-upgrade` hook `a` runs only after every main-phase
//!   workload `b` is ready when installing with `--wait`; a main-phase workload `a` is only
//!   created after each `pre-install`/`pre-upgrade` hook `b` completed.
//!
//! Every strongly connected component with a cycle is a deadlock; each distinct shortest
//! cycle through its nodes is reported with all its edges.

use std::collections::{BTreeSet, VecDeque};

use k8s_openapi::api::core::v1::Service;
use lastmile_events::facts::{DnsTarget, ServiceIndex};

use crate::load::Manifest;
use crate::rules::{describe, waits};
use crate::workload::Workload;
use crate::{Config, CycleEdge, Finding, Severity, redacted};

/// Most cycles reported per strongly connected component.
const MAX_CYCLES_PER_COMPONENT: usize = 10;

#[derive(Debug, Clone)]
struct Edge {
    from: usize,
    to: usize,
    why: String,
    line: usize,
}

/// The graph's findings: waits that reach nothing in the set, and cycles.
pub(crate) fn check(
    manifests: &[Manifest],
    workloads: &[Workload<'_>],
    config: &Config,
) -> Vec<Finding> {
    let services: Vec<(Service, &Manifest)> = manifests
        .iter()
        .filter(|m| m.kind() == "Service")
        .filter_map(|m| {
            let mut svc: Service = serde_json::from_value(m.value.clone()).ok()?;
            svc.metadata.namespace = Some(
                m.namespace()
                    .unwrap_or(&config.default_namespace)
                    .to_owned(),
            );
            Some((svc, m))
        })
        .collect();
    let only: Vec<Service> = services.iter().map(|(s, _)| s.clone()).collect();
    let index = ServiceIndex::new(&only, &[]);
    let cluster = config.cluster.as_ref();
    let in_cluster = ServiceIndex::new(cluster.map_or(&[][..], |c| &c.services), &[]);
    // Where a name that resolves to nothing is known to be missing (not an outside name).
    let mut namespaces: BTreeSet<&str> = workloads.iter().map(|w| w.namespace.as_str()).collect();
    namespaces.extend(
        cluster
            .into_iter()
            .flat_map(|c| c.namespaces.iter().map(String::as_str)),
    );
    let nowhere = if cluster.is_some() {
        "is not in the manifests or the cluster"
    } else {
        "is not in the manifests"
    };
    let mut findings = Vec::new();
    let mut edges = Vec::new();
    for (i, w) in workloads.iter().enumerate() {
        for c in w.init_containers().into_iter().filter(|c| !c.sidecar) {
            let line = w.line_of(c.name);
            for dep in waits(&c) {
                let probe = format!(
                    "init container `{}` waits for {} ({})",
                    c.name,
                    describe(&dep),
                    dep.how
                );
                let mut blocked = |message: String, fix: &str| {
                    findings.push(Finding::about(
                        "init.blocked",
                        w,
                        Some(c.name),
                        format!("{}: {probe}; {message}", w.key()),
                        Some(fix.to_owned()),
                    ));
                };
                if dep.object == Some("job") {
                    let (ns, name) = dep
                        .target
                        .split_once('/')
                        .unwrap_or((w.namespace.as_str(), dep.target.as_str()));
                    match workloads.iter().position(|j| {
                        j.manifest.kind() == "Job" && j.namespace == ns && j.name() == name
                    }) {
                        Some(j) => edges.push(Edge {
                            from: i,
                            to: j,
                            why: format!("{probe} to complete"),
                            line,
                        }),
                        None if cluster.is_some_and(|c| c.has_job(ns, name)) => {}
                        None => blocked(
                            format!("Job {ns}/{name} {nowhere}"),
                            "add the Job, or check its name and namespace",
                        ),
                    }
                    continue;
                }
                // `k8s-wait-for pod -l …` names a selector, not a name: not followed.
                if dep.object == Some("pod") {
                    continue;
                }
                // The pod itself, or a name outside the cluster.
                let Some(t) = DnsTarget::parse(&dep.target, &w.namespace)
                    .filter(|_| !dep.target.eq_ignore_ascii_case("localhost"))
                else {
                    continue;
                };
                let (svc, deployed) = match index.resolve(&dep.target, &w.namespace) {
                    Some(svc) => (svc, false),
                    None => match in_cluster.resolve(&dep.target, &w.namespace) {
                        Some(svc) => (svc, true),
                        None => {
                            // `name.other` may be an outside name; only namespaces of this
                            // set (and of the cluster state) are known cluster namespaces.
                            if namespaces.contains(t.namespace.as_str()) {
                                blocked(
                                    format!("Service {}/{} {nowhere}", t.namespace, t.name),
                                    "add the Service, fix the name, or deploy what provides it first",
                                );
                            }
                            continue;
                        }
                    },
                };
                if !ServiceIndex::exposes(svc, dep.port) {
                    blocked(
                        format!(
                            "Service {}/{} does not expose port {}",
                            t.namespace,
                            t.name,
                            dep.port.unwrap_or_default()
                        ),
                        "probe a port the Service lists, or add it to the Service",
                    );
                    continue;
                }
                // Already deployed: what it selects runs outside this set, no edge here.
                if deployed {
                    continue;
                }
                // A name-only probe of a Service publishing not-ready addresses resolves
                // before its pods are ready: no wait on readiness.
                let dns_only = dep.port.is_none() && dep.how != "http" && dep.object.is_none();
                if dns_only
                    && svc
                        .spec
                        .as_ref()
                        .and_then(|s| s.publish_not_ready_addresses)
                        .unwrap_or(false)
                {
                    continue;
                }
                let selected: Vec<usize> = workloads
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| ServiceIndex::selects(svc, &b.template))
                    .map(|(j, _)| j)
                    .collect();
                if selected.is_empty() {
                    blocked(
                        format!(
                            "Service {}/{} selects no workload in the manifests",
                            t.namespace, t.name
                        ),
                        "check the Service's selector against the pod template labels",
                    );
                }
                for j in selected {
                    edges.push(Edge {
                        from: i,
                        to: j,
                        why: format!(
                            "{probe}; Service {}/{} selects {}",
                            t.namespace,
                            t.name,
                            workloads[j].key()
                        ),
                        line,
                    });
                }
            }
        }
    }
    if config.helm_wait {
        helm_edges(workloads, &mut edges);
    }
    for cycle in cycles(workloads.len(), &edges) {
        findings.push(deadlock(workloads, &cycle));
    }
    findings
}

fn is_hook(w: &Workload<'_>, phases: &[&str]) -> bool {
    w.hooks.iter().any(|h| phases.contains(&h.as_str()))
}

fn helm_edges(workloads: &[Workload<'_>], edges: &mut Vec<Edge>) {
    for (h, hook) in workloads.iter().enumerate() {
        for (m, main) in workloads.iter().enumerate() {
            if !main.hooks.is_empty() || main.is_job() {
                continue;
            }
            if is_hook(hook, &["post-install", "post-upgrade"]) {
                edges.push(Edge {
                    from: h,
                    to: m,
                    why: format!(
                        "Helm runs {} hook {} only after {} is ready (install/upgrade --wait)",
                        hook.hooks.join(","),
                        hook.key(),
                        main.key()
                    ),
                    line: hook.manifest.line,
                });
            }
            if is_hook(hook, &["pre-install", "pre-upgrade"]) {
                edges.push(Edge {
                    from: m,
                    to: h,
                    why: format!(
                        "Helm creates {} only after {} hook {} has completed",
                        main.key(),
                        hook.hooks.join(","),
                        hook.key()
                    ),
                    line: main.manifest.line,
                });
            }
        }
    }
}

fn deadlock(workloads: &[Workload<'_>], cycle: &[&Edge]) -> Finding {
    let first = &workloads[cycle[0].from];
    let mut names: Vec<String> = cycle.iter().map(|e| workloads[e.from].key()).collect();
    names.push(first.key());
    let edges: Vec<CycleEdge> = cycle
        .iter()
        .map(|e| CycleEdge {
            from: workloads[e.from].key(),
            to: workloads[e.to].key(),
            why: redacted(&e.why),
            file: workloads[e.from].manifest.file.to_string(),
            line: e.line,
        })
        .collect();
    Finding {
        rule: "init.deadlock",
        severity: Severity::Error,
        file: first.manifest.file.to_string(),
        line: cycle[0].line,
        object: first.key(),
        container: None,
        message: format!(
            "wait cycle, none of these can become ready: {}",
            names.join(" → ")
        ),
        fix: Some(
            "break one edge: drop or move the wait (a readiness probe or a retrying client instead of an init wait), or make the hook a pre-install hook / install without --wait"
                .into(),
        ),
        edges,
    }
}

/// Distinct shortest cycles, each as its edges in order.
fn cycles(n: usize, edges: &[Edge]) -> Vec<Vec<&Edge>> {
    let mut out: Vec<Vec<&Edge>> = Vec::new();
    let mut seen: BTreeSet<Vec<usize>> = BTreeSet::new();
    for component in components(n, edges) {
        let inside = |e: &&Edge| component.contains(&e.from) && component.contains(&e.to);
        let local: Vec<(usize, &Edge)> = edges
            .iter()
            .enumerate()
            .filter(|(_, e)| inside(e))
            .collect();
        let mut found = 0;
        for &start in &component {
            if found == MAX_CYCLES_PER_COMPONENT {
                break;
            }
            let Some(path) = shortest_cycle(start, &local) else {
                continue;
            };
            let mut key: Vec<usize> = path.clone();
            key.sort_unstable();
            if seen.insert(key) {
                out.push(path.iter().map(|i| &edges[*i]).collect());
                found += 1;
            }
        }
    }
    out
}

/// The shortest cycle through `start` (BFS), as edge indices.
fn shortest_cycle(start: usize, edges: &[(usize, &Edge)]) -> Option<Vec<usize>> {
    let mut prev: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut queue = VecDeque::from([start]);
    let mut visited = BTreeSet::from([start]);
    while let Some(at) = queue.pop_front() {
        for (i, e) in edges.iter().filter(|(_, e)| e.from == at) {
            if e.to == start {
                let mut path = vec![*i];
                let mut node = at;
                while node != start {
                    let via = *prev.get(&node)?;
                    path.push(via);
                    node = edges
                        .iter()
                        .find(|(j, _)| *j == via)
                        .map_or(start, |(_, e)| e.from);
                }
                path.reverse();
                return Some(path);
            }
            if visited.insert(e.to) {
                prev.insert(e.to, *i);
                queue.push_back(e.to);
            }
        }
    }
    None
}

/// Strongly connected components that contain a cycle (Tarjan), nodes sorted.
fn components(n: usize, edges: &[Edge]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [Edge],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        let succ: Vec<usize> = s
            .edges
            .iter()
            .filter(|e| e.from == v)
            .map(|e| e.to)
            .collect();
        for w in succ {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            let self_loop = comp.len() == 1 && s.edges.iter().any(|e| e.from == v && e.to == v);
            if comp.len() > 1 || self_loop {
                comp.sort_unstable();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}
