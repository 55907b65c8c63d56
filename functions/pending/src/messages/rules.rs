//! The scanner's ordered rule table: every rule reads the same text and adds what it
//! finds. Order matters only for ties when findings of one class are merged (the earlier
//! finding wins), so the scheduler's own words come first, then admission, autoscalers and
//! the node-level texts. To add a message shape, add a rule here and a sample to
//! `tests.rs` that this rule, and no other, finds. The scheduler-text rules live here; the
//! admission rules in `rules/admission_rules.rs`, the node-level ones in `rules/nodes.rs`,
//! scheduling gates in `rules/gates.rs`, the loose (described) signals in `loose.rs`.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::reasons::classify_reason;
use super::scheduler::{self, FitMessage};
use super::{Fact, Finding, message_at, quote_at};

mod admission_rules;
mod autoscale;
mod gates;
mod nodes;

use admission_rules::{limit_range, policy, quota};
use autoscale::{autoscaler_signal, node_group_unreachable};
use gates::scheduling_gate;
#[cfg(test)]
use nodes::{DEVICE_ALLOCATE, TAINTS_LINE};
use nodes::{cni_not_ready, device_allocate, node_taints_line};

/// The text every rule reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    /// As given (line structure kept: describe tables, wrapped event lines).
    pub(crate) text: &'a str,
    /// Every whitespace run collapsed, so wrapped lines read as one.
    pub(crate) flat: &'a str,
    /// `flat`, ASCII-lowercased.
    pub(crate) lower: &'a str,
    /// Where fit errors start in `text` ([`scheduler::anchors`]), found once for every
    /// rule (some twenty rules ask).
    pub(crate) anchors: &'a [usize],
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
        name: "node-group-unreachable",
        scan: node_group_unreachable,
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
        name: "device-allocate",
        scan: device_allocate,
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
    Rule {
        name: "bare-taint",
        scan: super::loose::bare_taint,
    },
    Rule {
        name: "described-taint",
        scan: super::described::described_taint,
    },
    Rule {
        name: "held-from-autoscaler",
        scan: super::described::held_from_autoscaler,
    },
    Rule {
        name: "expected-scale-up",
        scan: super::described::expected_scale_up,
    },
    Rule {
        name: "not-ready-nodes",
        scan: super::loose::not_ready_nodes,
    },
    Rule {
        name: "pending-claims",
        scan: super::loose::pending_claims,
    },
    Rule {
        name: "empty-daemonset",
        scan: super::loose::empty_daemonset,
    },
    Rule {
        name: "described-spread",
        scan: super::loose::described_spread,
    },
    Rule {
        name: "gang-unschedulable",
        scan: super::loose::gang_unschedulable,
    },
    Rule {
        name: "described-capacity",
        scan: super::loose::described_capacity,
    },
    Rule {
        name: "described-no-scale-up",
        scan: super::loose::described_no_scale_up,
    },
    Rule {
        name: "cordoned-nodes",
        scan: super::loose::cordoned_nodes,
    },
    Rule {
        name: "described-cordon",
        scan: super::loose::described_cordon,
    },
    Rule {
        name: "described-host-ports",
        scan: super::loose::described_host_ports,
    },
    Rule {
        name: "described-node-label",
        scan: super::loose::described_node_label,
    },
    Rule {
        name: "selected-role-absent",
        scan: super::loose::selected_role_absent,
    },
    Rule {
        name: "described-stale-affinity",
        scan: super::loose::described_stale_affinity,
    },
    Rule {
        name: "described-quota",
        scan: super::loose::described_quota,
    },
    Rule {
        name: "described-volume-zone",
        scan: super::loose::described_volume_zone,
    },
    Rule {
        name: "described-limit-range",
        scan: super::loose::described_limit_range,
    },
    Rule {
        name: "described-policy",
        scan: super::loose::described_policy,
    },
    Rule {
        name: "described-no-nodes",
        scan: super::loose::described_no_nodes,
    },
    Rule {
        name: "replacement-beside-lost-node",
        scan: super::loose::replacement_beside_lost_node,
    },
    Rule {
        name: "replicas-beyond-nodes",
        scan: super::loose::replicas_beyond_nodes,
    },
    Rule {
        name: "described-disk-pressure",
        scan: super::loose::described_disk_pressure,
    },
    Rule {
        name: "described-partial-scale-up",
        scan: super::loose::partial_scale_up,
    },
];

