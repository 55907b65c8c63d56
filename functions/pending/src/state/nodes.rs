//! Causes from the node fit: which block, on how many node groups, ranked by how many
//! nodes each would unlock on its own; resource shortfalls with the arithmetic.

use std::collections::BTreeMap;

use lastmile_events::Class;
use serde_json::{Value, json};

use super::placement::{affinity, cordoned, pod_affinity, ports, taint};
use super::{Cause, MAX_GROUPS};
use crate::fit::{Block, FitReport, NodeGroup, PodNeeds};
use crate::index::SnapshotIndex;
use crate::quantity::{Quantity, base_resource};
use crate::remedy::{Workload, add_capacity, change_pod_spec, jq_str};

pub(super) fn groups_json(groups: &[&NodeGroup]) -> Value {
    let shown: Vec<&&NodeGroup> = groups.iter().take(MAX_GROUPS).collect();
    json!({
        "groups": shown,
        "groups_total": groups.len(),
        "nodes_total": groups.iter().map(|g| g.count).sum::<usize>(),
    })
}

pub(super) fn group_line(g: &NodeGroup) -> String {
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

pub(super) fn node_causes(
    needs: &PodNeeds<'_>,
    index: &SnapshotIndex<'_>,
    report: &FitReport,
    groups: &[NodeGroup],
    w: &Workload,
) -> Vec<Cause> {
    // Per class: nodes where it is the only class blocking ("fix this alone and it fits"),
    // and nodes where it blocks at all, counting only in-scope nodes (not excluded by
    // selectors or control-plane taints) unless no node is in scope.
    let mut sole: BTreeMap<Class, usize> = BTreeMap::new();
    let mut any_in_scope: BTreeMap<Class, usize> = BTreeMap::new();
    let mut any: BTreeMap<Class, usize> = BTreeMap::new();
    let mut in_scope = 0usize;
    // Groups hold nodes with identical blocks, so counting per group (tens) instead of per
    // node (thousands) gives the same totals.
    for g in groups {
        let scoped = g.blocks.iter().any(Block::is_scope);
        if !scoped {
            in_scope += g.count;
        }
        let mut classes: Vec<Class> = g.blocks.iter().map(Block::class).collect();
        classes.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        classes.dedup();
        for c in &classes {
            *any.entry(c.clone()).or_default() += g.count;
            if !scoped {
                *any_in_scope.entry(c.clone()).or_default() += g.count;
            }
        }
        if classes.len() == 1 {
            *sole.entry(classes[0].clone()).or_default() += g.count;
        }
    }
    let control_plane_only = only_control_plane_taints(report);
    let mut scored: Vec<(Class, f64)> = any
        .keys()
        .map(|c| {
            let is_scope_class =
                *c == Class::NodeAffinity || (*c == Class::UntoleratedTaint && control_plane_only);
            let s = *sole.get(c).unwrap_or(&0) as f64;
            let a = *any_in_scope.get(c).unwrap_or(&0) as f64;
            let score = if is_scope_class && in_scope > 0 {
                (s * 10.0 + a) * 0.2
            } else if is_scope_class {
                s * 10.0 + *any.get(c).unwrap_or(&0) as f64 * 2.0
            } else {
                s * 10.0 + a
            };
            (c.clone(), score)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| a.0.as_str().cmp(b.0.as_str()))
    });
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
        let mut c = match class {
            Class::InsufficientResources => insufficient(needs, index, &mine, groups, w),
            Class::UntoleratedTaint => taint(needs, &mine, w),
            Class::NodeAffinity => affinity(index, &mine, w),
            Class::UnschedulableNodes => cordoned(&mine),
            Class::HostPorts => ports(needs, &mine),
            Class::VolumeBinding => Cause::new(
                Class::VolumeBinding,
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

pub(super) fn only_control_plane_taints(report: &FitReport) -> bool {
    report
        .nodes
        .iter()
        .flat_map(|c| c.blocks.iter())
        .filter(|b| matches!(b, Block::Taint { .. }))
        .all(Block::is_scope)
}

pub(super) fn insufficient(
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
    let mut c = Cause::new(Class::InsufficientResources, 0.0, summary, never);
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
