//! Loose admission signals: a ResourceQuota, LimitRange or policy engine told to turn the
//! pods away, with no admission message quoted.

use std::sync::LazyLock;

use lastmile_events::Class;
use regex::Regex;

use crate::messages::rules::Input;
use crate::messages::{Fact, Finding, quote_at};

mod resource_policy;
mod service_account;

/// A ResourceQuota said to stop pods from being created: "fails due to a resourcequota
/// issue", "blocked by the namespace quota", "quota exceeded", "not enough quota in the
/// namespace", "the namespace ran out of quota". A cloud project's or region's quota is
/// the autoscaler's, not this.
static DESCRIBED_QUOTA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:not enough|no enough|insufficient|no (?:more |remaining |free )?|out of|ran out of|runs? out of|exceed(?:s|ed|ing)?(?: the| its)?|over(?: the| its)?)\s+(?:resource ?)?quotas?\b[^.\n]{0,20}?\b(?:in|of|for) (?:the |my |our |this |that |its |their )?namespaces?\b|\bnamespaces?\b[^.\n]{0,20}?\b(?:ran|runs?|running|is|was) out of (?:resource ?)?quotas?\b|\b(?:due to|because of|blocked by|rejected by|limited by|hit(?:s|ting)?|reach(?:ed|es)?)\b[^.\n]{0,30}?\b(?:resource ?quotas?|(?:namespace(?:'s)?|project) quotas?)\b|\b(?:resource ?quotas?|namespace quotas?)\b[^.\n]{0,40}?\b(?:issue|problem|exceeded|is full|blocks?|blocked|prevents?|rejects?|rejected|reached)\b")
        .expect("the loose patterns are valid regexes")
});

/// A quota told to block pod creation (a ReplicaSet / Job that cannot create its pods),
/// with no quota message quoted.
pub(in crate::messages) fn described_quota(t: &Input<'_>, out: &mut Vec<Finding>) {
    if t.lower.contains("exceeded quota") || t.lower.contains("must specify") {
        return;
    }
    if unset_requests_under_quota(t, out) {
        return;
    }
    let Some(m) = DESCRIBED_QUOTA
        .find(t.lower)
        .or_else(|| quota_beside_failed_create(t))
        .or_else(|| quota_set_and_pods_not_created(t))
    else {
        return;
    };
    out.push(Finding::new(
        Class::QuotaExceeded,
        0.5,
        "a ResourceQuota is said to stop the pods from being created: the ReplicaSet (or Job) records FailedCreate `exceeded quota` events and the Deployment stays Progressing until its progress deadline; compare `kubectl describe resourcequota` with the pods' requests",
        &quote_at(t.flat, m.start()),
        false,
        Fact::None,
    ));
}

/// Containers said to set no requests or limits (lower-cased, flattened text): "do not
/// specify the required compute resources", "has no cpu limits", "without resource
/// requests", "limits are not set", "no resources defined", "not setting the limits", a
/// chart's `resources: {}`.
static UNSET_RESOURCES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:do(?:es)?n't|do(?:es)? not|did(?:n't| not)|never|fail(?:s|ed)? to)\s+(?:specify|set|define|declare|have|include)|without|missing|lacks?|lacking)\s+(?:any\s+|the\s+|explicit\s+)?(?:required\s+)?(?:compute\s+|cpu(?:\s*/\s*memory|\s+(?:and|or)\s+memory)?\s+|memory\s+|container\s+)?(?:resources?|requests?|limits?)\b|\bno (?:(?:cpu|memory|compute|resource)(?:\s*/\s*memory)?\s+)?(?:requests?|limits?)\b|\b(?:requests?|limits?|resources?) (?:are|is|were|was)(?:n't| not) (?:set|specified|defined)\b|\bno resources? (?:requests? |limits? )?(?:defined|set|specified)\b|\bresources:\s*\{\s*\}|\b(?:not|without) (?:setting|specifying|defining|declaring) (?:any |the |explicit )?(?:cpu |memory |compute |resource |container )?(?:resources?|requests?|limits?)\b")
        .expect("the loose patterns are valid regexes")
});

/// A namespace quota named (lower-cased text).
static QUOTA_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bresource ?quotas?\b|\bquotas?\b").expect("the loose patterns are valid regexes")
});

