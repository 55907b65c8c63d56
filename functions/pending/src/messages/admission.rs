//! Admission rejections: ResourceQuota (§2), LimitRange (§3) and policy webhooks.
//!
//! Controller-created pods are rejected asynchronously, so these texts arrive wrapped as
//! `Error creating: pods "x" is forbidden: …` on the owner, or as `Error from server
//! (Forbidden): …` from kubectl. Parsers search for the cause's own stable prefix and
//! ignore the wrapping.

use std::sync::LazyLock;

use regex::Regex;

use crate::quantity::Quantity;

/// One resource of an `exceeded quota` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaItem {
    /// Resource name as the quota names it (`requests.cpu`, `count/pods`, `pods`).
    pub resource: String,
    /// What the new object asks for.
    pub requested: Option<Quantity>,
    /// What is already used.
    pub used: Option<Quantity>,
    /// The hard limit.
    pub limited: Option<Quantity>,
}

/// A parsed quota rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaRejection {
    /// `exceeded quota: <name>, requested: …, used: …, limited: …`.
    Exceeded {
        /// The ResourceQuota's name.
        quota: String,
        /// The exceeded resources.
        items: Vec<QuotaItem>,
    },
    /// `failed quota: <name>: must specify …` (either list shape).
    MustSpecify {
        /// The ResourceQuota's name, when present.
        quota: Option<String>,
        /// The missing resources (`limits.cpu`, `requests.memory`, `cpu`).
        resources: Vec<String>,
        /// Containers lacking them (new shape only).
        containers: Vec<String>,
    },
    /// `status unknown for quota`, `insufficient quota to …`, negative usage, timeouts.
    Other {
        /// The matched text.
        what: String,
    },
}

/// Compiles one of this module's patterns; they are constants, so a failure is a bug that
/// the test building every pattern catches.
fn pattern(re: &str) -> Regex {
    Regex::new(re).expect("the admission patterns are valid regexes")
}

static EXCEEDED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)exceeded quota:\s*([^,]+),\s*requested:\s*(\S+?),?\s+used:\s*(\S+?),?\s+limited:\s*([^\s,\x22\\]+(?:,[^\s,\x22\\]+)*)",
    )
});
static MUST_SPECIFY: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)(?:failed quota:\s*([^:\s]+):\s*)?must specify\s+([^\x22\n]+)"));

/// Finds a quota rejection in `text`.
pub fn parse_quota(text: &str) -> Option<QuotaRejection> {
    let lower = text.to_ascii_lowercase();
    // Every shape below says `quota` or `must specify`: most texts are spared the patterns.
    // (The words avoid `s` and `k`, whose Unicode case folds `(?i)` also matches.)
    if !(lower.contains("quota") || lower.contains("pecify")) {
        return None;
    }
    if let Some(c) = EXCEEDED.captures(text) {
        let quota = c.get(1).map_or("", |m| m.as_str()).trim().to_owned();
        let requested = pairs(c.get(2).map_or("", |m| m.as_str()));
        let used = pairs(c.get(3).map_or("", |m| m.as_str()));
        let limited = pairs(c.get(4).map_or("", |m| m.as_str()));
        let items = requested
            .iter()
            .map(|(res, q)| QuotaItem {
                resource: res.clone(),
                requested: *q,
                used: used.iter().find(|(r, _)| r == res).and_then(|(_, q)| *q),
                limited: limited.iter().find(|(r, _)| r == res).and_then(|(_, q)| *q),
            })
            .collect();
        return Some(QuotaRejection::Exceeded { quota, items });
    }
    if let Some(c) = MUST_SPECIFY.captures(text)
        && (lower.contains("quota")
            || lower.contains("must specify limits")
            || lower.contains("must specify requests"))
    {
        let quota = c.get(1).map(|m| m.as_str().to_owned());
        let list = c.get(2).map_or("", |m| m.as_str()).trim();
        let (resources, containers) = must_specify_list(list);
        return Some(QuotaRejection::MustSpecify {
            quota,
            resources,
            containers,
        });
    }
    for marker in [
        "status unknown for quota",
        "insufficient quota to consume",
        "insufficient quota to match",
        "quota usage is negative",
        "resource quota evaluation timed out",
        "exceeded quota",
    ] {
        if let Some(at) = lower.find(marker) {
            let what: String = text[at..].chars().take(200).collect();
            return Some(QuotaRejection::Other {
                what: what.trim().to_owned(),
            });
        }
    }
    None
}

