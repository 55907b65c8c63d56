//! Loose placement signals: claims left Pending, anti-affinity / spread rules and zonal
//! volumes described beside pods that cannot be scheduled.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::{NOT_SCHEDULABLE, says_pending};
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_around, quote_at};

/// A `kubectl get pvc` row whose claim is still `Pending` (name, then the status).
static PENDING_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*([a-z0-9][-a-z0-9.]*)\s+Pending\b")
        .expect("the loose patterns are valid regexes")
});

/// `kubectl get pvc` lists claims still `Pending`: no volume is bound to them, so pods that
/// use them cannot be scheduled (no PV matches and no StorageClass provisions one).
pub(in crate::messages) fn pending_claims(t: &Input<'_>, out: &mut Vec<Finding>) {
    let Some(header) = t.text.lines().find(|l| {
        let l = l.trim_start();
        l.starts_with("NAME")
            && l.contains("STATUS")
            && l.contains("VOLUME")
            && l.contains("CAPACITY")
    }) else {
        return;
    };
    // Rows after the header only: a pod table's `Pending` rows are not claims.
    let after = t
        .text
        .find(header)
        .map_or("", |at| &t.text[at + header.len()..]);
    let claims: Vec<&str> = PENDING_CLAIM
        .captures_iter(after)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .take(20)
        .collect();
    let Some(first) = claims.first() else {
        return;
    };
    out.push(Finding::new(
        Class::VolumeBinding,
        0.6,
        format!(
            "PersistentVolumeClaim(s) {} stay Pending: no PersistentVolume matches them and no StorageClass (or no default one) provisions one, so pods using them cannot be scheduled",
            claims.join(", ")
        ),
        &quote_around(t.text, first),
        false,
        Fact::None,
    ));
}

/// A `kubectl get ds` row (`NAMESPACE` optional) whose DESIRED count is 0: name, then
/// `0 0 0 0 0` (desired, current, ready, up-to-date, available).
static EMPTY_DAEMONSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:[a-z0-9][-a-z0-9.]*\s+)?([a-z0-9][-a-z0-9.]*)\s+0\s+0\s+0\s+0\s+0\b")
        .expect("the loose patterns are valid regexes")
});

/// `kubectl get ds` shows a DaemonSet that wants no pod at all (DESIRED 0; the table's
/// header, or the command when a `grep` dropped the header, says which columns): the DaemonSet
/// controller counts only nodes that match its pod template's node selector and required
/// node affinity (and whose NoSchedule taints it tolerates), so no node qualifies; the pods
/// are not Pending, they are never created. Most often a selector or affinity on labels no
/// node carries (labels a feature-discovery add-on would set).
pub(in crate::messages) fn empty_daemonset(t: &Input<'_>, out: &mut Vec<Finding>) {
    // The rows after the table's header, or after a `kubectl get ds` whose output was
    // filtered (`| grep`) and lost its header.
    let header = t.text.lines().find(|l| {
        let l = l.trim_start();
        (l.starts_with("NAME") || l.starts_with("NAMESPACE"))
            && l.contains("DESIRED")
            && l.contains("CURRENT")
            && l.contains("NODE SELECTOR")
    });
    // Without a header, after the command. ASCII lowercasing keeps byte offsets, so a
    // position in it is one in the text.
    let command = || {
        let lower = t.text.to_ascii_lowercase();
        ["get ds", "get daemonset"]
            .iter()
            .find_map(|c| lower.find(c).map(|at| at + c.len()))
    };
    let after = match header {
        Some(header) => t
            .text
            .find(header)
            .map_or("", |at| &t.text[at + header.len()..]),
        None => match command() {
            Some(at) => t.text.get(at..).unwrap_or_default(),
            None => return,
        },
    };
    let Some(row) = EMPTY_DAEMONSET.captures(after) else {
        return;
    };
    let name = row.get(1).map_or("", |m| m.as_str());
    out.push(Finding::new(
        Class::NodeAffinity,
        0.6,
        format!(
            "DaemonSet {name} wants no pod (DESIRED 0): no node matches its pod template's node selector / required node affinity (or every node has a NoSchedule taint it does not tolerate), so its pods are never created; compare `kubectl get ds {name} -o jsonpath='{{.spec.template.spec.affinity}}'` with the nodes' labels"
        ),
        &quote_around(t.text, name),
        false,
        Fact::None,
    ));
}

