//! Ranking the classes of one fit error: which reason blocks the nodes every other
//! constraint would allow.

use lastmile_events::Class;

use super::reasons::Reason;
use super::scheduler::FitMessage;

/// Weight per class, by reasoning over which nodes each reason rules out:
/// - within a class the counts add up, but never past the nodes the scope leaves
///   (`1 Insufficient cpu, 1 Insufficient memory` of the one node a selector allows is one
///   node, not two);
/// - "scope" reasons (selectors, affinity, control-plane taints) say which nodes were never
///   candidates. When they rule out every node, they are the cause; otherwise the reasons
///   left block the nodes the scope allows, so those rank first and scope reasons after;
/// - equal weights are broken by how hard the blocker is (a cordon or taint holds whatever
///   the capacity, see [`precedence`]), then by order of appearance.
pub(super) fn weigh<'a>(
    fit: &FitMessage,
    reasons: &[(u64, &'a str, Reason)],
) -> Vec<(Class, f64, Vec<&'a str>)> {
    let scoped = scope_flags(reasons);
    let has_real = reasons
        .iter()
        .zip(&scoped)
        .any(|((_, _, r), s)| r.class().is_some() && !s);
    let scope_max = reasons
        .iter()
        .zip(&scoped)
        .filter(|(_, s)| **s)
        .map(|((n, _, _), _)| *n)
        .max()
        .unwrap_or(0);
    let scope_covers_all = fit.total.is_some_and(|t| t > 0 && scope_max >= t);
    let mut weights: Vec<(Class, f64, Vec<&str>)> = Vec::new();
    let mut scope_classes: Vec<Class> = Vec::new();
    for ((n, text, r), is_scope) in reasons.iter().zip(&scoped) {
        let Some(class) = r.class() else { continue };
        let mut w = (*n).min(1_000_000) as f64;
        if has_real && !scope_covers_all && *is_scope {
            w *= 0.25;
            scope_classes.push(class.clone());
        } else if scope_covers_all && !is_scope {
            w *= 0.25;
        }
        match weights.iter_mut().find(|(c, _, _)| *c == class) {
            Some(e) => {
                e.1 += w;
                e.2.push(text);
            }
            None => weights.push((class, w, vec![text])),
        }
    }
    if let Some(total) = fit.total.filter(|_| has_real && !scope_covers_all) {
        let candidates = total.saturating_sub(scope_max).max(1) as f64;
        for (c, w, _) in &mut weights {
            if !scope_classes.contains(c) {
                *w = w.min(candidates);
            }
        }
    }
    // Scope classes rank below every reason that blocks the candidates.
    let top_real = weights
        .iter()
        .filter(|(c, _, _)| !scope_classes.contains(c))
        .map(|w| w.1)
        .fold(0.0_f64, f64::max);
    for (c, w, _) in &mut weights {
        if scope_classes.contains(c) && top_real > 0.0 && *w >= top_real {
            *w = top_real * 0.9;
        }
    }
    let top = weights.iter().map(|w| w.1).fold(0.0_f64, f64::max);
    for (c, w, _) in &mut weights {
        if *w == top {
            *w += precedence(c) * 1e-3;
        }
    }
    weights
}

/// Which reasons say "this node was never meant for the pod" ([`Reason::is_scope`]). A
/// taint reason that hides its key (`PodToleratesNodeTaints`, `had taints that the pod
/// didn't tolerate`, v1.35's `had untolerated taint(s)`) counts as scope beside a capacity
/// reason: the nodes that report no room passed the taint check, so they are the pod's
/// candidates, and the tainted ones are most often the control plane or a dedicated pool.
/// Node-condition taints (not ready, pressure) say the node is unhealthy and never count.
/// So does a volume's node-affinity (or zone) conflict when the other nodes report only
/// capacity: the volume is pinned to other nodes, so the nodes that report no room are the
/// ones the volume allows, and their capacity is what blocks the pod (the nodes a volume's
/// zone allows are full: capacity). Beside other blockers (taints, a selector) the conflict
/// stays a blocker of its own (a volume pinned where the pod's own selector does not go).
fn scope_flags(reasons: &[(u64, &str, Reason)]) -> Vec<bool> {
    let capacity = reasons
        .iter()
        .any(|(_, _, r)| matches!(r, Reason::Insufficient { .. }));
    let keyless_taint = |text: &str, r: &Reason| {
        matches!(r, Reason::Taint { key: None, .. }) && {
            let t = text.to_ascii_lowercase();
            (t.contains("taint") || t.contains("tolerat"))
                && ![
                    "ready",
                    "unreachable",
                    "pressure",
                    "unavailable",
                    "out of disk",
                ]
                .iter()
                .any(|w| t.contains(w))
        }
    };
    let pinned_volume = |text: &str, r: &Reason| {
        matches!(r, Reason::Volume) && {
            let t = text.to_ascii_lowercase();
            ["node affinity conflict", "volume zone", "volumezone"]
                .iter()
                .any(|w| t.contains(w))
        }
    };
    // The nodes a pinned volume allows report nothing but capacity (or scope of their own).
    let only_capacity_left = reasons.iter().all(|(_, text, r)| {
        r.class().is_none()
            || r.is_scope()
            || matches!(r, Reason::Insufficient { .. })
            || keyless_taint(text, r)
            || pinned_volume(text, r)
    });
    reasons
        .iter()
        .map(|(_, text, r)| {
            r.is_scope()
                || (capacity && keyless_taint(text, r))
                || (capacity && only_capacity_left && pinned_volume(text, r))
        })
        .collect()
}

/// Tie-break among equally weighted classes: blockers no capacity change can lift first.
fn precedence(class: &Class) -> f64 {
    match class {
        Class::UnschedulableNodes => 6.0,
        Class::UntoleratedTaint => 5.0,
        Class::VolumeBinding => 4.0,
        Class::HostPorts => 3.0,
        Class::PodAffinity => 2.0,
        Class::InsufficientResources => 1.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests;