/// `limits.cpu=500m,limits.memory=512Mi` → pairs (quantity `None` when unparseable).
fn pairs(list: &str) -> Vec<(String, Option<Quantity>)> {
    list.split(',')
        .filter_map(|item| {
            let (k, v) = item.split_once('=')?;
            Some((k.trim().to_owned(), Quantity::parse(v.trim()).ok()))
        })
        .collect()
}

/// Both `must specify a,b` and `must specify a for: c1; b for: c2`.
fn must_specify_list(list: &str) -> (Vec<String>, Vec<String>) {
    let mut resources = Vec::new();
    let mut containers = Vec::new();
    if list.to_ascii_lowercase().contains(" for:") {
        for part in list.split(';') {
            if let Some((res, who)) = part.split_once(" for:") {
                push_unique(&mut resources, res.trim());
                for c in who.split([',', ' ']) {
                    push_unique(&mut containers, c.trim().trim_end_matches('.'));
                }
            }
        }
    } else {
        for res in list.split([',', ' ']) {
            let res = res.trim().trim_end_matches('.');
            if res
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_'))
            {
                push_unique(&mut resources, res);
            }
        }
    }
    (resources, containers)
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !s.is_empty() && !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

/// One LimitRange violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitViolation {
    /// The violation text as quoted.
    pub text: String,
    /// `minimum`, `maximum`, `ratio` or `request>limit`.
    pub check: &'static str,
    /// Resource (`cpu`, `memory`, `storage`).
    pub resource: String,
    /// `Container`, `Pod` or `PersistentVolumeClaim` (empty when unknown).
    pub scope: String,
    /// The enforced value.
    pub enforced: Option<String>,
    /// What the object has.
    pub observed: Option<String>,
}

static LR_MINMAX: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)(minimum|maximum) (\S+) usage per (Container|Pod|PersistentVolumeClaim) is (\d+(?:\.\d+)?[A-Za-z]*)(?:, but (?:request|limit) is ([^\s,\]]+)|\.\s+No (?:request|limit) is specified)",
    )
});
static LR_RATIO: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)(\S+) max limit to request ratio per (\w+) is (\S+?),? but (provided ratio is [\d.]+|no request is specified or request is 0|no limit is specified or limit is 0)",
    )
});
static LR_REQ_GT_LIMIT: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?i)(?:resources\.requests(?:\[[^\]]*\])?:?\s*Invalid value:\s*"?([^"\s:]+)"?:\s*)?must be less than or eq(?:ual to (\S+) limit)?"#,
    )
});

/// The same check seen from the limit: `resources.limits: Invalid value: "512Mi": must be
/// greater than or equal to memory request` (a defaulted limit below the set request).
static LR_LIMIT_LT_REQ: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?i)(?:resources\.limits(?:\[[^\]]*\])?:?\s*Invalid value:\s*"?([^"\s:]+)"?:\s*)?must be greater than or equal to ([a-z0-9./-]+) request"#,
    )
});

/// Every LimitRange violation in `text` (plus the API's "request must be ≤ limit"
/// validation error, which LimitRange *defaults* cause when only a request is set).
pub fn parse_limit_range(text: &str) -> Vec<LimitViolation> {
    let mut out = Vec::new();
    {
        let re = &*LR_MINMAX;
        for c in re.captures_iter(text) {
            let whole = c.get(0).map_or("", |m| m.as_str());
            out.push(LimitViolation {
                text: whole.to_owned(),
                check: if c[1].eq_ignore_ascii_case("minimum") {
                    "minimum"
                } else {
                    "maximum"
                },
                resource: c[2].to_owned(),
                scope: c[3].to_owned(),
                enforced: Some(c[4].to_owned()),
                observed: c
                    .get(5)
                    .map(|m| m.as_str().trim_end_matches('.').to_owned()),
            });
        }
    }
    {
        let re = &*LR_RATIO;
        for c in re.captures_iter(text) {
            out.push(LimitViolation {
                text: c.get(0).map_or("", |m| m.as_str()).to_owned(),
                check: "ratio",
                resource: c[1].to_owned(),
                scope: c[2].to_owned(),
                enforced: Some(c[3].to_owned()),
                observed: Some(c[4].to_owned()),
            });
        }
    }
    if out.is_empty()
        && let Some(c) = LR_REQ_GT_LIMIT
            .captures(text)
            .or_else(|| LR_LIMIT_LT_REQ.captures(text))
    {
        out.push(LimitViolation {
            text: c.get(0).map_or("", |m| m.as_str()).to_owned(),
            check: "request>limit",
            resource: c.get(2).map_or("", |m| m.as_str()).to_owned(),
            scope: "Container".into(),
            enforced: None,
            observed: c.get(1).map(|m| m.as_str().to_owned()),
        });
    }
    out
}

