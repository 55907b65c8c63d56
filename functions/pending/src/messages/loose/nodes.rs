//! Loose node signals: bare taint triples, `kubectl get nodes` tables of NotReady nodes,
//! host ports described (cordoned nodes are `cordon.rs`'s, node labels `node_label.rs`'s).

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::{NOT_SCHEDULABLE, says_pending};
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_around, quote_at};

/// `key[=value]:Effect` anywhere in a line.
static TAINT_TRIPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s\x22'`\[,(])([A-Za-z0-9][A-Za-z0-9._/-]*)(?:=([A-Za-z0-9._/-]*))?:(NoSchedule|NoExecute)\b")
        .expect("the loose patterns are valid regexes")
});

/// A `kubectl get nodes` row: name, then a status with `NotReady`.
static NOT_READY_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(\S+)\s+NotReady(?:,SchedulingDisabled)?\s+\S+\s+\S+\s+v\d")
        .expect("the loose patterns are valid regexes")
});

/// Lines of a pod's `Tolerations:` block (and toleration-like `for 300s` lines): the
/// triples there are what the pod tolerates, not what blocks it.
fn toleration_lines(text: &str) -> Vec<bool> {
    let mut in_block = false;
    text.lines()
        .map(|line| {
            let l = line.trim_start();
            if l.starts_with("Tolerations:") || l.starts_with("tolerations:") {
                in_block = true;
                return true;
            }
            if in_block && (!line.starts_with(char::is_whitespace) || l.is_empty()) {
                in_block = false;
            }
            in_block || l.contains(" for ") && l.ends_with('s') || l.contains("op=Exists")
        })
        .collect()
}

/// The taint the node controller puts on a cordoned node.
const CORDON_TAINT: &str = "node.kubernetes.io/unschedulable";

/// A taint triple outside any `Taints:` or `Tolerations:` block, when pods are pending.
pub(in crate::messages) fn bare_taint(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !says_pending(t.lower) || t.lower.contains("taints:") || !t.anchors.is_empty() {
        return;
    }
    let tolerations = toleration_lines(t.text);
    let mut taints: Vec<(String, String, String)> = Vec::new();
    for (line, tolerated) in t.text.lines().zip(tolerations) {
        if tolerated || line.to_ascii_lowercase().contains("toleration") {
            continue;
        }
        for c in TAINT_TRIPLE.captures_iter(line).take(20) {
            let taint = (
                c[1].to_owned(),
                c.get(2).map_or("", |m| m.as_str()).to_owned(),
                c[3].to_owned(),
            );
            if !taints.contains(&taint) {
                taints.push(taint);
            }
        }
    }
    let Some((k, v, e)) = taints.first() else {
        return;
    };
    // The node controller's cordon taint: the node is cordoned (spec.unschedulable), which
    // a scheduler may honour whatever the pod tolerates.
    if k == CORDON_TAINT {
        out.push(Finding::new(
            Class::UnschedulableNodes,
            0.55,
            format!("the node carries {CORDON_TAINT}:{e}, the taint of a cordoned node (spec.unschedulable: true), so no new pod is scheduled on it; uncordon it (`kubectl uncordon NODE`) or find what cordoned it (a drain, an upgrade, a node-problem remedy)"),
            &quote_around(t.text, CORDON_TAINT),
            true,
            Fact::None,
        ));
        return;
    }
    let shown = crate::selectors::taint_shown(k, v, e);
    out.push(Finding::new(
        Class::UntoleratedTaint,
        0.55,
        format!("a node carries the taint {shown} and the pending pods do not tolerate it"),
        &quote_around(t.text, &shown),
        true,
        Fact::NodeTaints(taints),
    ));
}

/// `kubectl get nodes` shows every listed node `NotReady` while pods are pending: the
/// nodes carry the not-ready taint, so nothing without a toleration for it schedules.
pub(in crate::messages) fn not_ready_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !says_pending(t.lower) {
        return;
    }
    let not_ready: Vec<&str> = NOT_READY_ROW
        .captures_iter(t.text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .take(50)
        .collect();
    let ready_rows = t
        .text
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("Ready"))
        .count();
    if not_ready.is_empty() || ready_rows > 0 {
        return;
    }
    out.push(Finding::new(
        Class::UntoleratedTaint,
        0.5,
        format!(
            "every listed node is NotReady ({}), so each carries the node.kubernetes.io/not-ready taint and pending pods cannot land; find out why the kubelet or network plugin is not ready",
            not_ready.join(", ")
        ),
        &quote_around(t.text, "NotReady"),
        false,
        Fact::None,
    ));
}

/// Pods using the node's ports (hostNetwork / hostPort) said to be unable to land: during
/// a rolling update the old pod still holds the ports on every node it may use.
static HOST_PORTS_BUSY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bports? (?:are |is )?(?:not available|not free|already (?:in use|allocated|taken)|in use|busy)\b|\bno free ports?\b|\bport conflicts?\b")
        .expect("the loose patterns are valid regexes")
});