/// `0/N nodes are available: …`: one finding per class the reasons name, weighted by node
/// counts.
fn fit_errors(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    for &start in t.anchors.iter().take(200) {
        let msg = if scheduler::is_per_node_block(&text[start..]) {
            text[start..text.floor_char_boundary(start + 8 * 1024)].to_owned()
        } else {
            message_at(text, start)
        };
        let Some(fit) = scheduler::parse_fit(&msg) else {
            continue;
        };
        if fit.total == Some(0) {
            out.push(Finding::new(
                Class::NoNodes,
                0.85,
                "the scheduler considered 0 nodes: the cluster has no nodes it can schedule on",
                &msg,
                false,
                Fact::Fit(fit),
            ));
            continue;
        }
        let reasons = fit.reasons();
        let weights = super::rank::weigh(&fit, &reasons);
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
                count_for(&fit, &class),
                texts.join("; ")
            );
            let definitive = definitive_by_text(&class);
            out.push(Finding::new(
                class,
                confidence,
                summary,
                &msg,
                definitive,
                Fact::Fit(fit.clone()),
            ));
        }
    }
}

static BARE_REASON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\b(\d+) )?(node\(s\) [^,.;\x22\n]+|insufficient (?:cpu|memory|ephemeral-storage|pods|hugepages-[0-9a-z]+|[a-z0-9.-]+/[a-z0-9._-]+|(?:nvidia|amd|intel|gpus?|tpus?)\b)|too many pods|pod has unbound (?:immediate )?persistentvolumeclaims?|persistentvolumeclaim \S+ not found|didn't have enough resource: [a-z0-9./-]+|(?:volume |pv |persistentvolume )?node affinity conflict|no available volume zone|insufficient capacity\b)")
    .expect("the scanner's patterns are valid regexes")
});

/// Reason phrases quoted without their `0/N nodes are available:` header (people paste
/// just the part they think matters).
fn bare_reasons(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    if !t.anchors.is_empty() {
        return;
    }
    let re = &*BARE_REASON;
    let mut seen: Vec<Class> = Vec::new();
    for c in re.captures_iter(text).take(50) {
        let reason = c.get(2).map_or("", |m| m.as_str());
        let Some(class) = classify_reason(reason).class() else {
            continue;
        };
        if seen.contains(&class) {
            continue;
        }
        seen.push(class.clone());
        let quote = c.get(0).map_or(reason, |m| m.as_str());
        let summary = format!(
            "the scheduler's reason, quoted without its header: {}",
            reason.trim()
        );
        let definitive = definitive_by_text(&class);
        out.push(Finding::new(
            class,
            0.65,
            summary,
            quote,
            definitive,
            Fact::None,
        ));
    }
}

fn count_for(fit: &FitMessage, class: &Class) -> u64 {
    fit.reasons()
        .iter()
        .filter(|(_, _, r)| r.class().as_ref() == Some(class))
        .map(|(n, _, _)| *n)
        .fold(0u64, u64::saturating_add)
}

fn definitive_by_text(class: &Class) -> bool {
    matches!(
        class,
        Class::UntoleratedTaint
            | Class::NodeAffinity
            | Class::VolumeBinding
            | Class::LimitRange
            | Class::PolicyDenied
    )
}

static PREDICATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)predicate (\w+) failed|reason:\s+(OutOf\w+|NodeAffinity|NodeSelector|MatchNodeSelector)|\b(OutOf(?:cpu|memory|pods|ephemeral-storage|nvidia\.com/gpu))\b")
    .expect("the scanner's patterns are valid regexes")
});
static PLUGIN_ERROR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)running (?:"?(\w+)"? )?(?:(?:pre)?filter |reserve |prebind |permit )?plugin \\?"?(\w+)\\?"?"#)
    .expect("the scanner's patterns are valid regexes")
});

/// `no nodes available to schedule pods`.
fn no_nodes(t: &Input<'_>, out: &mut Vec<Finding>) {
    let flat = t.flat;
    let lower = t.lower;
    if let Some(at) = lower.find("no nodes available to schedule pods") {
        out.push(Finding::new(
            Class::NoNodes,
            0.85,
            "the scheduler sees no nodes at all",
            &flat[at..],
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
                Class::VolumeBinding,
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

/// Forces every pattern of the table (the test that a typo cannot turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for pattern in [
        &BARE_REASON,
        &PREDICATE,
        &PLUGIN_ERROR,
        &TAINTS_LINE,
        &DEVICE_ALLOCATE,
        &gates::GATED,
    ]
    .into_iter()
    .chain(autoscale::PATTERNS)
    {
        LazyLock::force(pattern);
    }
}
