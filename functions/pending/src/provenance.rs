//! Where the pod's requests and limits came from, in every resource cause.
//!
//! A cause that reasons over the pod's requests (insufficient capacity, quota, LimitRange,
//! an autoscaler that cannot fit it) says when a value is not the manifest's: a LimitRange
//! default filled it in (named, with both fixes: set it in the manifest, or change the
//! default), or admission changed it; and a quota-driven "must specify" names the
//! ResourceQuota and offers a LimitRange default as the second fix. The origins are decided
//! by [`lastmile_events::facts::provenance`] (the pod's LimitRanger annotation, the Job's
//! template or last-applied manifest, the namespace's LimitRanges) or, for a Job whose pod
//! was never created, by the defaults [`crate::resources`] applied to its template. They go
//! into the cause's evidence and, as data, into `details.provenance`.

use lastmile_events::facts::provenance::{self, Source, ValueOrigin};
use lastmile_events::{Class, Incident, Remediation};
use serde_json::{Value, json};

use crate::fit::PodNeeds;
use crate::index::SnapshotIndex;
use crate::remedy::Workload;
use crate::state::Cause;

/// The origins of the pod's resource values that are not the manifest's.
pub fn origins(
    incident: &Incident,
    needs: &PodNeeds<'_>,
    index: &SnapshotIndex<'_>,
) -> Vec<ValueOrigin> {
    let lrs = index.limit_ranges(&needs.namespace);
    if let Some(pod) = incident.pod.as_deref().filter(|p| p.spec.is_some()) {
        let manifest = provenance::manifest_spec(pod, incident.job.as_deref());
        return provenance::resource_origins(pod, manifest.as_ref(), &lrs);
    }
    // A Job's template, not admitted yet: what the LimitRange defaults will fill in.
    let mut out = Vec::new();
    for c in &needs.requests.containers {
        for field in &c.defaulted {
            let Some((kind, resource)) = field.split_once('.') else {
                continue;
            };
            let map = if kind == "requests" {
                &c.requests
            } else {
                &c.limits
            };
            let Some(q) = map.get(resource) else {
                continue;
            };
            let value = q.display_for(resource);
            out.push(ValueOrigin {
                container: c.name.clone(),
                kind: kind.to_owned(),
                resource: resource.to_owned(),
                value: Some(value.clone()),
                source: Source::LimitRangeDefault {
                    limit_range: provenance::default_limit_range(
                        &lrs,
                        Some(&needs.namespace),
                        kind,
                        resource,
                        &value,
                    )
                    .map(str::to_owned),
                },
                basis: "the Job's pod template sets none; admission fills in the default".into(),
            });
        }
    }
    out
}

/// True for the classes whose reasoning reads the pod's requests or limits.
fn reads_resources(class: &Class) -> bool {
    matches!(
        class,
        Class::InsufficientResources | Class::QuotaExceeded | Class::LimitRange | Class::NoScaleUp
    )
}

/// Adds the origins each resource cause rests on: evidence lines, a summary clause, both
/// fixes for a LimitRange default, and `details.provenance`.
pub fn annotate(causes: &mut [Cause], origins: &[ValueOrigin], w: &Workload) {
    if origins.is_empty() {
        return;
    }
    for c in causes.iter_mut().filter(|c| reads_resources(&c.class)) {
        // Capacity is reserved by requests; quota and LimitRange read both. Only the
        // resources the cause is about count (a defaulted cpu request says nothing about
        // insufficient memory).
        let relevant: Vec<&ValueOrigin> = origins
            .iter()
            .filter(|o| {
                !matches!(c.class, Class::InsufficientResources | Class::NoScaleUp)
                    || o.kind == "requests"
            })
            .filter(|o| mentions(&c.summary, &o.resource))
            .collect();
        if relevant.is_empty() {
            continue;
        }
        c.evidence.extend(relevant.iter().map(|o| o.sentence()));
        if let Some(lr) = relevant.iter().find_map(|o| match &o.source {
            Source::LimitRangeDefault { limit_range } => Some(limit_range.clone()),
            _ => None,
        }) {
            let named = lr
                .as_deref()
                .map_or("a LimitRange".to_owned(), |n| format!("LimitRange {n}"));
            c.summary.push_str(&format!(
                " (the pod's values come from {named}'s defaults: the manifest sets none)"
            ));
            c.remediation
                .extend(default_fixes(&relevant, lr.as_deref(), w));
        } else if relevant
            .iter()
            .any(|o| matches!(o.source, Source::Admission { .. }))
        {
            c.summary
                .push_str(" (admission changed the pod's values: the manifest says otherwise)");
            c.remediation.push(Remediation {
                description: "a mutating webhook or policy set these values; change its rule, or a fix in the manifest may be overridden again".into(),
                command: Some("kubectl get mutatingwebhookconfigurations".into()),
            });
        }
        attach(&mut c.details, &relevant);
    }
}

/// True when `text` names `resource` as a word (`memory`, `requests.cpu`, `cpu,`).
fn mentions(text: &str, resource: &str) -> bool {
    text.split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '/'))
        .any(|w| w.eq_ignore_ascii_case(resource))
}

