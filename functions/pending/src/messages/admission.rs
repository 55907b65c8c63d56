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

static EXCEEDED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)exceeded quota:\s*([^,]+),\s*requested:\s*(\S+?),?\s+used:\s*(\S+?),?\s+limited:\s*([^\s,\x22\\]+(?:,[^\s,\x22\\]+)*)").ok()
});
static MUST_SPECIFY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:failed quota:\s*([^:\s]+):\s*)?must specify\s+([^\x22\n]+)").ok()
});

/// Finds a quota rejection in `text`.
pub fn parse_quota(text: &str) -> Option<QuotaRejection> {
    if let Some(c) = EXCEEDED.as_ref().and_then(|re| re.captures(text)) {
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
    let lower = text.to_ascii_lowercase();
    if let Some(c) = MUST_SPECIFY.as_ref().and_then(|re| re.captures(text))
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

static LR_MINMAX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(minimum|maximum) (\S+) usage per (Container|Pod|PersistentVolumeClaim) is (\d+(?:\.\d+)?[A-Za-z]*)(?:, but (?:request|limit) is ([^\s,\]]+)|\.\s+No (?:request|limit) is specified)").ok()
});
static LR_RATIO: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(\S+) max limit to request ratio per (\w+) is (\S+?),? but (provided ratio is [\d.]+|no request is specified or request is 0|no limit is specified or limit is 0)").ok()
});
static LR_REQ_GT_LIMIT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:resources\.requests(?:\[[^\]]*\])?:?\s*Invalid value:\s*"?([^"\s:]+)"?:\s*)?must be less than or eq(?:ual to (\S+) limit)?"#).ok()
});

/// Every LimitRange violation in `text` (plus the API's "request must be ≤ limit"
/// validation error, which LimitRange *defaults* cause when only a request is set).
pub fn parse_limit_range(text: &str) -> Vec<LimitViolation> {
    let mut out = Vec::new();
    if let Some(re) = LR_MINMAX.as_ref() {
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
    if let Some(re) = LR_RATIO.as_ref() {
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
        && let Some(c) = LR_REQ_GT_LIMIT.as_ref().and_then(|re| re.captures(text))
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

static WEBHOOK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)admission webhook \\?"([^"\\]+)\\?" denied the request:?\s*([^\n]*)"#).ok()
});
static PSA: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)violates PodSecurity \\?"([^"\\]+)\\?":?\s*([^\n]*)"#).ok());
static FAILED_CALLING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)failed calling webhook \\?"([^"\\]+)\\?":?\s*([^\n]*)"#).ok()
});

