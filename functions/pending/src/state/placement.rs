//! Placement causes other than resources: taints, node affinity, cordoned nodes, host
//! ports and pod (anti-)affinity / topology spread.

use std::collections::BTreeMap;

use lastmile_events::{Class, Remediation};
use serde_json::{Value, json};

use super::Cause;
use crate::fit::{Block, NodeGroup, PodNeeds};
use crate::index::SnapshotIndex;
use crate::remedy::{Workload, change_pod_spec, jq_str};

pub(super) fn taint(needs: &PodNeeds<'_>, mine: &[&NodeGroup], w: &Workload) -> Cause {
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
            Class::UntoleratedTaint,
            0.0,
            "the candidate nodes carry taints the pod does not tolerate",
            true,
        );
    };
    let condition = key.starts_with("node.kubernetes.io/");
    let shown = crate::selectors::taint_shown(&key, &value, &effect);
    let summary = if condition {
        format!(
            "the candidate nodes carry the condition taint {shown}: they are unhealthy (not ready, unreachable or under pressure), and the pod does not tolerate that"
        )
    } else {
        format!(
            "the nodes that could run the pod carry taint {shown}, which the pod does not tolerate"
        )
    };
    let mut c = Cause::new(Class::UntoleratedTaint, 0.0, summary, !condition);
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

pub(super) fn affinity(index: &SnapshotIndex<'_>, mine: &[&NodeGroup], w: &Workload) -> Cause {
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
        Class::NodeAffinity,
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
            .find(|g| g.blocks.iter().all(|b| b.class() == Class::NodeAffinity))
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

pub(super) fn cordoned(mine: &[&NodeGroup]) -> Cause {
    let n: usize = mine.iter().map(|g| g.count).sum();
    let mut c = Cause::new(
        Class::UnschedulableNodes,
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

pub(super) fn ports(needs: &PodNeeds<'_>, mine: &[&NodeGroup]) -> Cause {
    let ports: Vec<String> = needs
        .host_ports
        .iter()
        .map(|(p, n, _)| format!("{n}/{p}"))
        .collect();
    let n: usize = mine.iter().map(|g| g.count).sum();
    let mut c = Cause::new(
        Class::HostPorts,
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

pub(super) fn pod_affinity(mine: &[&NodeGroup]) -> Cause {
    let mut kinds: Vec<String> = mine
        .iter()
        .flat_map(|g| g.blocks.iter())
        .filter(|b| b.class() == Class::PodAffinity)
        .map(Block::describe)
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut c = Cause::new(
        Class::PodAffinity,
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