/// The two fixes for values a LimitRange default set: the manifest, or the default.
fn default_fixes(origins: &[&ValueOrigin], lr: Option<&str>, w: &Workload) -> Vec<Remediation> {
    let defaulted: Vec<&&ValueOrigin> = origins
        .iter()
        .filter(|o| matches!(o.source, Source::LimitRangeDefault { .. }))
        .collect();
    let flags: Vec<String> = ["requests", "limits"]
        .iter()
        .filter_map(|kind| {
            let set: Vec<String> = defaulted
                .iter()
                .filter(|o| o.kind == *kind)
                .map(|o| format!("{}=<amount>", o.resource))
                .collect();
            (!set.is_empty()).then(|| format!("--{kind}={}", set.join(",")))
        })
        .collect();
    let fields: Vec<String> = defaulted.iter().map(|o| o.field()).collect();
    let fields = fields.join(", ");
    // A Job's (or bare pod's) template cannot be changed in place: the manifest is.
    let first = if matches!(w.kind.as_str(), "Job" | "Pod" | "CronJob") {
        Remediation {
            description: format!(
                "set {fields} in the {}'s manifest and re-create it, so the LimitRange default no longer applies",
                w.kind
            ),
            command: None,
        }
    } else {
        Remediation {
            description: format!(
                "set {fields} in the manifest, so the LimitRange default no longer applies to this workload"
            ),
            command: Some(format!(
                "kubectl set resources {}/{} -n {} {}",
                w.kind.to_lowercase(),
                w.name,
                w.namespace,
                flags.join(" ")
            )),
        }
    };
    let mut out = vec![first];
    out.push(Remediation {
        description: format!(
            "or change the default in {} (every container of the namespace that sets none gets it)",
            lr.map_or("the namespace's LimitRange".to_owned(), |n| format!(
                "LimitRange {n}"
            ))
        ),
        command: Some(match lr {
            Some(n) => format!("kubectl edit limitrange {n} -n {}", w.namespace),
            None => format!("kubectl get limitrange -n {} -o yaml", w.namespace),
        }),
    });
    out
}

/// A quota-driven "must specify": the ResourceQuota that requires each `(resource,
/// container)` of `missing` (`limits.cpu`, `app`; container `*` when the message does not
/// name them), as provenance, and the second fix: a LimitRange that gives the namespace
/// defaults for them.
pub fn must_specify(
    c: &mut Cause,
    quota: Option<&str>,
    missing: &[(String, String)],
    w: &Workload,
) {
    let quota_name = quota.unwrap_or("(unnamed)");
    let mut origins = Vec::new();
    for (r, container) in missing {
        let (kind, resource) = match r.split_once('.') {
            Some((k @ ("requests" | "limits"), res)) => (k, res),
            _ => ("requests", r.as_str()),
        };
        origins.push(ValueOrigin {
            container: container.clone(),
            kind: kind.to_owned(),
            resource: resource.to_owned(),
            value: None,
            source: Source::QuotaRequires {
                resource_quota: quota_name.to_owned(),
            },
            basis: format!("ResourceQuota {quota_name} limits {r}"),
        });
    }
    if let Some(q) = quota
        && !c.summary.contains(q)
    {
        c.summary
            .push_str(&format!(" (ResourceQuota {q} requires it)"));
    }
    c.remediation.push(limit_range_for_quota(&origins, w));
    let refs: Vec<&ValueOrigin> = origins.iter().collect();
    attach(&mut c.details, &refs);
}

/// A LimitRange giving every container defaults for what the quota requires.
fn limit_range_for_quota(origins: &[ValueOrigin], w: &Workload) -> Remediation {
    let mut default = serde_json::Map::new();
    let mut default_request = serde_json::Map::new();
    for o in origins {
        let (example_request, example_limit) = match o.resource.as_str() {
            "cpu" => ("100m", "500m"),
            "memory" => ("128Mi", "512Mi"),
            _ => ("1", "1"),
        };
        if o.kind == "limits" {
            default.insert(o.resource.clone(), json!(example_limit));
        } else {
            default_request.insert(o.resource.clone(), json!(example_request));
        }
    }
    let mut item = json!({"type": "Container"});
    if !default.is_empty() {
        item["default"] = Value::Object(default);
    }
    if !default_request.is_empty() {
        item["defaultRequest"] = Value::Object(default_request);
    }
    let lr = json!({"apiVersion": "v1", "kind": "LimitRange",
        "metadata": {"name": "default-resources"}, "spec": {"limits": [item]}});
    Remediation {
        description: "or give the namespace defaults: a LimitRange whose defaults fill in what the quota requires for every container that sets none (adjust the amounts)".into(),
        command: Some(format!("kubectl apply -n {} -f - <<< '{lr}'", w.namespace)),
    }
}

/// `details.provenance`, beside whatever the cause's details already hold.
fn attach(details: &mut Value, origins: &[&ValueOrigin]) {
    let list = serde_json::to_value(origins).unwrap_or_default();
    match details {
        Value::Object(map) => {
            map.insert("provenance".into(), list);
        }
        other => *other = json!({ "provenance": list }),
    }
}
