//! The admission rules of the table: ResourceQuota rejections (`exceeded quota`, `must
//! specify`), LimitRange violations and defaults, and policy webhooks denying pods.

use crate::messages::admission::{self, QuotaRejection};
use lastmile_events::{Class, told};

use super::Input;
use crate::messages::{Fact, Finding, quote_around};

/// A ResourceQuota rejection (exceeded, or a required resource not specified).
pub(super) fn quota(t: &Input<'_>, out: &mut Vec<Finding>) {
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
            Class::QuotaExceeded,
            0.9,
            summary,
            &quote,
            definitive,
            Fact::Quota(q),
        ));
    }
}

/// LimitRange violations (minimum, maximum, ratio, request above limit).
pub(super) fn limit_range(t: &Input<'_>, out: &mut Vec<Finding>) {
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
            Class::LimitRange,
            confidence,
            summary,
            &quote_around(text, &lr[0].text),
            true,
            Fact::Limit(lr),
        ));
    }
}

/// Whether a denial's text is about verifying an image's signature (its words, or the
/// verifier's name: `lastmile_events::told`, shared with the image-pull function).
fn verifies_an_image(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    told::signature_verifier_named(&lower)
        || lower.contains("signature")
        || lower.contains("failed verification")
        || lower.contains("verification failed")
        || lower.contains("verifier")
        || lower.contains("verify image")
        || lower.contains("verifyimage")
}

/// An admission webhook, PodSecurity or policy engine denial.
pub(super) fn policy(t: &Input<'_>, out: &mut Vec<Finding>) {
    let text = t.text;
    let flat = t.flat;
    let policy = text
        .lines()
        .find_map(admission::parse_policy)
        .or_else(|| admission::parse_policy(flat));
    if let Some(p) = policy {
        let summary = if p.unreachable && p.by == "an admission webhook" {
            "creating the pod timed out in the API server's admission chain: a webhook it cannot reach (or that answers too slowly) with failurePolicy Fail blocks every create; list the webhooks and check their Services".to_owned()
        } else if p.unreachable {
            format!(
                "{} could not be called and its failurePolicy rejects the pod",
                p.by
            )
        } else {
            format!("{} denies the pod", p.by)
        };
        let conf: f64 = if p.by == "a policy engine" || p.by.starts_with("ServiceAccount") {
            0.6
        } else if p.by == "an admission webhook" {
            0.7
        } else {
            0.9
        };
        // A denial for the image's signature (Kyverno verifyImages, Ratify, Connaisseur)
        // enforces a policy whose cause is the image: the image-pull function's
        // `image.signature` (0.9) leads it.
        let conf = if verifies_an_image(text) {
            conf.min(0.85)
        } else {
            conf
        };
        let quote = p.text.clone();
        out.push(Finding::new(
            Class::PolicyDenied,
            conf,
            summary,
            &quote,
            !p.unreachable,
            Fact::Policy(p),
        ));
    }
}
