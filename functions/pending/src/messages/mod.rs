//! Message-level diagnosis: what the scheduler, admission chain and autoscalers *said*.
//!
//! Every text source (event messages, the pod's `PodScheduled` condition, pasted reports)
//! goes through one scanner, [`scan`], which finds each known message shape wherever it
//! sits in the text (describe tables, log lines, JSON strings, wrapped lines) and turns it
//! into [`Finding`]s. Findings carry a class, a confidence and the quoted source; the
//! snapshot analysis later confirms or overrides them.

pub mod admission;
pub mod autoscaler;
pub mod reasons;
pub mod scheduler;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use lastmile_events::Class;
use regex::Regex;

use crate::messages::admission::{LimitViolation, PolicyDenial, QuotaRejection};
use crate::messages::autoscaler::AutoscalerSignal;
use crate::messages::reasons::{Reason, classify_reason};
use crate::messages::scheduler::FitMessage;

/// What a finding is based on, for remediation.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// Nothing structured.
    None,
    /// A scheduler fit error (the reasons of this finding's class are in it).
    Fit(FitMessage),
    /// A quota rejection.
    Quota(QuotaRejection),
    /// LimitRange violations.
    Limit(Vec<LimitViolation>),
    /// A policy denial.
    Policy(PolicyDenial),
    /// An autoscaler verdict.
    Autoscaler(AutoscalerSignal),
    /// A node's `Taints:` line (key, value, effect).
    NodeTaints(Vec<(String, String, String)>),
}

/// One thing the messages say.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Taxonomy class.
    pub class: &'static str,
    /// 0..1.
    pub confidence: f64,
    /// One sentence.
    pub summary: String,
    /// The quoted source text (shortened).
    pub quote: String,
    /// True when waiting cannot fix it.
    pub definitive: bool,
    /// Structured facts for remediation.
    pub fact: Fact,
    /// When the source was last seen (events), for staleness decisions.
    pub when: Option<DateTime<Utc>>,
}

impl Finding {
    fn new(
        class: &'static str,
        confidence: f64,
        summary: impl Into<String>,
        quote: &str,
        definitive: bool,
        fact: Fact,
    ) -> Self {
        Self {
            class,
            confidence,
            summary: summary.into(),
            quote: shorten(quote, 600),
            definitive,
            fact,
            when: None,
        }
    }
}

/// Shortens `s` to at most `max` bytes on a char boundary, marking the cut.
pub fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} …", &s[..end])
}

/// Scans one text (an event message, a condition message or a whole pasted report).
pub fn scan(text: &str) -> Vec<Finding> {
    // Bound the work on hostile input; real reports are far smaller.
    let text = if text.len() > 256 * 1024 {
        &text[..floor_boundary(text, 256 * 1024)]
    } else {
        text
    };
    let mut out = Vec::new();
    scan_fit_errors(text, &mut out);
    let flat = flatten(text);
    scan_admission(text, &flat, &mut out);
    scan_autoscaler(text, &flat, &mut out);
    scan_misc(text, &flat, &mut out);
    out
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// All whitespace runs collapsed, so wrapped lines read as one.
fn flatten(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message that starts at `start`: to the end of its line, plus continuation lines
/// when the line was visibly wrapped (no closing period).
fn message_at(text: &str, start: usize) -> String {
    // Fit errors are at most a few KiB (events are cut at 1 KiB); bounding the window keeps
    // hostile one-line inputs with thousands of anchors linear.
    let rest = &text[start..floor_boundary(text, (start + 8 * 1024).min(text.len()))];
    let mut lines = rest.lines();
    let mut msg = lines.next().unwrap_or("").trim_end().to_owned();
    for next in lines.take(4) {
        let t = next.trim();
        let ended =
            msg.ends_with('.') || msg.ends_with(')') || msg.ends_with('"') || msg.ends_with("...");
        let looks_new = t.is_empty()
            || t.starts_with("Warning")
            || t.starts_with("Normal")
            || t.starts_with("----")
            || t.starts_with("0/")
            || t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && t.split_whitespace()
                    .next()
                    .is_some_and(|w| w.ends_with(':'));
        if ended || looks_new {
            break;
        }
        msg.push(' ');
        msg.push_str(t);
    }
    msg
}

fn scan_fit_errors(text: &str, out: &mut Vec<Finding>) {
    let anchors = scheduler::anchors(text);
    if anchors.is_empty() {
        scan_bare_reasons(text, out);
    }
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

static BARE_REASON: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(\d+) )?(node\(s\) [^,.;\x22\n]+|insufficient (?:cpu|memory|ephemeral-storage|pods|hugepages-[0-9a-z]+|[a-z0-9.-]+/[a-z0-9._-]+)|too many pods|pod has unbound (?:immediate )?persistentvolumeclaims|persistentvolumeclaim \S+ not found|didn't have enough resource: [a-z0-9./-]+)").ok()
});

/// Reason phrases quoted without their `0/N nodes are available:` header (people paste
/// just the part they think matters).
fn scan_bare_reasons(text: &str, out: &mut Vec<Finding>) {
    let Some(re) = BARE_REASON.as_ref() else {
        return;
    };
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

fn scan_admission(text: &str, flat: &str, out: &mut Vec<Finding>) {
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

fn scan_autoscaler(text: &str, flat: &str, out: &mut Vec<Finding>) {
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

static PREDICATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)predicate (\w+) failed|reason:\s+(OutOf\w+|NodeAffinity|NodeSelector|MatchNodeSelector)|\b(OutOf(?:cpu|memory|pods|ephemeral-storage|nvidia\.com/gpu))\b").ok()
});
static PLUGIN_ERROR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)running (?:"?(\w+)"? )?(?:(?:pre)?filter |reserve |prebind |permit )?plugin \\?"?(\w+)\\?"?"#).ok()
});
static TAINTS_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|\s)(?:Taints:)?\s*([A-Za-z0-9][A-Za-z0-9._/-]*)(?:=([A-Za-z0-9._/-]*))?:(NoSchedule|NoExecute)\b").ok()
});