/// Containers (often init containers or injected sidecars) said to set no requests or
/// limits in a namespace with a ResourceQuota: the quota admission rejects every pod that
/// leaves a tracked resource unset ("must specify limits.cpu"), whatever the other
/// containers set. Told in words, this is the quota's doing more surely than any other
/// reading, so it stands above the generic quota reading.
fn unset_requests_under_quota(t: &Input<'_>, out: &mut Vec<Finding>) -> bool {
    if !QUOTA_NAMED.is_match(t.lower) {
        return false;
    }
    let Some(m) = UNSET_RESOURCES.find(t.lower) else {
        return false;
    };
    out.push(Finding::new(
        Class::QuotaExceeded,
        0.7,
        "containers (often init containers or injected sidecars) set no requests or limits while the namespace has a ResourceQuota on them: the quota admission rejects each such pod (`must specify limits.cpu,…`), so the controller creates none; set resources on every container, or add a LimitRange that defaults them",
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
    true
}

/// `kubectl describe resourcequota`'s table header.
static QUOTA_TABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*Resource\s+Used\s+Hard\s*$").expect("the loose patterns are valid regexes")
});

/// A Deployment or ReplicaSet that creates no pods, as `kubectl describe` shows it
/// (lower-cased, flattened text): the `ReplicaFailure True FailedCreate` condition, a
/// `FailedCreate` reason, `(0/3 replicas created)`.
static CREATES_NO_PODS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\breplicafailure true failedcreate\b|\bfailedcreate\b|\(0/\d+ replicas created\)")
        .expect("the loose patterns are valid regexes")
});

/// A namespace quota shown (its describe table, or named) beside a Deployment / ReplicaSet
/// that creates no pods, with the creation error itself not quoted: the quota admission is
/// what turns a controller's pod creations away without a pod to look at.
fn quota_beside_failed_create<'a>(t: &Input<'a>) -> Option<regex::Match<'a>> {
    if t.lower.contains("error creating") {
        return None;
    }
    let named = QUOTA_TABLE.is_match(t.text)
        || ["resourcequota", "resource quota", "kind: quota"]
            .iter()
            .any(|w| t.lower.contains(w));
    if !named {
        return None;
    }
    CREATES_NO_PODS.find(t.lower)
}

/// A quota told to have been set or changed on the namespace, or to be in force there
/// (lower-cased, flattened text): "after applying a ResourceQuota", "edited the project
/// quota to limit CPU", "we configured a namespace quota", "when resource quota is enabled
/// for the namespace", "with a ResourceQuota in place".
static QUOTA_SET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:resource ?quotas?|(?:namespace|project)(?:'s)? quotas?)\b (?:is |are |was |were |gets? |got |has been |have been |been )?(?:set|enabled|enforced|applied|configured|added|created|turned on|switched on|in place|active|on)\b|\b(?:set|setting|edit(?:ed|ing)?|add(?:ed|ing)?|appl(?:y|ied|ying)|creat(?:e|ed|ing)|configur(?:e|ed|ing)|enabl(?:e|ed|ing)|chang(?:e|ed|ing)|updat(?:e|ed|ing)|lower(?:ed|ing)?)\b[^.]{0,30}?\b(?:resource ?quotas?|(?:namespace|project)(?:'s)? quotas?)\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods told not to be created or re-created (lower-cased, flattened text): "the pods are
/// no longer created", "no response to re-create the pod", "pods never get re-created",
/// "create pod will fail", "creating the pods fails", "pods fail to be created", "failed
/// to create pods".
static PODS_NOT_CREATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bcreat(?:e|es|ed|ing|ion)(?: of)? (?:the |a |new |any |my |our |its |their )?(?:[a-z-]+ )?pods?\b[^.]{0,20}?\b(?:fail(?:s|ed|ing)?|errors?|is rejected|are rejected|is forbidden|are forbidden)\b|\bpods?\b[^.]{0,30}?\bfail(?:s|ed|ing)? to (?:be |get )?created\b|\bfail(?:s|ed|ing|ure)? (?:to create|creating) (?:the |any |new |its |their )?pods?\b|\bpods?\b[^.]{0,30}?\b(?:not|never|n't|no longer) (?:be |being |get |getting |been )?(?:re-?)?created\b|\b(?:no|not|never|n't|fails? to|failed to|cannot|unable to)\b[^.]{0,20}?\bre-?creat(?:e|ed|ing|ion)\b[^.]{0,20}?\bpods?\b")
        .expect("the loose patterns are valid regexes")
});

