//! The scanner's ordered rule table: every rule reads the same text and adds what it
//! finds. Order matters only for ties when findings of one class are merged (the earlier
//! finding wins), so the scheduler's own words come first, then admission, autoscalers and
//! the node-level texts. To add a message shape, add a rule here and a sample to
//! `tests.rs` that this rule, and no other, finds.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::admission::{self, QuotaRejection};
use super::autoscaler::{self, AutoscalerSignal};
use super::reasons::classify_reason;
use super::scheduler::{self, FitMessage};
use super::{Fact, Finding, message_at, quote_around, quote_at};

/// The text every rule reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    /// As given (line structure kept: describe tables, wrapped event lines).
    pub(crate) text: &'a str,
    /// Every whitespace run collapsed, so wrapped lines read as one.
    pub(crate) flat: &'a str,
    /// `flat`, ASCII-lowercased.
    pub(crate) lower: &'a str,
}

/// One rule: a name (the tests hit each rule alone by it) and the matcher that turns the
/// text into findings.
pub(crate) struct Rule {
    /// Stable name.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "documents the table; read by tests")
    )]
    pub(crate) name: &'static str,
    /// Appends what this rule finds in the text.
    pub(crate) scan: fn(&Input<'_>, &mut Vec<Finding>),
}

/// Every rule, in order.
pub(crate) static RULES: &[Rule] = &[
    Rule {
        name: "fit-error",
        scan: fit_errors,
    },
    Rule {
        name: "bare-reason",
        scan: bare_reasons,
    },
    Rule {
        name: "quota",
        scan: quota,
    },
    Rule {
        name: "limit-range",
        scan: limit_range,
    },
    Rule {
        name: "policy",
        scan: policy,
    },
    Rule {
        name: "autoscaler",
        scan: autoscaler_signal,
    },
    Rule {
        name: "no-nodes",
        scan: no_nodes,
    },
    Rule {
        name: "scheduling-gate",
        scan: scheduling_gate,
    },
    Rule {
        name: "kubelet-predicate",
        scan: kubelet_predicate,
    },
    Rule {
        name: "plugin-error",
        scan: plugin_error,
    },
    Rule {
        name: "volume",
        scan: volume,
    },
    Rule {
        name: "node-taints",
        scan: node_taints_line,
    },
    Rule {
        name: "cni-not-ready",
        scan: cni_not_ready,
    },
];

/// `0/N nodes are available: …`: one finding per class the reasons name, weighted by node
/// counts.
fn fit_errors(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let anchors = scheduler::anchors(text);
    for start in anchors.into_iter().take(200) {
        let msg = message_at(text, start);
        let Some(fit) = scheduler::parse_fit(&msg) else {
            continue;
        };
        if fit.total == Some(0) {
            out.push(Finding::new(
                Class::NO_NODES,
                0.85,
                "the scheduler considered 0 nodes: the cluster has no nodes it can schedule on",
                &msg,
                false,
                Fact::Fit(fit),
            ));
            continue;
        }
        let reasons = fit.reasons();
        // Weight per class: node counts, with "scope" reasons (selectors, control-plane
        // taints) discounted when other reasons exist — those nodes were never candidates.
        let has_real = reasons
            .iter()
            .any(|(_, _, r)| r.class().is_some() && !r.is_scope());
        let mut weights: Vec<(&'static str, f64, Vec<&str>)> = Vec::new();
        for (n, text, r) in &reasons {
            let Some(class) = r.class() else { continue };
            let mut w = (*n).min(1_000_000) as f64;
            if has_real && r.is_scope() {
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
        let top = weights.iter().map(|w| w.1).fold(0.0_f64, f64::max);
        for (class, w, texts) in weights {
            let share = if top > 0.0 { w / top } else { 0.0 };
            let confidence = if share >= 1.0 {
                0.8
            } else {
                (0.35 + 0.4 * share).min(0.75)
            };
            let total = fit
                .total
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into());
            let summary = format!(
                "the scheduler rejects the pod on {} of {total} nodes: {}",
                count_for(&fit, class),
                texts.join("; ")
            );
            out.push(Finding::new(
                class,
                confidence,
                summary,
                &msg,
                definitive_by_text(class),
                Fact::Fit(fit.clone()),
            ));
        }
    }
}

static BARE_REASON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(\d+) )?(node\(s\) [^,.;\x22\n]+|insufficient (?:cpu|memory|ephemeral-storage|pods|hugepages-[0-9a-z]+|[a-z0-9.-]+/[a-z0-9._-]+)|too many pods|pod has unbound (?:immediate )?persistentvolumeclaims|persistentvolumeclaim \S+ not found|didn't have enough resource: [a-z0-9./-]+)")
    .expect("the scanner's patterns are valid regexes")
});