/// A policy denial: webhook, Pod Security, SCC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDenial {
    /// Who denied (webhook name, `PodSecurity "restricted:latest"`, …).
    pub by: String,
    /// The denial text, shortened.
    pub text: String,
    /// True when the webhook could not be called at all (failurePolicy: Fail).
    pub unreachable: bool,
}

static WEBHOOK: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r#"(?i)admission webhook \\?"([^"\\]+)\\?" denied the request:?\s*([^\n]*)"#)
});
static PSA: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"(?i)violates PodSecurity \\?"([^"\\]+)\\?":?\s*([^\n]*)"#));
static FAILED_CALLING: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"(?i)failed calling webhook \\?"([^"\\]+)\\?":?\s*([^\n]*)"#));

/// A controller's create that timed out in the API server (`FailedCreate … Error creating:
/// Timeout: request did not complete within requested timeout 30s`, `context deadline
/// exceeded`): the admission chain, in practice a webhook the API server cannot reach, did
/// not answer in time.
static CREATE_TIMED_OUT: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)(?:error creating|failedcreate|failed to create)[^\n]{0,80}?(?:timeout: request did not complete within (?:the )?(?:requested|allowed) timeout[^\n]*|context deadline exceeded[^\n]*|the server was unable to return a response in the time allotted[^\n]*)",
    )
});

/// The kubelet's own admission refusing a pod for a node-level security rule: a sysctl it
/// does not allow (`SysctlForbidden`, `forbidden sysctl: "x" not whitelisted` /
/// `not allowlisted`, `unsafe sysctl "x" is not allowed`, `sysctl "x" not allowed with
/// host net enabled`), or an AppArmor profile it cannot enforce. A `sysctl -w` step that
/// fails inside a container (`Read-only file system`) is not one.
static NODE_ADMISSION: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?i)\bsysctlforbidden\b[^\n]*|\bforbidden sysctls?\b[^\n]*|\bunsafe sysctls?\b[^\n]{0,80}?\b(?:(?:is |are )?not (?:allowed|permitted|enabled|(?:white|allow)listed)|forbidden|disallowed|rejected)\b[^\n]*|\bsysctls? \\?"[^"\\\n]{1,80}\\?"[^\n]{0,20}?\b(?:(?:is )?not (?:white|allow)listed|not allowed with host \w+ enabled|(?:is )?not in the (?:allow|white) ?list)[^\n]*|\bcannot enforce apparmor\b[^\n]*"#,
    )
});

/// [`PolicyDenial::by`] for the kubelet's node-level admission (sysctl / AppArmor).
pub const KUBELET_NODE_ADMISSION: &str = "the kubelet's node admission (sysctl / AppArmor)";

/// One of these (ASCII lowercase) is in every denial [`parse_policy`] reads: its patterns'
/// literals and its markers. Most texts are no denial, and a few substring checks spare
/// them the five patterns. A new shape must add its word here. (The words avoid `s` and
/// `k`, whose Unicode case folds, `ſ` and the Kelvin sign, `(?i)` also matches.)
const POLICY_WORDS: [&str; 13] = [
    "webhoo",    // admission webhook "…" denied; failed calling webhook
    "violate",   // violates PodSecurity
    "creat",     // error creating / FailedCreate / failed to create … timeout
    "ctl",       // sysctl refusals of the kubelet
    "apparmor",  // cannot enforce AppArmor
    "validat",   // unable to validate against …; validation error:
    "admit",     // unable to admit pod
    "provider",  // no providers available to validate pod request
    "allowed",   // … not allowed to be used
    "denied",    // denied by …; [denied by
    "looking",   // error looking up service account
    "permitted", // … priorityClass is not permitted in … namespace
    "priorityc", // no PriorityClass with name … was found
];