/// A node port told to be held on the nodes, or by a per-node workload (a DaemonSet, a
/// service load balancer, an ingress controller), with no hostPort / hostNetwork named:
/// "ports 80 and 443 are already taken on every node", "the ServiceLB DaemonSet holds port
/// 443" (lower-cased, flattened text).
static PORT_HELD_ON_NODES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bports?\b[^.\n]{0,30}?\b(?:already (?:in use|taken|allocated|bound|used)|in use|taken|held|occupied|bound)\b[^.\n]{0,50}?(?:\bon (?:the |each |every |all |that |this |those )?(?:nodes?|hosts?|workers?|machines?)\b|\bby (?:the |a |an )?[\w-]*\s?(?:daemon ?set|load ?balancer|servicelb|ingress)[\w-]*)|\b(?:daemon ?sets?|load ?balancers?|servicelb|ingress(?: controllers?)?)\b[^.\n]{0,40}?\b(?:holds?|held|takes?|took|uses?|occupies|occupied|binds?|grabs?|grabbed)\b[^.\n]{0,30}?\bports?\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods told to want the same port as one another, more of them than nodes, or the
/// scheduler's port check named (lower-cased, flattened text): "launch 5 pods on the same
/// port on a 4 node cluster", "two replicas with the same host port", "the same port on one
/// node", the predicate `PodFitsPorts` / `PodFitsHostPorts`. One node binds a port once,
/// so the pod beyond one per node cannot be placed.
static SAME_PORT_PODS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:pods?|replicas?|instances?|copies|containers?)\b[^.\n]{0,40}?\b(?:same|identical) (?:host ?)?ports?\b|\b(?:same|identical) (?:host ?)?ports?\b[^.\n]{0,40}?\bon (?:one|a single|the same|each|every) (?:node|host|machine)\b|\bpodfits(?:host)?ports\b")
        .expect("the loose patterns are valid regexes")
});

/// A per-node agent (a node exporter, a DaemonSet, a node agent) of a second install of the
/// same thing: "installed the chart after one release was already installed", "a second
/// kube-prometheus-stack", "installing the agent chart twice" (lower-cased, flattened
/// text). Per-node agents bind host ports (node-exporter's 9100) on every node, so the
/// second copy's pods find the ports taken.
static SECOND_COPY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:second|another|2nd|duplicate) (?:[\w-]+ ){0,2}?(?:[\w-]+-)?(?:release|install(?:ation)?|instance|copy|stack)s?\b|\b(?:already|previously) (?:been )?(?:installed|deployed)\b|\binstall(?:ed|ing)?\b[^.\n]{0,40}?\btwice\b|\btwo (?:helm )?(?:releases|installs|installations|instances|copies|stacks) of\b")
        .expect("the loose patterns are valid regexes")
});

/// `kubectl describe`'s `Host Port:` field with a port set (describe prints `0/TCP` when
/// the container has none), lower-cased.
static DESCRIBED_HOST_PORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bhost port:\s*[1-9]\d*/(?:tcp|udp|sctp)\b")
        .expect("the loose patterns are valid regexes")
});

/// A per-node agent named (lower-cased text): a node exporter, a DaemonSet, a node agent.
static NODE_AGENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bnode[-_ ]?exporters?\b|\bdaemon ?sets?\b|\b(?:per-)?node[- ]agents?\b")
        .expect("the loose patterns are valid regexes")
});

/// hostNetwork / hostPort pods (describe's `Host Port:` set, k3s ServiceLB's `svclb-` pods,
/// which take every LoadBalancer port as a hostPort on each node) described as pending, or
/// their ports as taken, with no scheduler message: the new pod needs ports an old pod (or another workload) holds. A
/// port told to be held on the nodes by a per-node workload, beside pending pods, counts
/// without hostPort named; so do pods told to want the same port and not to schedule, and
/// a per-node agent of a second install left pending.
pub(in crate::messages) fn described_host_ports(t: &Input<'_>, out: &mut Vec<Finding>) {
    let held = || {
        PORT_HELD_ON_NODES
            .find(t.lower)
            .filter(|_| says_pending(t.lower) && !t.lower.contains("bind: address already in use"))
            .map(|m| m.start())
    };
    let waits = says_pending(t.lower) || NOT_SCHEDULABLE.is_match(t.lower);
    let same_port = || {
        SAME_PORT_PODS
            .find(t.lower)
            .filter(|_| waits && !t.lower.contains("address already in use"))
            .map(|m| m.start())
    };
    let second_copy = || {
        SECOND_COPY
            .find(t.lower)
            .filter(|_| waits && NODE_AGENT.is_match(t.lower))
            .map(|m| m.start())
    };
    let Some(at) = [
        "hostnetwork: true",
        "hostnetwork",
        "hostport",
        "svclb-",
        "klipper-lb",
    ]
    .iter()
    .find_map(|w| t.lower.find(w))
    .or_else(|| DESCRIBED_HOST_PORT.find(t.lower).map(|m| m.start()))
    .or_else(held)
    .or_else(same_port)
    .or_else(second_copy) else {
        return;
    };
    if !t.anchors.is_empty() || !(waits || HOST_PORTS_BUSY.is_match(t.lower)) {
        return;
    }
    out.push(Finding::new(
        Class::HostPorts,
        0.5,
        "the pods use the node's network ports (hostNetwork / hostPort) and cannot be placed: each node runs one such pod, so a pod whose ports another pod already holds on the node (the old pod of a rolling update, a service load balancer or ingress DaemonSet, the same agent DaemonSet from another release) stays Pending, as do more replicas than ready nodes; find the holder (`kubectl get pods -A -o wide` on that node), use maxSurge 0 / maxUnavailable 1 or the Recreate strategy, or move one of them to other ports",
        &quote_at(t.flat, at),
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &TAINT_TRIPLE,
        &NOT_READY_ROW,
        &HOST_PORTS_BUSY,
        &PORT_HELD_ON_NODES,
        &SAME_PORT_PODS,
        &SECOND_COPY,
        &NODE_AGENT,
        &DESCRIBED_HOST_PORT,
    ] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