/// Reason phrases quoted without their `0/N nodes are available:` header (people paste
/// just the part they think matters).
fn bare_reasons(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    if !scheduler::anchors(text).is_empty() {
        return;
    }
    let re = &*BARE_REASON;
    let mut seen: Vec<&'static str> = Vec::new();
    for c in re.captures_iter(text).take(50) {
        let reason = c.get(2).map_or("", |m| m.as_str());
        let Some(class) = classify_reason(reason).class() else {
            continue;
        };
        if seen.contains(&class) {
            continue;
        }
        seen.push(class);
        let quote = c.get(0).map_or(reason, |m| m.as_str());
        let summary = format!(
            "the scheduler's reason, quoted without its header: {}",
            reason.trim()
        );
        out.push(Finding::new(
            class,
            0.65,
            summary,
            quote,
            definitive_by_text(class),
            Fact::None,
        ));
    }
}

fn count_for(fit: &FitMessage, class: &str) -> u64 {
    fit.reasons()
        .iter()
        .filter(|(_, _, r)| r.class() == Some(class))
        .map(|(n, _, _)| *n)
        .fold(0u64, u64::saturating_add)
}

fn definitive_by_text(class: &str) -> bool {
    matches!(
        class,
        Class::UNTOLERATED_TAINT
            | Class::NODE_AFFINITY
            | Class::VOLUME_BINDING
            | Class::LIMIT_RANGE
            | Class::POLICY_DENIED
    )
}

/// A ResourceQuota rejection (exceeded, or a required resource not specified).
fn quota(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let flat = t.flat;
    let quota = text
        .lines()
        .find_map(admission::parse_quota)
        .or_else(|| admission::parse_quota(flat));
    if let Some(q) = quota {
        let (summary, quote, definitive) = match &q {
            QuotaRejection::Exceeded { quota, items } => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| {
                        let f = |x: Option<crate::quantity::Quantity>| {
                            x.map(|v| v.display_for(&i.resource))
                                .unwrap_or_else(|| "?".into())
                        };
                        let left = match (i.limited, i.used) {
                            (Some(l), Some(u)) => (l - u).display_for(&i.resource),
                            _ => "?".into(),
                        };
                        format!(
                            "{}: {} left of {} (used {}), the pod asks {}",
                            i.resource,
                            left,
                            f(i.limited),
                            f(i.used),
                            f(i.requested)
                        )
                    })
                    .collect();
                (
                    format!(
                        "ResourceQuota {quota} rejects the pod: {}",
                        parts.join("; ")
                    ),
                    format!("exceeded quota: {quota}"),
                    false,
                )
            }
            QuotaRejection::MustSpecify {
                quota,
                resources,
                containers,
            } => (
                format!(
                    "ResourceQuota {} requires {} on every container{}",
                    quota.as_deref().unwrap_or("(unnamed)"),
                    resources.join(", "),
                    if containers.is_empty() {
                        String::new()
                    } else {
                        format!("; missing on {}", containers.join(", "))
                    }
                ),
                "must specify".into(),
                true,
            ),
            QuotaRejection::Other { what } => (
                format!("quota admission rejects the pod: {what}"),
                what.clone(),
                false,
            ),
        };
        let quote = quote_around(text, &quote);
        out.push(Finding::new(
            Class::QUOTA_EXCEEDED,
            0.9,
            summary,
            &quote,
            definitive,
            Fact::Quota(q),
        ));
    }
}