/// Finds a policy denial in `text`.
pub fn parse_policy(text: &str) -> Option<PolicyDenial> {
    let lower = text.to_ascii_lowercase();
    if !POLICY_WORDS.iter().any(|w| lower.contains(w)) {
        return None;
    }
    let short = |s: &str| s.chars().take(300).collect::<String>().trim().to_owned();
    if let Some(c) = WEBHOOK.captures(text) {
        return Some(PolicyDenial {
            by: format!("admission webhook {:?}", &c[1]),
            text: short(&c[0]),
            unreachable: false,
        });
    }
    if let Some(c) = PSA.captures(text) {
        return Some(PolicyDenial {
            by: format!("PodSecurity {:?}", &c[1]),
            text: short(&c[0]),
            unreachable: false,
        });
    }
    if let Some(c) = FAILED_CALLING.captures(text) {
        return Some(PolicyDenial {
            by: format!("admission webhook {:?}", &c[1]),
            text: short(&c[0]),
            unreachable: true,
        });
    }
    if let Some(m) = NODE_ADMISSION.find(text) {
        return Some(PolicyDenial {
            by: KUBELET_NODE_ADMISSION.into(),
            text: short(m.as_str()),
            unreachable: false,
        });
    }
    if let Some(m) = CREATE_TIMED_OUT.find(text) {
        return Some(PolicyDenial {
            by: "an admission webhook".into(),
            text: short(m.as_str()),
            unreachable: true,
        });
    }
    for (marker, by) in [
        (
            "unable to validate against any security context constraint",
            "SecurityContextConstraints",
        ),
        (
            "unable to validate against any pod security policy",
            "PodSecurityPolicy",
        ),
        // PodSecurityPolicy (removed in 1.25) in its shapes across versions: the plugin
        // named before "unable to admit pod", "no providers available" when no policy
        // may be used, and its per-field refusals ("Host network is not allowed to be
        // used", "hostPath volumes are not allowed to be used").
        (
            "podsecuritypolicy: unable to admit pod",
            "PodSecurityPolicy",
        ),
        (
            "no providers available to validate pod request",
            "PodSecurityPolicy",
        ),
        ("unable to admit pod", "an admission plugin"),
        ("is not allowed to be used", "a pod security policy"),
        ("are not allowed to be used", "a pod security policy"),
        ("denied by ", "a policy engine"),
        ("[denied by", "Gatekeeper"),
        ("validation error:", "a policy engine"),
        (
            "error looking up service account",
            "ServiceAccount admission",
        ),
        // The Priority admission plugin: a system priority class outside the namespaces
        // that may use it (kube-system, or by a ResourceQuota's scope), or a class that
        // does not exist.
        (
            "priorityclass is not permitted in",
            "the Priority admission plugin",
        ),
        (
            "no priorityclass with name",
            "the Priority admission plugin",
        ),
    ] {
        if let Some(at) = lower.find(marker) {
            let start = lower[..at].rfind("forbidden:").unwrap_or(at);
            return Some(PolicyDenial {
                by: by.into(),
                text: short(&text[start..]),
                unreachable: false,
            });
        }
    }
    None
}

/// Forces every pattern of this module (the test that a typo cannot turn a parser off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for pattern in [
        &EXCEEDED,
        &MUST_SPECIFY,
        &LR_MINMAX,
        &LR_RATIO,
        &LR_REQ_GT_LIMIT,
        &LR_LIMIT_LT_REQ,
        &WEBHOOK,
        &PSA,
        &FAILED_CALLING,
        &CREATE_TIMED_OUT,
        &NODE_ADMISSION,
    ] {
        LazyLock::force(pattern);
    }
}

#[cfg(test)]
mod tests;