/// A report that describes a required inter-pod affinity, anti-affinity or topology
/// spread rule beside Pending pods, with no scheduler message: more replicas than the rule
/// allows nodes (or zones) for, or no node running the pods a pod must sit beside. A bare
/// "affinity rule" counts only when no node affinity or selector is named. Weaker than any
/// quoted reason.
pub(in crate::messages) fn described_spread(t: &Input<'_>, out: &mut Vec<Finding>) {
    // People write it with a hyphen, a space or neither ("Anti Affinity Rules").
    const RULES: [&str; 11] = [
        "podantiaffinity",
        "pod anti-affinity",
        "anti-affinity",
        "anti affinity",
        "antiaffinity",
        "topologyspreadconstraints",
        "topology spread",
        "podaffinity",
        "pod affinity",
        "inter-pod affinity",
        "interpodaffinity",
    ];
    const NODE_SIDE: [&str; 4] = [
        "node affinity",
        "nodeaffinity",
        "nodeselector",
        "node selector",
    ];
    let bare_rule = || {
        ["affinity rule", "affinity constraint"]
            .into_iter()
            .find(|r| t.lower.contains(r) && !NODE_SIDE.iter().any(|n| t.lower.contains(n)))
    };
    let Some(rule) = RULES
        .into_iter()
        .find(|r| t.lower.contains(r))
        .or_else(bare_rule)
    else {
        return;
    };
    if !says_pending(t.lower) || !t.anchors.is_empty() {
        return;
    }
    out.push(Finding::new(
        Class::PodAffinity,
        0.5,
        "the pods carry a required pod affinity / anti-affinity / topology spread rule and some stay Pending: there are fewer eligible nodes (or zones) than replicas the rule allows one each, or no node runs the pods a pod must sit beside",
        &quote_around(t.text, rule),
        false,
        Fact::None,
    ));
}

/// A volume told to sit in one zone (lower-cased, flattened text): "the PersistentVolume
/// is in us-east-1b", "a PV with the `topology.ebs.csi.aws.com/zone in [eu-west-1b]`
/// term", "the disk lives in zone1".
static VOLUME_IN_ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:persistent ?volumes?|pvs?|volumes?|disks?|ebs)\b(?:[^.\n]|\.\S){0,80}?(?:\bzone|\bazs?\b|\bavailability zone)")
        .expect("the loose patterns are valid regexes")
});

/// No node said to be left in a zone: "no available node in zone1", "no nodes in that AZ".
static NO_NODE_IN_ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bno (?:available |schedulable |ready |running )?(?:nodes?|workers?|instances?) (?:left |running )?in (?:that |the |this |its |the same )?(?:zone|az\b|availability zone)")
        .expect("the loose patterns are valid regexes")
});

/// A cloud zone's name: AWS (`us-east-2b`, `us-gov-west-1a`) and GCP (`europe-west1-b`).
const ZONE_NAME: &str = r"\b(?:[a-z]{2}(?:-gov)?-[a-z]+-\d[a-z]|[a-z]+-[a-z]+\d-[a-z])\b";

/// A zone's name anywhere (for counting the zones a report names).
static ZONE_NAMED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(ZONE_NAME).expect("the loose patterns are valid regexes"));

/// A volume told to sit in a zone named by its value: "the volume mounts get deployed in
/// `us-east-2b`", "PV created in europe-west1-c".
static VOLUME_IN_NAMED_ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:persistent ?volumes?|pvs?|pvcs?|volumes?|volume mounts?|disks?|ebs)\b(?:[^.\n]|\.\S){{0,80}}?{ZONE_NAME}"
    ))
    .expect("the loose patterns are valid regexes")
});

/// A pod told to be stuck or not placeable, in words the pending patterns miss.
static CANNOT_LAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bstuck\b|\bcan(?:'t|not| not) be (?:deployed|placed|started|run)\b|\bwon't (?:start|schedule|deploy)\b")
        .expect("the loose patterns are valid regexes")
});

/// A volume in one named zone while the report names another zone (the nodes the pod is
/// pinned to): the zone-named form of [`VOLUME_IN_ZONE`].
fn volume_in_other_named_zone<'a>(t: &Input<'a>) -> Option<regex::Match<'a>> {
    let m = VOLUME_IN_NAMED_ZONE.find(t.lower)?;
    let mut zones: Vec<&str> = ZONE_NAMED
        .find_iter(t.lower)
        .map(|z| z.as_str())
        .take(50)
        .collect();
    zones.sort_unstable();
    zones.dedup();
    (zones.len() >= 2).then_some(m)
}

/// A volume pinned to a zone, told in words beside pods that cannot be scheduled (or "no
/// node in that zone"), with no scheduler message: the pod must run where its volume is
/// and no schedulable node is there.
pub(in crate::messages) fn described_volume_zone(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !t.anchors.is_empty() || crate::messages::described::volume_on_gone_node(t, out) {
        return;
    }
    let Some(m) = VOLUME_IN_ZONE
        .find(t.lower)
        .or_else(|| volume_in_other_named_zone(t))
    else {
        return;
    };
    if !(NOT_SCHEDULABLE.is_match(t.lower)
        || says_pending(t.lower)
        || NO_NODE_IN_ZONE.is_match(t.lower)
        || CANNOT_LAND.is_match(t.lower))
    {
        return;
    }
    out.push(Finding::new(
        Class::VolumeBinding,
        0.45,
        "the pod's volume is said to be pinned to one zone (a zonal disk's node affinity) while no schedulable node the pod may use runs there (none left, or its node affinity / node group points to another zone): the pod can only be scheduled in the volume's zone; add (or uncordon) a node there, align the pod's affinity with the volume's zone, or use a WaitForFirstConsumer StorageClass so new volumes follow the pod",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &PENDING_CLAIM,
        &EMPTY_DAEMONSET,
        &VOLUME_IN_ZONE,
        &NO_NODE_IN_ZONE,
        &ZONE_NAMED,
        &VOLUME_IN_NAMED_ZONE,
        &CANNOT_LAND,
    ] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