fn scan_misc(text: &str, flat: &str, out: &mut Vec<Finding>) {
    let lower = flat.to_ascii_lowercase();
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
    if let Some(c) = PREDICATE.as_ref().and_then(|re| re.captures(flat)) {
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
    if let Some(c) = PLUGIN_ERROR.as_ref().and_then(|re| re.captures(flat)) {
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
    // `kubectl describe node`: `Taints: key[=value]:Effect` (one per line).
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
        if let Some(re) = TAINTS_LINE.as_ref() {
            for c in re.captures_iter(l) {
                taints.push((
                    c[1].to_owned(),
                    c.get(2).map_or("", |m| m.as_str()).to_owned(),
                    c[3].to_owned(),
                ));
            }
        }
    }
    if !taints.is_empty() {
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
    } else if lower.contains("networkpluginnotready") || lower.contains("cni config uninitialized")
    {
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

/// The text around the first occurrence of `needle` (the whole line when short).
fn quote_around(text: &str, needle: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let n = needle.to_ascii_lowercase();
    match lower.find(&n) {
        Some(at) => {
            let line_start = lower[..at].rfind('\n').map_or(0, |p| p + 1);
            let line_end = lower[at..].find('\n').map_or(text.len(), |p| p + at);
            shorten(&text[line_start..line_end], 600)
        }
        None => shorten(needle, 600),
    }
}

fn quote_at(flat: &str, at: usize) -> String {
    let start = floor_boundary(flat, at);
    shorten(&flat[start..], 300)
}

/// Merges findings of the same class, keeping the most confident one and raising its
/// confidence a little when several independent sources agree. Sorted by confidence.
pub fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<(Finding, usize)> = Vec::new();
    for f in findings {
        match out.iter_mut().find(|(g, _)| g.class == f.class) {
            Some((g, n)) => {
                *n += 1;
                if f.confidence > g.confidence || (f.confidence == g.confidence && f.when > g.when)
                {
                    *g = f;
                }
            }
            None => out.push((f, 1)),
        }
    }
    let mut merged: Vec<Finding> = out
        .into_iter()
        .map(|(mut f, n)| {
            if n > 1 {
                f.confidence =
                    (f.confidence + 0.03 * (n as f64 - 1.0).min(3.0)).min(f.confidence.max(0.88));
            }
            f
        })
        .collect();
    merged.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    merged
}

/// The classes a reason list names, for comparing with the snapshot.
pub fn fit_classes(fit: &FitMessage) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = fit
        .reasons()
        .iter()
        .filter_map(|(_, _, r)| r.class())
        .collect();
    v.dedup();
    v
}

/// The taint `(key, value)` pairs a fit error names.
pub fn fit_taints(fit: &FitMessage) -> Vec<(String, String)> {
    fit.reasons()
        .into_iter()
        .filter_map(|(_, _, r)| match r {
            Reason::Taint {
                key: Some(k),
                value,
            } => Some((k, value.unwrap_or_default())),
            _ => None,
        })
        .collect()
}