/// LimitRange violations (minimum, maximum, ratio, request above limit).
fn limit_range(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let flat = t.flat;
    let lr = admission::parse_limit_range(flat);
    if !lr.is_empty() {
        let request_vs_limit = lr.iter().all(|v| v.check == "request>limit");
        let summary = if request_vs_limit {
            "the container's request is above its limit — typically a LimitRange default limit injected into a container that set only a request".to_owned()
        } else {
            format!(
                "LimitRange rejects the pod: {}",
                lr.iter()
                    .map(|v| v.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        let confidence = if request_vs_limit { 0.75 } else { 0.9 };
        out.push(Finding::new(
            Class::LIMIT_RANGE,
            confidence,
            summary,
            &quote_around(text, &lr[0].text),
            true,
            Fact::Limit(lr),
        ));
    }
}

/// An admission webhook, PodSecurity or policy engine denial.
fn policy(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let flat = t.flat;
    let policy = text
        .lines()
        .find_map(admission::parse_policy)
        .or_else(|| admission::parse_policy(flat));
    if let Some(p) = policy {
        let summary = if p.unreachable {
            format!(
                "{} could not be called and its failurePolicy rejects the pod",
                p.by
            )
        } else {
            format!("{} denies the pod", p.by)
        };
        let conf = if p.by == "a policy engine" || p.by.starts_with("ServiceAccount") {
            0.6
        } else {
            0.9
        };
        let quote = p.text.clone();
        out.push(Finding::new(
            Class::POLICY_DENIED,
            conf,
            summary,
            &quote,
            !p.unreachable,
            Fact::Policy(p),
        ));
    }
}

/// What Cluster Autoscaler or Karpenter said about the pod.
fn autoscaler_signal(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let flat = t.flat;
    let signal = text
        .lines()
        .find_map(autoscaler::parse_autoscaler)
        .or_else(|| autoscaler::parse_autoscaler(flat));
    let Some(signal) = signal else { return };
    match &signal {
        AutoscalerSignal::ScaleUpTriggered { text } => {
            let quote = text.clone();
            out.push(Finding::new(
                Class::INSUFFICIENT_RESOURCES,
                0.55,
                "the autoscaler is adding a node for the pod; it is waiting for capacity, not stuck yet",
                &quote,
                false,
                Fact::Autoscaler(signal),
            ));
        }
        AutoscalerSignal::NoScaleUp {
            by,
            text,
            reasons,
            at_limit,
            pools,
        } => {
            let quote = text.clone();
            let restricted = text.to_ascii_lowercase().contains("is restricted");
            let detail = if reasons.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    reasons
                        .iter()
                        .map(|(n, r)| format!("{n} {r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let why = if *at_limit {
                " (a node group or NodePool is at its size/resource limit)"
            } else {
                ""
            };
            let pools = if pools.is_empty() {
                String::new()
            } else {
                format!(" (NodePools: {})", pools.join(", "))
            };
            let summary = format!("{by} will not add a node for the pod{why}{pools}{detail}");
            if restricted {
                // The pod selects a label Karpenter refuses to provision for.
                out.push(Finding::new(
                    Class::NODE_AFFINITY,
                    0.8,
                    "the pod's node selector/affinity uses a label Karpenter treats as restricted, so Karpenter ignores the pod",
                    &quote,
                    true,
                    Fact::Autoscaler(signal.clone()),
                ));
            }
            let conf = if restricted { 0.7 } else { 0.82 };
            out.push(Finding::new(
                Class::NO_SCALE_UP,
                conf,
                summary,
                &quote,
                *at_limit,
                Fact::Autoscaler(signal.clone()),
            ));
        }
    }
}

static PREDICATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)predicate (\w+) failed|reason:\s+(OutOf\w+|NodeAffinity|NodeSelector|MatchNodeSelector)|\b(OutOf(?:cpu|memory|pods|ephemeral-storage|nvidia\.com/gpu))\b")
    .expect("the scanner's patterns are valid regexes")
});
static PLUGIN_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)running (?:"?(\w+)"? )?(?:(?:pre)?filter |reserve |prebind |permit )?plugin \\?"?(\w+)\\?"?"#)
    .expect("the scanner's patterns are valid regexes")
});
static TAINTS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|\s)(?:Taints:)?\s*([A-Za-z0-9][A-Za-z0-9._/-]*)(?:=([A-Za-z0-9._/-]*))?:(NoSchedule|NoExecute)\b")
    .expect("the scanner's patterns are valid regexes")
});

/// `no nodes available to schedule pods`.
fn no_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    let lower = t.lower;
    if let Some(at) = lower.find("no nodes available to schedule pods") {
        out.push(Finding::new(
            Class::NO_NODES,
            0.85,
            "the scheduler sees no nodes at all",
            &flat[at..],
            false,
            Fact::None,
        ));
    }
}

/// `SchedulingGated`: the pod waits for its scheduling gates.
fn scheduling_gate(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    let lower = t.lower;
    if let Some(at) = lower
        .find("schedulinggated")
        .or_else(|| lower.find("scheduling gate"))
    {
        out.push(Finding::new(
            Class::GATED,
            0.85,
            "the pod is held by spec.schedulingGates: the scheduler will not consider it until every gate is removed",
            &quote_at(flat, at),
            false,
            Fact::None,
        ));
    }
}

/// The kubelet rejected a bound pod at admission (`predicate … failed`, `OutOf…`).
fn kubelet_predicate(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    if let Some(c) = PREDICATE.captures(flat) {
        let name = c
            .get(1)
            .or(c.get(2))
            .or(c.get(3))
            .map_or("", |m| m.as_str());
        if let Some(class) = classify_reason(name).class() {
            let summary = format!(
                "the kubelet rejected the pod at admission: predicate {name} failed on the node it was bound to"
            );
            out.push(Finding::new(class, 0.7, summary, &c[0], false, Fact::None));
        }
    }
}