/// A quota told to have been set or changed, beside pods told not to be created: the quota
/// admission turns the controller's creations away (usage over the new hard limits, or
/// containers that leave a now-tracked resource unset) with no pod to look at.
fn quota_set_and_pods_not_created<'a>(t: &Input<'a>) -> Option<regex::Match<'a>> {
    QUOTA_SET.find(t.lower)?;
    PODS_NOT_CREATED.find(t.lower)
}

/// A LimitRange bound said to be crossed (lower-cased, flattened text): a request "greater
/// than the max", a limit "below the min", "exceeds the maximum".
static LIMIT_BOUND_CROSSED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:greater|more|higher|larger|bigger) than (?:the )?(?:max(?:imum)?|limit ?range)\b|\bexceed(?:s|ed|ing)? (?:the )?(?:max(?:imum)?|limit ?range'?s?)\b|\b(?:less|lower|smaller) than (?:the )?min(?:imum)?\b|\bbelow (?:the )?min(?:imum)?\b|\babove (?:the )?max(?:imum)?\b")
        .expect("the loose patterns are valid regexes")
});

/// A failure told (lower-cased text): an error, a rejection, a denial.
static ADMISSION_FAILS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:errors?|fail(?:s|ed|ure|ing)?|reject(?:s|ed|ing)?|denied|forbidden|not allowed|refused|blocked)\b")
        .expect("the loose patterns are valid regexes")
});

/// A LimitRange told to turn a container away, its max below (or min above) what the
/// container asks, or the container setting no limits at all (with no quota named, which
/// the quota reading takes), with no LimitRange message quoted.
pub(in crate::messages) fn described_limit_range(t: &Input<'_>, out: &mut Vec<Finding>) {
    if !(t.lower.contains("limitrange") || t.lower.contains("limit range"))
        || t.lower.contains("usage per container")
        || t.lower.contains("usage per pod")
        || t.lower.contains("must be less than or equal to")
        || t.lower.contains("must be greater than or equal to")
    {
        return;
    }
    if let Some(m) = UNSET_RESOURCES
        .find(t.lower)
        .filter(|_| ADMISSION_FAILS.is_match(t.lower) && !QUOTA_NAMED.is_match(t.lower))
    {
        out.push(Finding::new(
            Class::LimitRange,
            0.5,
            "containers (often an injected sidecar or an init container) set no requests or limits in a namespace whose LimitRange then rejects them (no default for a bound it enforces, or a defaulted limit outside its min / max / ratio): set resources on every container, or give the LimitRange defaults that satisfy its bounds",
            &quote_at(t.flat, m.start()),
            true,
            Fact::None,
        ));
        return;
    }
    let Some(m) = LIMIT_BOUND_CROSSED.find(t.lower) else {
        return;
    };
    out.push(Finding::new(
        Class::LimitRange,
        0.5,
        "a LimitRange is said to bound the containers' requests or limits below (max) or above (min) what they ask, so the admission rejects the pods: compare `kubectl describe limitrange` with the containers' resources",
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
}

/// A policy engine, by name (lower-cased text).
static POLICY_ENGINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:kyverno|gatekeeper|opa|kubewarden|jspolicy|pod ?security ?polic(?:y|ies)|psp|pod security admission|pod ?security standards?|admission (?:webhook|controller|policy)|validating ?(?:admission ?)?(?:webhook|policy))\b")
        .expect("the loose patterns are valid regexes")
});

/// Pods said to be blocked, denied, rejected or not admitted (lower-cased, flattened
/// text): "the PSP was unable to admit the pod", "the pods are not admitted".
static PODS_BLOCKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bpods?\b[^.\n]{0,40}?\b(?:is|are|was|were|gets?|got|being) (?:blocked|denied|rejected|refused)\b|\b(?:block(?:s|ed|ing)?|den(?:y|ies|ied|ying)|reject(?:s|ed|ing)?) (?:the |my |our |all |every |any )?pods?\b|\badmission request denied\b|\b(?:unable|fail(?:s|ed)?|refus(?:es|ed)|can't|cannot|couldn't|could not|won't|will not|didn't|did not|doesn't|does not) (?:to )?admit (?:the |my |our |all |every |any |its |these |those )?(?:[a-z-]+ )?pods?\b|\bpods?\b[^.\n]{0,30}?\b(?:is|are|was|were|gets?|got)(?:n't| not| never) (?:being )?admitted\b")
        .expect("the loose patterns are valid regexes")
});

