//! A cluster policy told to require resource requests or limits on every container: a
//! policy engine's rule (Kyverno's `require-requests-limits`, Gatekeeper's
//! `K8sContainerLimits` / `K8sRequiredResources`, a custom webhook) denies each pod whose
//! containers leave cpu or memory unset, so a chart or operator that offers no way to set
//! them cannot deploy there at all.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use super::QUOTA_NAMED;
use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

/// A policy said to require requests or limits, or to turn away containers without them
/// (lower-cased, flattened text): "a strict policy that disallows containers without mem
/// and cpu limits", "our admission rules reject pods that have no resource requests", "the
/// policy requires memory limits on every container", or a well-known rule's name.
static POLICY_REQUIRES_RESOURCES: LazyLock<Regex> = LazyLock::new(|| {
    let policy = r"\b(?:polic(?:y|ies)|constraints?|rules?|admission (?:webhooks?|controllers?)|webhooks?|kyverno|gatekeeper|opa)\b";
    let refuse = r"\b(?:disallow|forbid|reject|den(?:y|ie)|block|refuse|prohibit|(?:do(?:es)?n't|do(?:es)? not|won't|will not) (?:allow|admit|accept))\w*\b";
    let workload = r"\b(?:containers?|pods?|workloads?|deployments?|images?)\b";
    let unset = r"\b(?:without|lacking|missing|(?:that|which) (?:have|has|set|define) no|with no)\b[^.\n]{0,30}?\b(?:limits?|requests?|resources?)\b";
    let require = r"\b(?:requir(?:es?|ed|ing)|enforc(?:es?|ed|ing)|mandat(?:es?|ed|ing))\b[^.\n]{0,30}?\b(?:limits|requests)\b";
    Regex::new(&format!(
        r"{policy}[^.\n]{{0,40}}?{refuse}[^.\n]{{0,30}}?{workload}[^.\n]{{0,10}}?{unset}|{policy}[^.\n]{{0,30}}?{require}|\brequire-(?:requests-)?limits\b|\bk8s(?:container|required)(?:limits|resources|requests)\b|\bcontainer-must-have-limits\b"
    ))
    .expect("the loose patterns are valid regexes")
});

/// A policy told to require requests or limits, with no quota in the text (a quota's
/// "must specify" is the quota's). Returns whether it found one.
pub(super) fn policy_requires_resources(t: &Input<'_>, out: &mut Vec<Finding>) -> bool {
    if QUOTA_NAMED.is_match(t.lower) || t.lower.contains("limitrange") {
        return false;
    }
    let Some(m) = POLICY_REQUIRES_RESOURCES.find(t.lower) else {
        return false;
    };
    out.push(Finding::new(
        Class::PolicyDenied,
        0.5,
        "a cluster policy is said to require cpu/memory requests or limits on every container: its admission webhook denies each pod that leaves them unset (FailedCreate on the ReplicaSet or StatefulSet); set resources on every container, init containers and sidecars included, or ask for the chart's values that set them",
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
    true
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    LazyLock::force(&POLICY_REQUIRES_RESOURCES);
}
