//! Diagnosis from cluster state: node groups, volumes, quota and LimitRange arithmetic.
//!
//! Every cause names the node groups it stands for (counts, never node lists) and the
//! smallest change that would let the pod run, computed from the numbers.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceQuota;
use lastmile_events::{Class, Remediation};
use serde_json::{Value, json};

use crate::fit::{Block, FitReport, NodeGroup, PodNeeds, check_all, group};
use crate::index::SnapshotIndex;
use crate::quantity::{Quantity, base_resource};
use crate::remedy::{Workload, add_capacity, change_pod_spec, jq_str, raise_quota};
use crate::resources::{Res, to_res};

/// One cause, before it becomes a [`lastmile_events::Diagnosis`].
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// Class.
    pub class: &'static str,
    /// 0..1.
    pub confidence: f64,
    /// One sentence.
    pub summary: String,
    /// Facts.
    pub evidence: Vec<String>,
    /// Fixes.
    pub remediation: Vec<Remediation>,
    /// Waiting cannot fix it.
    pub definitive: bool,
    /// Structured details (node groups, arithmetic).
    pub details: Value,
}

impl Cause {
    fn new(
        class: &'static str,
        confidence: f64,
        summary: impl Into<String>,
        definitive: bool,
    ) -> Self {
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

fn groups_json(groups: &[&NodeGroup]) -> Value {
    let shown: Vec<&&NodeGroup> = groups.iter().take(MAX_GROUPS).collect();
    json!({
        "groups": shown,
        "groups_total": groups.len(),
        "nodes_total": groups.iter().map(|g| g.count).sum::<usize>(),
    })
}

fn group_line(g: &NodeGroup) -> String {
    let pool = if g.pool.is_empty() {
        String::new()
    } else {
        format!(" in pool {}", g.pool)
    };
    let blocks: Vec<String> = g.blocks.iter().map(Block::describe).collect();
    let what = if blocks.is_empty() {
        "the pod fits".to_owned()
    } else {
        blocks.join("; ")
    };
    format!(
        "{} node(s){pool} ({}; e.g. {}): {what}",
        g.count,
        g.shape,
        g.sample.join(", ")
    )
}

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
            Class::GATED,
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
            Class::NO_NODES,
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

fn node_causes(
    needs: &PodNeeds<'_>,
    index: &SnapshotIndex<'_>,
    report: &FitReport,
    groups: &[NodeGroup],
    w: &Workload,
) -> Vec<Cause> {
    // Per class: nodes where it is the only class blocking ("fix this alone and it fits"),
    // and nodes where it blocks at all, counting only in-scope nodes (not excluded by
    // selectors or control-plane taints) unless no node is in scope.
    let mut sole: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut any_in_scope: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut any: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut in_scope = 0usize;
    // Groups hold nodes with identical blocks, so counting per group (tens) instead of per
    // node (thousands) gives the same totals.
    for g in groups {
        let scoped = g.blocks.iter().any(Block::is_scope);
        if !scoped {
            in_scope += g.count;
        }
        let mut classes: Vec<&'static str> = g.blocks.iter().map(Block::class).collect();
        classes.sort_unstable();
        classes.dedup();
        for c in &classes {
            *any.entry(c).or_default() += g.count;
            if !scoped {
                *any_in_scope.entry(c).or_default() += g.count;
            }
        }
        if classes.len() == 1 {
            *sole.entry(classes[0]).or_default() += g.count;
        }
    }
    let control_plane_only = only_control_plane_taints(report);
    let mut scored: Vec<(&'static str, f64)> = any
        .keys()
        .map(|c| {
            let is_scope_class = *c == Class::NODE_AFFINITY
                || (*c == Class::UNTOLERATED_TAINT && control_plane_only);
            let s = *sole.get(c).unwrap_or(&0) as f64;
            let a = *any_in_scope.get(c).unwrap_or(&0) as f64;
            let score = if is_scope_class && in_scope > 0 {
                (s * 10.0 + a) * 0.2
            } else if is_scope_class {
                s * 10.0 + *any.get(c).unwrap_or(&0) as f64 * 2.0
            } else {
                s * 10.0 + a
            };
            (*c, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let top = scored
        .first()
        .map(|s| s.1)
        .unwrap_or(0.0)
        .max(f64::MIN_POSITIVE);
    let mut out = Vec::new();
    for (rank, (class, score)) in scored.iter().enumerate() {
        let confidence = if rank == 0 {
            0.92
        } else {
            (0.35 + 0.45 * score / top).min(0.8)
        };
        let mine: Vec<&NodeGroup> = groups
            .iter()
            .filter(|g| g.blocks.iter().any(|b| b.class() == *class))
            .collect();
        let sole_n = *sole.get(class).unwrap_or(&0);
        let mut c = match *class {
            Class::INSUFFICIENT_RESOURCES => insufficient(needs, index, &mine, groups, w),
            Class::UNTOLERATED_TAINT => taint(needs, &mine, w),
            Class::NODE_AFFINITY => affinity(index, &mine, w),
            Class::UNSCHEDULABLE_NODES => cordoned(&mine),
            Class::HOST_PORTS => ports(needs, &mine),
            Class::VOLUME_BINDING => Cause::new(
                Class::VOLUME_BINDING,
                0.0,
                "a bound PersistentVolume's node affinity (usually its zone) excludes the nodes that could otherwise run the pod",
                true,
            ),
            _ => pod_affinity(&mine),
        };
        c.confidence = confidence;
        let node_count: usize = mine.iter().map(|g| g.count).sum();
        c.evidence.insert(
            0,
            format!("{node_count} of {} nodes blocked by {class}; on {sole_n} of them it is the only obstacle", index.nodes.len()),
        );
        for g in mine.iter().take(5) {
            c.evidence.push(group_line(g));
        }
        if mine.len() > 5 {
            c.evidence.push(format!(
                "… and {} more node group(s) (see details)",
                mine.len() - 5
            ));
        }
        let mut details = groups_json(&mine);
        if let Value::Object(m) = &mut details {
            m.insert("only_obstacle_on_nodes".into(), json!(sole_n));
            if let Value::Object(extra) = std::mem::take(&mut c.details) {
                m.extend(extra);
            }
        }
        c.details = details;
        out.push(c);
    }
    out
}

fn only_control_plane_taints(report: &FitReport) -> bool {
    report
        .nodes
        .iter()
        .flat_map(|c| c.blocks.iter())
        .filter(|b| matches!(b, Block::Taint { .. }))
        .all(Block::is_scope)
}

fn insufficient(
    needs: &PodNeeds<'_>,
    index: &SnapshotIndex<'_>,
    mine: &[&NodeGroup],
    all: &[NodeGroup],
    w: &Workload,
) -> Cause {
    // Resources that are short somewhere, with the request and the most free on any node
    // that is otherwise a candidate (no scope block).
    let mut short: Vec<String> = mine
        .iter()
        .flat_map(|g| g.blocks.iter())
        .filter_map(|b| match b {
            Block::Insufficient { resource } => Some(resource.clone()),
            _ => None,
        })
        .collect();
    short.sort();
    short.dedup();
    // Where lowering the request would be enough: groups blocked by capacity alone, else
    // groups the pod is meant for (no selector/control-plane exclusion), else all.
    let only_capacity: Vec<&NodeGroup> = mine
        .iter()
        .copied()
        .filter(|g| {
            g.blocks
                .iter()
                .all(|b| matches!(b, Block::Insufficient { .. }))
        })
        .collect();
    let in_scope: Vec<&NodeGroup> = all
        .iter()
        .filter(|g| !g.blocks.iter().any(Block::is_scope))
        .collect();
    let candidates = if !only_capacity.is_empty() {
        only_capacity
    } else if !in_scope.is_empty() {
        in_scope
    } else {
        all.iter().collect()
    };
    let mut parts = Vec::new();
    let mut never = false;
    let mut details = serde_json::Map::new();
    let mut jq_parts = Vec::new();
    let mut best_group: Option<&NodeGroup> = None;
    let most_free = |res: &str| {
        let best = candidates
            .iter()
            .copied()
            .max_by_key(|g| g.max_free_q.get(res).copied().unwrap_or_default());
        let free = best
            .and_then(|g| g.max_free_q.get(res).copied())
            .unwrap_or_default()
            .max(Quantity::ZERO);
        (best, free)
    };
    // Resources no candidate has enough of are the cause; the others are short only on
    // some nodes (then it is the combination that fits nowhere).
    let blocking: Vec<String> = short
        .iter()
        .filter(|r| needs.requests.get(r) > most_free(r).1)
        .cloned()
        .collect();
    let combination = blocking.is_empty();
    let short = if combination { short } else { blocking };
    for res in &short {
        let want = needs.requests.get(res);
        let (best, free) = most_free(res);
        let max_alloc = index
            .nodes
            .iter()
            .map(|n| n.allocatable.get(res).copied().unwrap_or_default())
            .max()
            .unwrap_or_default();
        if want > max_alloc {
            never = true;
        }
        let where_ = best
            .map(|g| {
                format!(
                    " on {}{} ({} node(s))",
                    if g.pool.is_empty() {
                        "nodes of shape "
                    } else {
                        "pool "
                    },
                    if g.pool.is_empty() { &g.shape } else { &g.pool },
                    g.count
                )
            })
            .unwrap_or_default();
        parts.push(format!(
            "requests {} {res}; the largest free is {}{where_} (largest allocatable {})",
            want.display_for(res),
            free.display_for(res),
            max_alloc.display_for(res)
        ));
        details.insert(
            res.clone(),
            json!({"requested": want.display_for(res), "largest_free": free.display_for(res), "largest_allocatable": max_alloc.display_for(res)}),
        );
        if best_group.is_none() {
            best_group = best;
        }
        if res != "pods" && !free.is_zero() {
            let target = free.floor_for(res).display_for(res);
            // Spread the reduction over the app containers that request this resource.
            if let Some(c) = needs
                .requests
                .containers
                .iter()
                .filter(|c| !c.init)
                .find(|c| c.requests.contains_key(res))
            {
                let others = want - c.requests.get(res).copied().unwrap_or_default();
                let room = (free - others).floor_for(res);
                if !room.is_negative() && !room.is_zero() {
                    jq_parts.push((c.name.clone(), res.clone(), room.display_for(res), target));
                }
            }
        }
    }
    let summary = if never {
        format!("no node in the cluster is big enough: {}", parts.join("; "))
    } else if combination {
        format!(
            "no candidate node has enough of every resource at once (each is available somewhere, never together): {}",
            parts.join("; ")
        )
    } else {
        format!(
            "no candidate node has enough free capacity: {}",
            parts.join("; ")
        )
    };
    let mut c = Cause::new(Class::INSUFFICIENT_RESOURCES, 0.0, summary, never);
    if needs.requests.any_defaulted() {
        let d: Vec<String> = needs
            .requests
            .containers
            .iter()
            .filter(|c| !c.defaulted.is_empty())
            .map(|c| format!("{}: {}", c.name, c.defaulted.join(", ")))
            .collect();
        c.evidence.push(format!(
            "LimitRange defaults applied to containers without requests: {}",
            d.join("; ")
        ));
    }
    for (container, res, room, _) in &jq_parts {
        let base = base_resource(res);
        let spec =
            json!({"containers": [{"name": container, "resources": {"requests": {base: room}}}]});
        let jq = format!(
            "(.containers[] | select(.name == {}) | .resources.requests[{}]) = {}",
            jq_str(container),
            jq_str(base),
            jq_str(room)
        );
        c.remediation.push(change_pod_spec(w, &format!("lower container {container}'s {res} request to ≤{room} so it fits the largest free node"), spec, &jq));
    }
    if let Some(g) = best_group.or(mine.first().copied()) {
        c.remediation
            .push(add_capacity(g.provider, &g.pool, g.count));
    }
    c.details = Value::Object(details);
    c
}

fn taint(needs: &PodNeeds<'_>, mine: &[&NodeGroup], w: &Workload) -> Cause {
    // The taint whose toleration would unlock the most nodes on its own.
    let mut counts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for g in mine {
        let taints: Vec<&Block> = g
            .blocks
            .iter()
            .filter(|b| matches!(b, Block::Taint { .. }))
            .collect();
        if let [Block::Taint { key, value, effect }] = taints.as_slice() {
            let only = g.blocks.iter().all(|b| matches!(b, Block::Taint { .. }));
            *counts
                .entry((key.clone(), value.clone(), effect.clone()))
                .or_default() += if only { g.count * 1000 } else { g.count };
        }
    }
    let best = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.clone());
    let Some((key, value, effect)) = best else {
        return Cause::new(
            Class::UNTOLERATED_TAINT,
            0.0,
            "the candidate nodes carry taints the pod does not tolerate",
            true,
        );
    };
    let condition = key.starts_with("node.kubernetes.io/");
    let shown = if value.is_empty() {
        format!("{key}:{effect}")
    } else {
        format!("{key}={value}:{effect}")
    };
    let summary = if condition {
        format!(
            "the candidate nodes carry the condition taint {shown}: they are unhealthy (not ready, unreachable or under pressure), and the pod does not tolerate that"
        )
    } else {
        format!(
            "the nodes that could run the pod carry taint {shown}, which the pod does not tolerate"
        )
    };
    let mut c = Cause::new(Class::UNTOLERATED_TAINT, 0.0, summary, !condition);
    if condition {
        c.remediation.push(Remediation {
            description: "fix the nodes' health (kubelet, CNI, disk) rather than tolerating the condition taint".into(),
            command: Some(format!("kubectl describe nodes {}", mine.first().map(|g| g.sample.join(" ")).unwrap_or_default())),
        });
        return c;
    }
    let mut tol = json!({"key": key, "operator": "Equal", "value": value, "effect": effect});
    if value.is_empty() {
        tol = json!({"key": key, "operator": "Exists", "effect": effect});
    }
    let mut all: Vec<Value> = needs
        .spec
        .tolerations
        .iter()
        .flatten()
        .filter_map(|t| serde_json::to_value(t).ok())
        .collect();
    all.push(tol.clone());
    let jq = format!(".tolerations = ((.tolerations // []) + [{tol}])");
    c.remediation.push(change_pod_spec(
        w,
        &format!("add toleration {tol}"),
        json!({"tolerations": all}),
        &jq,
    ));
    if let Some(g) = mine.first().filter(|g| !g.pool.is_empty()) {
        c.remediation.push(Remediation {
            description: format!(
                "or, if the taint is not meant for this workload's pool, remove it from pool {}",
                g.pool
            ),
            command: Some(format!(
                "kubectl taint nodes {} {shown}-",
                g.sample.join(" ")
            )),
        });
    }
    c.details = json!({"toleration": tol});
    c
}

fn affinity(index: &SnapshotIndex<'_>, mine: &[&NodeGroup], w: &Workload) -> Cause {
    let mut selector_miss: Vec<(String, String)> = Vec::new();
    for g in mine {
        for b in &g.blocks {
            if let Block::NodeSelector { key, value } = b
                && !selector_miss.contains(&(key.clone(), value.clone()))
            {
                selector_miss.push((key.clone(), value.clone()));
            }
        }
    }
    let mut parts = Vec::new();
    for (k, v) in &selector_miss {
        let mut seen: Vec<&str> = index.nodes.iter().filter_map(|n| n.label(k)).collect();
        seen.sort_unstable();
        seen.dedup();
        let have = if seen.is_empty() {
            "no node has that label".to_owned()
        } else {
            format!(
                "nodes have {k} ∈ {{{}}}",
                seen.iter().take(8).copied().collect::<Vec<_>>().join(", ")
            )
        };
        parts.push(format!("nodeSelector {k}={v}: {have}"));
    }
    if mine.iter().any(|g| g.blocks.contains(&Block::NodeAffinity)) {
        parts.push("required node affinity matches none of these nodes".into());
    }
    let mut c = Cause::new(
        Class::NODE_AFFINITY,
        0.0,
        format!(
            "the pod's node selection excludes the nodes: {}",
            parts.join("; ")
        ),
        true,
    );
    if let Some((k, v)) = selector_miss.first() {
        let spec = json!({"nodeSelector": {k: Value::Null}});
        let jq = format!("del(.nodeSelector[{}])", jq_str(k));
        c.remediation.push(change_pod_spec(
            w,
            &format!("drop nodeSelector {k}={v} (or correct it to a value nodes have)"),
            spec,
            &jq,
        ));
        if let Some(g) = mine
            .iter()
            .find(|g| g.blocks.iter().all(|b| b.class() == Class::NODE_AFFINITY))
        {
            c.remediation.push(Remediation {
                description: format!(
                    "or label the nodes that should run it ({} node(s) would then fit)",
                    g.count
                ),
                command: Some(format!(
                    "kubectl label nodes {} {k}={v}",
                    g.sample.join(" ")
                )),
            });
        }
    }
    c
}

fn cordoned(mine: &[&NodeGroup]) -> Cause {
    let n: usize = mine.iter().map(|g| g.count).sum();
    let mut c = Cause::new(
        Class::UNSCHEDULABLE_NODES,
        0.0,
        format!("{n} otherwise suitable node(s) are cordoned (spec.unschedulable)"),
        false,
    );
    let names: Vec<String> = mine
        .iter()
        .flat_map(|g| g.sample.iter().cloned())
        .take(10)
        .collect();
    c.remediation.push(Remediation {
        description: "uncordon them if the drain or maintenance is over".into(),
        command: Some(format!("kubectl uncordon {}", names.join(" "))),
    });
    c
}

fn ports(needs: &PodNeeds<'_>, mine: &[&NodeGroup]) -> Cause {
    let ports: Vec<String> = needs
        .host_ports
        .iter()
        .map(|(p, n, _)| format!("{n}/{p}"))
        .collect();
    let n: usize = mine.iter().map(|g| g.count).sum();
    let mut c = Cause::new(
        Class::HOST_PORTS,
        0.0,
        format!(
            "host port(s) {} are already taken on {n} candidate node(s)",
            ports.join(", ")
        ),
        false,
    );
    c.remediation.push(Remediation {
        description: "drop hostPort (expose the pod through a Service instead) or run at most one such pod per node (a DaemonSet)".into(),
        command: None,
    });
    c
}

fn pod_affinity(mine: &[&NodeGroup]) -> Cause {
    let mut kinds: Vec<String> = mine
        .iter()
        .flat_map(|g| g.blocks.iter())
        .filter(|b| b.class() == Class::POD_AFFINITY)
        .map(Block::describe)
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut c = Cause::new(
        Class::POD_AFFINITY,
        0.0,
        format!(
            "inter-pod (anti-)affinity or topology spread rules exclude the nodes: {}",
            kinds.join("; ")
        ),
        false,
    );
    c.remediation.push(Remediation {
        description: "add nodes in another topology domain, reduce replicas, or relax the rule (preferredDuringScheduling… / whenUnsatisfiable: ScheduleAnyway)".into(),
        command: None,
    });
    c
}

fn volume_causes(needs: &PodNeeds<'_>, index: &SnapshotIndex<'_>) -> Vec<Cause> {
    let mut out = Vec::new();
    let have_storage_state = !index.snapshot.pvcs.is_empty()
        || !index.snapshot.storage_classes.is_empty()
        || !index.snapshot.pvs.is_empty();
    if !have_storage_state {
        return out;
    }
    for v in needs.spec.volumes.iter().flatten() {
        let claim = match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(c), _) => c.claim_name.clone(),
            (None, Some(_)) => format!("{}-{}", needs.name, v.name),
            _ => continue,
        };
        let Some(pvc) = index.pvc(&needs.namespace, &claim) else {
            if v.persistent_volume_claim.is_some() {
                let mut c = Cause::new(
                    Class::VOLUME_BINDING,
                    0.9,
                    format!("PersistentVolumeClaim {claim} does not exist"),
                    true,
                );
                c.evidence.push(format!(
                    "volume {} → persistentvolumeclaim \"{claim}\" not found in {}",
                    v.name, needs.namespace
                ));
                out.push(c);
            }
            continue;
        };
        let phase = pvc
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending");
        if phase == "Bound" {
            continue;
        }
        let spec = pvc.spec.as_ref();
        let sc_name = spec.and_then(|s| s.storage_class_name.clone()).or_else(|| {
            index
                .default_storage_class()
                .and_then(|s| s.metadata.name.clone())
        });
        match sc_name.as_deref() {
            Some("") | None => {
                let mut c = Cause::new(
                    Class::VOLUME_BINDING,
                    0.85,
                    format!(
                        "PVC {claim} is Pending with no StorageClass, and no PersistentVolume is available to bind it"
                    ),
                    true,
                );
                c.evidence.push(format!(
                    "pvc/{claim}: phase {phase}, storageClassName unset and no default StorageClass"
                ));
                c.remediation.push(Remediation { description: "set a StorageClass on the claim (or mark one as default), or create a matching PersistentVolume".into(), command: Some("kubectl get storageclass".into()) });
                out.push(c);
            }
            Some(sc) => {
                match index.storage_class(sc) {
                    None => {
                        let mut c = Cause::new(
                            Class::VOLUME_BINDING,
                            0.93,
                            format!("PVC {claim} asks for StorageClass {sc}, which does not exist"),
                            true,
                        );
                        c.evidence.push(format!("pvc/{claim}: phase {phase}, storageClassName {sc}; storageclasses: [{}]", index.snapshot.storage_classes.iter().filter_map(|s| s.metadata.name.as_deref()).collect::<Vec<_>>().join(", ")));
                        let default = index
                            .default_storage_class()
                            .and_then(|s| s.metadata.name.clone());
                        c.remediation.push(Remediation {
                        description: format!(
                            "recreate the claim with an existing StorageClass{} (storageClassName is immutable)",
                            default.as_deref().map(|d| format!(" such as the default {d}")).unwrap_or_default()
                        ),
                        command: Some(format!(
                            "kubectl get pvc {claim} -n {ns} -o json | jq '.spec.storageClassName = {} | del(.metadata.resourceVersion, .metadata.uid, .status)' | kubectl replace --force -f -",
                            jq_str(default.as_deref().unwrap_or("<class>")),
                            ns = needs.namespace
                        )),
                    });
                        out.push(c);
                    }
                    Some(class) => {
                        let wffc =
                            class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer");
                        let static_only = class.provisioner == "kubernetes.io/no-provisioner";
                        if static_only {
                            let available = index.all_pvs().iter().any(|pv| {
                                pv.spec
                                    .as_ref()
                                    .and_then(|s| s.storage_class_name.as_deref())
                                    == Some(sc)
                                    && pv.status.as_ref().and_then(|s| s.phase.as_deref())
                                        == Some("Available")
                            });
                            if !available {
                                let mut c = Cause::new(
                                    Class::VOLUME_BINDING,
                                    0.88,
                                    format!(
                                        "PVC {claim} uses StorageClass {sc} (no provisioner) and no Available PersistentVolume of that class exists"
                                    ),
                                    true,
                                );
                                c.evidence.push(format!("storageclass/{sc}: provisioner kubernetes.io/no-provisioner; 0 Available PVs"));
                                c.remediation.push(Remediation { description: format!("create a PersistentVolume with storageClassName {sc} that satisfies the claim"), command: Some(format!("kubectl get pv -o wide | grep {sc}")) });
                                out.push(c);
                            }
                        } else if !wffc {
                            let mut c = Cause::new(
                                Class::VOLUME_BINDING,
                                0.8,
                                format!(
                                    "PVC {claim} (StorageClass {sc}, Immediate binding) is still unbound: the provisioner {} has not created its volume",
                                    class.provisioner
                                ),
                                false,
                            );
                            c.evidence.push(format!("pvc/{claim}: phase {phase}"));
                            c.remediation.push(Remediation { description: "check the claim's ProvisioningFailed events and the CSI provisioner's logs".into(), command: Some(format!("kubectl describe pvc {claim} -n {}", needs.namespace)) });
                            out.push(c);
                        }
                    }
                }
            }
        }
    }
    out
}

/// Quota arithmetic for a pod that is not created yet (a Job's FailedCreate).
pub fn quota_causes(needs: &PodNeeds<'_>, quotas: &[&ResourceQuota], w: &Workload) -> Vec<Cause> {
    let mut out = Vec::new();
    let requests = &needs.requests.total;
    let mut limits = Res::new();
    for c in needs.requests.containers.iter().filter(|c| !c.init) {
        crate::resources::add_into(&mut limits, &c.limits);
    }
    for q in quotas {
        let name = q.metadata.name.as_deref().unwrap_or("");
        let hard = to_res(
            q.status
                .as_ref()
                .and_then(|s| s.hard.as_ref())
                .or(q.spec.as_ref().and_then(|s| s.hard.as_ref())),
        );
        let used = to_res(q.status.as_ref().and_then(|s| s.used.as_ref()));
        let mut missing = Vec::new();
        for (res, limit) in &hard {
            let (want, tracked_on_limits) = match res.as_str() {
                "pods" | "count/pods" => (Some(Quantity::from_units(1)), None),
                r if r.starts_with("requests.") => (
                    Some(
                        requests
                            .get(&r["requests.".len()..])
                            .copied()
                            .unwrap_or_default(),
                    ),
                    Some(false),
                ),
                r if r.starts_with("limits.") => (
                    Some(
                        limits
                            .get(&r["limits.".len()..])
                            .copied()
                            .unwrap_or_default(),
                    ),
                    Some(true),
                ),
                "cpu" | "memory" | "ephemeral-storage" => (
                    Some(requests.get(res.as_str()).copied().unwrap_or_default()),
                    Some(false),
                ),
                _ => (None, None),
            };
            let Some(want) = want else { continue };
            if let Some(on_limits) = tracked_on_limits {
                let base = base_resource(res);
                if matches!(base, "cpu" | "memory") {
                    for c in needs.requests.containers.iter() {
                        let has = if on_limits {
                            c.limits.contains_key(base)
                        } else {
                            c.requests.contains_key(base)
                        };
                        if !has {
                            missing.push(format!("{res} for: {}", c.name));
                        }
                    }
                }
            }
            let u = used.get(res).copied().unwrap_or_default();
            let left = *limit - u;
            if want > left {
                let mut c = Cause::new(
                    Class::QUOTA_EXCEEDED,
                    0.93,
                    format!(
                        "quota {name} has {} {res} left (hard {}, used {}), the pod asks {}",
                        left.max(Quantity::ZERO).display_for(res),
                        limit.display_for(res),
                        u.display_for(res),
                        want.display_for(res)
                    ),
                    want > *limit,
                );
                c.evidence.push(format!(
                    "resourcequota/{name} in {}: {res} hard={} used={}",
                    needs.namespace,
                    limit.display_for(res),
                    u.display_for(res)
                ));
                c.remediation.push(raise_quota(
                    &needs.namespace,
                    name,
                    res,
                    &(u + want).display_for(res),
                ));
                if want <= *limit {
                    c.remediation.push(Remediation {
                        description: "or wait for / delete finished pods that still count against the quota (Terminating pods count until they are gone)".into(),
                        command: Some(format!("kubectl get pods -n {} --field-selector=status.phase!=Running,status.phase!=Pending", needs.namespace)),
                    });
                }
                c.details = json!({"quota": name, "resource": res, "hard": limit.display_for(res), "used": u.display_for(res), "left": left.display_for(res), "requested": want.display_for(res)});
                out.push(c);
            }
        }
        if !missing.is_empty() {
            missing.sort();
            missing.dedup();
            let mut c = Cause::new(
                Class::QUOTA_EXCEEDED,
                0.9,
                format!(
                    "quota {name} tracks cpu/memory, so every container must set them: must specify {}",
                    missing.join("; ")
                ),
                true,
            );
            c.evidence.push(format!(
                "resourcequota/{name} hard: {}",
                hard.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
            c.remediation.push(Remediation {
                description: "set requests and limits on every container (or add a LimitRange with defaults to the namespace)".into(),
                command: Some(format!("kubectl set resources {}/{} -n {} --requests=cpu=100m,memory=128Mi --limits=cpu=500m,memory=512Mi", w.kind.to_lowercase(), w.name, w.namespace)),
            });
            out.push(c);
        }
    }
    out
}

/// LimitRange min/max and request>limit checks on the pod after defaulting.
pub fn limit_range_causes(needs: &PodNeeds<'_>, index: &SnapshotIndex<'_>) -> Vec<Cause> {
    let mut out = Vec::new();
    for lr in index.limit_ranges(&needs.namespace) {
        let lr_name = lr.metadata.name.as_deref().unwrap_or("");
        for item in lr.spec.as_ref().map(|s| s.limits.as_slice()).unwrap_or(&[]) {
            if item.type_ != "Container" {
                continue;
            }
            let min = to_res(item.min.as_ref());
            let max = to_res(item.max.as_ref());
            for c in &needs.requests.containers {
                for (res, m) in &min {
                    if let Some(r) = c.requests.get(res).filter(|r| *r < m) {
                        out.push(lr_cause(lr_name, &format!("minimum {res} usage per Container is {}, but container {} requests {}", m.display_for(res), c.name, r.display_for(res))));
                    }
                }
                for (res, m) in &max {
                    if let Some(l) = c.limits.get(res).filter(|l| *l > m) {
                        out.push(lr_cause(lr_name, &format!("maximum {res} usage per Container is {}, but container {} has limit {}", m.display_for(res), c.name, l.display_for(res))));
                    }
                }
                for (res, r) in &c.requests {
                    if let Some(l) = c.limits.get(res).filter(|l| r > *l) {
                        let injected = c.defaulted.iter().any(|d| d == &format!("limits.{res}"));
                        let how = if injected {
                            format!(
                                "LimitRange {lr_name} injected the default limit {}",
                                l.display_for(res)
                            )
                        } else {
                            format!("its limit is {}", l.display_for(res))
                        };
                        let mut cause = lr_cause(
                            lr_name,
                            &format!(
                                "container {} requests {} {res} but {how}: the request must not exceed the limit",
                                c.name,
                                r.display_for(res)
                            ),
                        );
                        cause.remediation.insert(0, Remediation { description: format!("set limits.{res} ≥ {} on container {} (or drop its request and take the defaults)", r.display_for(res), c.name), command: None });
                        out.push(cause);
                    }
                }
            }
        }
    }
    out.truncate(5);
    out
}

fn lr_cause(lr: &str, what: &str) -> Cause {
    let mut c = Cause::new(
        Class::LIMIT_RANGE,
        0.9,
        format!("LimitRange {lr} rejects the pod: {what}"),
        true,
    );
    c.evidence.push(what.to_owned());
    c.remediation.push(Remediation {
        description: format!(
            "fit the container resources to LimitRange {lr}, or change the LimitRange"
        ),
        command: Some(format!("kubectl get limitrange {lr} -o yaml")),
    });
    c
}