/// Finds a policy denial in `text`.
pub fn parse_policy(text: &str) -> Option<PolicyDenial> {
    let short = |s: &str| s.chars().take(300).collect::<String>().trim().to_owned();
    if let Some(c) = WEBHOOK.as_ref().and_then(|re| re.captures(text)) {
        return Some(PolicyDenial {
            by: format!("admission webhook {:?}", &c[1]),
            text: short(&c[0]),
            unreachable: false,
        });
    }
    if let Some(c) = PSA.as_ref().and_then(|re| re.captures(text)) {
        return Some(PolicyDenial {
            by: format!("PodSecurity {:?}", &c[1]),
            text: short(&c[0]),
            unreachable: false,
        });
    }
    if let Some(c) = FAILED_CALLING.as_ref().and_then(|re| re.captures(text)) {
        return Some(PolicyDenial {
            by: format!("admission webhook {:?}", &c[1]),
            text: short(&c[0]),
            unreachable: true,
        });
    }
    let lower = text.to_ascii_lowercase();
    for (marker, by) in [
        (
            "unable to validate against any security context constraint",
            "SecurityContextConstraints",
        ),
        (
            "unable to validate against any pod security policy",
            "PodSecurityPolicy",
        ),
        ("denied by ", "a policy engine"),
        ("[denied by", "Gatekeeper"),
        ("validation error:", "a policy engine"),
        (
            "error looking up service account",
            "ServiceAccount admission",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Option<Quantity> {
        Quantity::parse(s).ok()
    }

    #[test]
    fn exceeded_quota_with_multiple_resources() {
        let m = "Error creating: pods \"jenkins-1-dr8p8\" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=2,limits.memory=1Gi, used: limits.cpu=2,limits.memory=1Gi, limited: limits.cpu=2,limits.memory=1Gi";
        let Some(QuotaRejection::Exceeded { quota, items }) = parse_quota(m) else {
            panic!()
        };
        assert_eq!(quota, "compute-resources");
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].resource, "limits.memory");
        assert_eq!(items[1].requested, q("1Gi"));
        assert_eq!(items[0].limited, q("2"));
    }

    #[test]
    fn exceeded_quota_object_count_and_mixed_units() {
        let Some(QuotaRejection::Exceeded { items, .. }) = parse_quota(
            "pods \"x\" is forbidden: exceeded quota: team-a, requested: requests.cpu=500m, used: requests.cpu=1700m, limited: requests.cpu=2",
        ) else {
            panic!()
        };
        assert_eq!(
            items[0].limited.unwrap() - items[0].used.unwrap(),
            Quantity::from_millis(300)
        );
        let Some(QuotaRejection::Exceeded { items, .. }) = parse_quota(
            "(combined from similar events): Error creating: pods \"capybara-ds7zk\" is forbidden: exceeded quota: quota-pods, requested: count/pods=1, used: count/pods=1, limited: count/pods=1",
        ) else {
            panic!()
        };
        assert_eq!(items[0].resource, "count/pods");
    }

    #[test]
    fn must_specify_both_shapes() {
        let Some(QuotaRejection::MustSpecify {
            quota,
            resources,
            containers,
        }) = parse_quota(
            "pods \"hap-crdjob-1-6nxxb\" is forbidden: failed quota: ingress-stack: must specify limits.cpu for: crd; limits.memory for: crd; requests.cpu for: crd; requests.memory for: crd",
        )
        else {
            panic!()
        };
        assert_eq!(quota.as_deref(), Some("ingress-stack"));
        assert_eq!(
            resources,
            vec![
                "limits.cpu",
                "limits.memory",
                "requests.cpu",
                "requests.memory"
            ]
        );
        assert_eq!(containers, vec!["crd"]);
        let Some(QuotaRejection::MustSpecify { resources, .. }) = parse_quota(
            "pods \"nginx-pod\" is forbidden: failed quota: quota: must specify cpu,memory",
        ) else {
            panic!()
        };
        assert_eq!(resources, vec!["cpu", "memory"]);
        assert!(matches!(
            parse_quota("Failed quota: q: must specify memory"),
            Some(QuotaRejection::MustSpecify { .. })
        ));
    }

    #[test]
    fn other_quota_causes() {
        for m in [
            "pods \"x\" is forbidden: status unknown for quota: compute-quota, resources: limits.cpu,limits.memory",
            "pods \"x\" is forbidden: insufficient quota to consume: requests.nvidia.com/gpu",
            "insufficient quota to match these scopes: [{PriorityClass In [high]}]",
            "Internal error occurred: resource quota evaluation timed out",
        ] {
            assert!(
                matches!(parse_quota(m), Some(QuotaRejection::Other { .. })),
                "{m}"
            );
        }
        assert!(parse_quota("0/3 nodes are available: 3 Insufficient cpu.").is_none());
    }

    #[test]
    fn limit_range_every_format() {
        let cases = [
            (
                "minimum memory usage per Container is 100Mi, but request is 50Mi",
                "minimum",
            ),
            (
                "minimum cpu usage per Container is 100m.  No request is specified",
                "minimum",
            ),
            (
                "minimum cpu usage per Pod is 200m, but limit is 100m",
                "minimum",
            ),
            (
                "maximum cpu usage per Container is 2, but limit is 4",
                "maximum",
            ),
            (
                "maximum memory usage per Container is 1Gi.  No limit is specified",
                "maximum",
            ),
            (
                "maximum memory usage per Pod is 2Gi, but request is 3Gi",
                "maximum",
            ),
            (
                "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi",
                "minimum",
            ),
            (
                "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
                "ratio",
            ),
            (
                "memory max limit to request ratio per Container is 2, but no request is specified or request is 0",
                "ratio",
            ),
            (
                "cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0",
                "ratio",
            ),
            (
                "maximum cpu usage per Container is 2, but limit is 4.",
                "maximum",
            ),
        ];
        for (m, check) in cases {
            let v = parse_limit_range(m);
            assert_eq!(v.len(), 1, "{m}");
            assert_eq!(v[0].check, check, "{m}");
        }
        let agg = parse_limit_range(
            "pods \"x\" is forbidden: [maximum cpu usage per Container is 2, but limit is 4, maximum memory usage per Container is 1Gi, but limit is 2Gi]",
        );
        assert_eq!(agg.len(), 2);
        assert_eq!(agg[1].observed.as_deref(), Some("2Gi"));
        let v =
            parse_limit_range("minimum cpu usage per Container is 100m.  No request is specified");
        assert_eq!(v[0].enforced.as_deref(), Some("100m"));
    }

    #[test]
    fn request_above_defaulted_limit() {
        let v = parse_limit_range(
            "Pod \"nginx-4\" is invalid: spec.containers[0].resources.requests: Invalid value: \"700m\": must be less than or equal to cpu limit",
        );
        assert_eq!(v[0].check, "request>limit");
        assert_eq!(v[0].observed.as_deref(), Some("700m"));
        assert_eq!(v[0].resource, "cpu");
    }

    #[test]
    fn policy_denials() {
        let d = parse_policy("Error creating: admission webhook \"validation.gatekeeper.sh\" denied the request: [psp-privileged] Privileged container is not allowed: build").unwrap();
        assert!(d.by.contains("validation.gatekeeper.sh"));
        let d = parse_policy("pods \"x\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)").unwrap();
        assert!(d.by.contains("restricted:latest"));
        let d = parse_policy("Internal error occurred: failed calling webhook \"mpod.kb.io\": Post \"https://x.svc:443/mutate?timeout=10s\": context deadline exceeded").unwrap();
        assert!(d.unreachable);
        assert!(parse_policy("pods \"x\" is forbidden: unable to validate against any security context constraint: [spec.containers[0].securityContext.privileged: Invalid value: true]").is_some());
        assert!(parse_policy("0/3 nodes are available").is_none());
    }
}