/// A policy (constraint, rule) shown or told to match Pods (lower-cased, flattened text):
/// `kinds: ["Pod"]`, `kinds: - Pod`, "the constraint for pods", "a policy that matches
/// pods", "a rule on pods".
static POLICY_ON_PODS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\bkinds:\s*(?:\[\s*|-\s*)["']?pods?\b|\b(?:constraints?|polic(?:y|ies)|rules?)\b[^.\n]{0,20}?\b(?:for|on|against|to) (?:the |all |every |our )?pods?\b|\b(?:constraints?|polic(?:y|ies)|rules?) (?:that )?match(?:es|ing)? (?:the |all )?pods?\b"#)
        .expect("the loose patterns are valid regexes")
});

/// The workload said not to run, in words that do not say it waits for a node (lower-cased,
/// flattened text): "their application is not running", "the app never starts", "no pods
/// come up". A Pending pod was admitted, so "pending" is not one.
static WORKLOAD_NOT_UP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:(?:is|are|was|were) not|isn't|aren't|wasn't|weren't) (?:being )?(?:started|running|created|deployed|coming up)\b|\bnever (?:starts?|started|runs?|ran|comes? up|came up|gets? created|got created|shows? up)\b|\bno pods? (?:is |are |were |was )?(?:created|running|come up|comes up|show up|shows up)\b")
        .expect("the loose patterns are valid regexes")
});

/// A policy engine's rule that matches Pods, beside a workload said not to run (and not
/// said to wait for a node): the Deployment or chart was admitted, the pods its ReplicaSet
/// creates are denied, and the denial shows only in the ReplicaSet's events.
fn policy_on_pods_beside_idle_workload<'a>(t: &Input<'a>) -> Option<regex::Match<'a>> {
    if t.lower.contains("pending") {
        return None;
    }
    let m = POLICY_ON_PODS.find(t.lower)?;
    WORKLOAD_NOT_UP.is_match(t.lower).then_some(m)
}

/// A policy engine told to block pods (the workload itself admitted, its pods turned away),
/// with no webhook denial quoted, or its rule shown matching Pods beside a workload said
/// not to run.
pub(in crate::messages) fn described_policy(t: &Input<'_>, out: &mut Vec<Finding>) {
    if service_account::missing_service_account(t, out)
        || resource_policy::policy_requires_resources(t, out)
    {
        return;
    }
    if t.lower.contains("denied the request") || !POLICY_ENGINE.is_match(t.lower) {
        return;
    }
    let Some(m) = PODS_BLOCKED
        .find(t.lower)
        .or_else(|| policy_on_pods_beside_idle_workload(t))
    else {
        return;
    };
    out.push(Finding::new(
        Class::PolicyDenied,
        0.5,
        "a policy engine (admission webhook) is said to block the pods: the Deployment is admitted but its ReplicaSet's pod creations are denied (FailedCreate on the ReplicaSet); read the policy's report or the webhook's log for the rule that fails",
        &quote_at(t.flat, m.start()),
        true,
        Fact::None,
    ));
}

/// Forces every pattern of this module.
#[cfg(test)]
pub(super) fn compile_all() {
    for pattern in [
        &DESCRIBED_QUOTA,
        &UNSET_RESOURCES,
        &QUOTA_NAMED,
        &QUOTA_TABLE,
        &CREATES_NO_PODS,
        &QUOTA_SET,
        &PODS_NOT_CREATED,
        &LIMIT_BOUND_CROSSED,
        &ADMISSION_FAILS,
        &POLICY_ENGINE,
        &PODS_BLOCKED,
        &POLICY_ON_PODS,
        &WORKLOAD_NOT_UP,
    ] {
        LazyLock::force(pattern);
    }
    service_account::compile_all();
    resource_policy::compile_all();
}

#[cfg(test)]
mod tests;