/// A scheduler plugin failed internally (SchedulerError), not an unschedulable verdict.
fn plugin_error(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    if let Some(c) = PLUGIN_ERROR.captures(flat) {
        let plugin = c.get(2).map_or("", |m| m.as_str());
        let at = c.get(0).map_or(0, |m| m.start());
        let quote = quote_at(flat, at);
        let class = classify_reason(&quote)
            .class()
            .or_else(|| classify_reason(plugin).class());
        if let Some(class) = class {
            let summary = format!(
                "the scheduler's {plugin} plugin failed with an internal error (SchedulerError), not an unschedulable verdict"
            );
            out.push(Finding::new(class, 0.6, summary, &quote, false, Fact::None));
        }
    }
}

/// The claim cannot get a volume (missing StorageClass, no PV, provisioning failed).
fn volume(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    let lower = t.lower;
    for (marker, summary) in [
        (
            "storageclass.storage.k8s.io",
            "the PVC names a StorageClass that does not exist",
        ),
        (
            "no persistent volumes available for this claim",
            "no PersistentVolume matches the claim and no StorageClass provisions one",
        ),
        (
            "provisioningfailed",
            "the volume provisioner failed to create the claim's volume",
        ),
        (
            "failed to provision volume",
            "the volume provisioner failed to create the claim's volume",
        ),
        (
            "waiting for a volume to be created",
            "the claim is still waiting for its provisioner to create a volume",
        ),
    ] {
        if let Some(at) = lower.find(marker)
            && (marker != "storageclass.storage.k8s.io" || lower[at..].contains("not found"))
        {
            out.push(Finding::new(
                Class::VOLUME_BINDING,
                0.75,
                summary,
                &quote_at(flat, at),
                true,
                Fact::None,
            ));
            break;
        }
    }
}

/// `kubectl describe node`: `Taints: key[=value]:Effect` (one per line), as
/// `(key, value, effect)`.
fn node_taints(text: &str) -> Vec<(String, String, String)> {
    let mut taints = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let l = line.trim_start();
        if l.starts_with("Taints:") {
            in_block = true;
        } else if in_block
            && (l.is_empty() || l.contains(": ") || !line.starts_with(char::is_whitespace))
        {
            in_block = false;
        }
        if !in_block {
            continue;
        }
        for c in TAINTS_LINE.captures_iter(l) {
            taints.push((
                c[1].to_owned(),
                c.get(2).map_or("", |m| m.as_str()).to_owned(),
                c[3].to_owned(),
            ));
        }
    }
    taints
}

/// A node's `Taints:` block the pod does not tolerate.
fn node_taints_line(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let taints = node_taints(text);
    if taints.is_empty() {
        return;
    }
    let shown: Vec<String> = taints
        .iter()
        .map(|(k, v, e)| {
            if v.is_empty() {
                format!("{k}:{e}")
            } else {
                format!("{k}={v}:{e}")
            }
        })
        .collect();
    let not_ready = taints
        .iter()
        .any(|(k, _, _)| k.starts_with("node.kubernetes.io/"));
    let summary = if not_ready {
        format!(
            "the node carries {} — a condition taint the pod does not tolerate (the node is not healthy)",
            shown.join(", ")
        )
    } else {
        format!(
            "the node carries taint(s) {} that block pods without a matching toleration",
            shown.join(", ")
        )
    };
    let conf = if not_ready { 0.7 } else { 0.6 };
    out.push(Finding::new(
        Class::UNTOLERATED_TAINT,
        conf,
        summary,
        &format!("Taints: {}", shown.join(", ")),
        true,
        Fact::NodeTaints(taints),
    ));
}

/// The node's network plugin is not ready (and no `Taints:` block says more).
fn cni_not_ready(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    let lower = t.lower;
    if !node_taints(t.text).is_empty() {
        return;
    }
    if lower.contains("networkpluginnotready") || lower.contains("cni config uninitialized") {
        out.push(Finding::new(
            Class::UNTOLERATED_TAINT,
            0.55,
            "the node's network plugin (CNI) is not ready, so the node keeps the node.kubernetes.io/not-ready taint",
            &quote_at(flat, lower.find("network").unwrap_or(0)),
            false,
            Fact::None,
        ));
    }
}

/// Forces every pattern of the table (the test that a typo cannot turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for pattern in [&BARE_REASON, &PREDICATE, &PLUGIN_ERROR, &TAINTS_LINE] {
        LazyLock::force(pattern);
    }
}
