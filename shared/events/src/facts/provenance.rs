//! Where a pod's resource values came from: the manifest, a LimitRange default, an
//! admission mutation, or a ResourceQuota that requires them.
//!
//! A pod as the API returns it is the manifest *after* admission: the LimitRanger plugin
//! fills the namespace's defaults into containers that set none, and mutating webhooks
//! change values. A diagnosis that says "raise the limit in your manifest" is wrong when the
//! manifest never set one. What the manifest said is read from what the input records of it:
//!
//! 1. the LimitRanger plugin's own record, the `kubernetes.io/limit-ranger` annotation
//!    (`LimitRanger plugin set: cpu, memory request for container app; memory limit for
//!    container app`), authoritative for the values it lists;
//! 2. the owning workload's pod template (a Job's, when the incident carries the Job), or the
//!    pod's `kubectl.kubernetes.io/last-applied-configuration` (a pod applied by kubectl):
//!    a value the pod has and the template lacks was defaulted or injected at admission; a
//!    value that differs was mutated.
//!
//! The namespace's LimitRanges name the default (the one whose default equals the pod's
//! value). Without a template or the annotation nothing is claimed: a value equal to a
//! default may as well have been written by hand.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, LimitRange, Pod, PodSpec, ResourceQuota};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The LimitRanger admission plugin's annotation on pods it defaulted.
pub const LIMIT_RANGER_ANNOTATION: &str = "kubernetes.io/limit-ranger";
/// kubectl's record of the applied manifest.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Where one resource value (or requirement) of one container came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ValueOrigin {
    /// The container (an init container's name too).
    pub container: String,
    /// `requests` or `limits`.
    pub kind: String,
    /// The resource: `cpu`, `memory`, `ephemeral-storage`, …
    pub resource: String,
    /// The value the pod runs with (`128Mi`); absent for a requirement the pod does not meet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where it came from.
    pub source: Source,
    /// What showed it: the annotation, the template compared, the quota's hard limits.
    pub basis: String,
}

/// The origin of a value that is not simply the manifest's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The manifest set none; the namespace's LimitRange default filled it in at admission.
    LimitRangeDefault {
        /// The LimitRange whose default it is, when the cluster state shows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit_range: Option<String>,
    },
    /// Admission changed it (a mutating webhook or policy): the manifest says otherwise.
    Admission {
        /// What the manifest says; absent when it sets none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        manifest: Option<String>,
    },
    /// A ResourceQuota limits this resource, so admission refuses pods that do not set it.
    QuotaRequires {
        /// The ResourceQuota.
        resource_quota: String,
    },
}

impl ValueOrigin {
    /// `resources.limits.memory`.
    pub fn field(&self) -> String {
        format!("resources.{}.{}", self.kind, self.resource)
    }

    /// One sentence for people: what the value is and where it came from.
    pub fn sentence(&self) -> String {
        let c = &self.container;
        let field = self.field();
        let value = self.value.as_deref().unwrap_or("none");
        match &self.source {
            Source::LimitRangeDefault { limit_range } => format!(
                "{field} {value} of container `{c}` is {} default: the manifest sets none ({})",
                limit_range
                    .as_deref()
                    .map_or("a LimitRange".to_owned(), |n| format!("LimitRange {n}'s")),
                self.basis
            ),
            Source::Admission { manifest: Some(m) } => format!(
                "{field} {value} of container `{c}` was changed at admission: the manifest says {m} ({})",
                self.basis
            ),
            Source::Admission { manifest: None } => format!(
                "{field} {value} of container `{c}` was added at admission, not by a LimitRange default: the manifest sets none ({})",
                self.basis
            ),
            Source::QuotaRequires { resource_quota } => format!(
                "container `{c}` sets no {field}, which ResourceQuota {resource_quota} requires ({})",
                self.basis
            ),
        }
    }

    /// The LimitRange that set it, when one did and is known.
    pub fn limit_range(&self) -> Option<&str> {
        match &self.source {
            Source::LimitRangeDefault { limit_range } => limit_range.as_deref(),
            _ => None,
        }
    }
}

/// What the pod's manifest said: the owning Job's template when `job` owns `pod`, else the
/// spec in the pod's last-applied annotation; with a phrase naming it.
pub fn manifest_spec(pod: &Pod, job: Option<&Job>) -> Option<(PodSpec, &'static str)> {
    let owned_by_job = |j: &Job| {
        let name = j.metadata.name.as_deref().unwrap_or_default();
        pod.metadata.owner_references.as_ref().is_some_and(|refs| {
            refs.iter()
                .any(|r| r.kind == "Job" && !name.is_empty() && r.name == name)
        })
    };
    if let Some(spec) = job
        .filter(|j| owned_by_job(j))
        .and_then(|j| j.spec.as_ref()?.template.spec.clone())
    {
        return Some((spec, "the Job's pod template"));
    }
    let applied = pod
        .metadata
        .annotations
        .as_ref()?
        .get(LAST_APPLIED_ANNOTATION)?;
    let v: serde_json::Value = serde_json::from_str(applied).ok()?;
    let spec = serde_json::from_value(v.get("spec")?.clone()).ok()?;
    Some((spec, "the pod's last-applied-configuration"))
}

/// `(kind, resource, container)` the LimitRanger annotation says it set.
fn limit_ranger_set(pod: &Pod) -> Vec<(String, String, String)> {
    let Some(note) = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(LIMIT_RANGER_ANNOTATION))
    else {
        return Vec::new();
    };
    let body = note.strip_prefix("LimitRanger plugin set:").unwrap_or(note);
    let mut out = Vec::new();
    for part in body.split(';') {
        // `cpu, memory request for container app` / `memory limit for init container init`.
        let (kind, rest) = if let Some((res, rest)) = part.split_once(" request for ") {
            ("requests", (res, rest))
        } else if let Some((res, rest)) = part.split_once(" limit for ") {
            ("limits", (res, rest))
        } else {
            continue;
        };
        let (resources, who) = rest;
        let Some(container) = who
            .trim()
            .strip_prefix("init container ")
            .or_else(|| who.trim().strip_prefix("container "))
        else {
            continue;
        };
        for r in resources.split(',') {
            out.push((
                kind.to_owned(),
                r.trim().to_owned(),
                container.trim().to_owned(),
            ));
        }
    }
    out
}

/// The namespace's LimitRange whose Container default for `kind`/`resource` is `value`
/// (`defaultRequest` for requests, falling back to `default` as the API server does), or
/// the only one with such a default at all.
pub fn default_limit_range<'a, L: Borrow<LimitRange>>(
    limit_ranges: &'a [L],
    namespace: Option<&str>,
    kind: &str,
    resource: &str,
    value: &str,
) -> Option<&'a str> {
    let mut candidates = Vec::new();
    for lr in limit_ranges {
        let lr: &LimitRange = lr.borrow();
        if namespace.is_some()
            && lr.metadata.namespace.is_some()
            && lr.metadata.namespace.as_deref() != namespace
        {
            continue;
        }
        let Some(spec) = &lr.spec else { continue };
        for item in spec.limits.iter().filter(|l| l.type_ == "Container") {
            let default = |m: &Option<BTreeMap<String, Quantity>>| {
                m.as_ref()
                    .and_then(|m| m.get(resource))
                    .map(|q| q.0.clone())
            };
            let d = if kind == "requests" {
                default(&item.default_request).or_else(|| default(&item.default))
            } else {
                default(&item.default)
            };
            if let Some(d) = d {
                candidates.push((
                    lr.metadata.name.as_deref().unwrap_or("?"),
                    same_quantity(&d, value),
                ));
            }
        }
    }
    candidates
        .iter()
        .find(|(_, same)| *same)
        .or_else(|| (candidates.len() == 1).then(|| &candidates[0]))
        .map(|(name, _)| *name)
}

/// The containers of a spec, init containers first, with their resources.
fn containers(spec: &PodSpec) -> impl Iterator<Item = &Container> {
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
}

fn resource_map<'a>(c: &'a Container, kind: &str) -> Option<&'a BTreeMap<String, Quantity>> {
    let r = c.resources.as_ref()?;
    if kind == "requests" {
        r.requests.as_ref()
    } else {
        r.limits.as_ref()
    }
}

/// Every resource value of `pod` that its manifest did not set as it runs: LimitRange
/// defaults and admission changes, in container order (requests before limits).
/// `manifest` is [`manifest_spec`]'s answer; `limit_ranges` the namespace's.
pub fn resource_origins<L: Borrow<LimitRange>>(
    pod: &Pod,
    manifest: Option<&(PodSpec, &'static str)>,
    limit_ranges: &[L],
) -> Vec<ValueOrigin> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    let namespace = pod.metadata.namespace.as_deref();
    let noted = limit_ranger_set(pod);
    let mut out = Vec::new();
    for c in containers(spec) {
        let written = manifest.and_then(|(m, _)| containers(m).find(|mc| mc.name == c.name));
        for kind in ["requests", "limits"] {
            let Some(values) = resource_map(c, kind) else {
                continue;
            };
            for (resource, q) in values {
                let value = q.0.clone();
                let by_annotation = noted
                    .iter()
                    .any(|(k, r, n)| k == kind && r == resource && n == &c.name);
                let origin = |source, basis: String| ValueOrigin {
                    container: c.name.clone(),
                    kind: kind.to_owned(),
                    resource: resource.clone(),
                    value: Some(value.clone()),
                    source,
                    basis,
                };
                let lr = || default_limit_range(limit_ranges, namespace, kind, resource, &value);
                if by_annotation {
                    out.push(origin(
                        Source::LimitRangeDefault {
                            limit_range: lr().map(str::to_owned),
                        },
                        format!("annotation {LIMIT_RANGER_ANNOTATION}"),
                    ));
                    continue;
                }
                let (Some((_, what)), Some(written)) = (manifest, written) else {
                    continue;
                };
                match resource_map(written, kind).and_then(|m| m.get(resource)) {
                    Some(m) if same_quantity(&m.0, &value) => {}
                    Some(m) => out.push(origin(
                        Source::Admission {
                            manifest: Some(m.0.clone()),
                        },
                        format!("{what} says {}", m.0),
                    )),
                    None if default_equals(limit_ranges, namespace, kind, resource, &value) => {
                        out.push(origin(
                            Source::LimitRangeDefault {
                                limit_range: lr().map(str::to_owned),
                            },
                            format!("{what} sets none"),
                        ));
                    }
                    None => out.push(origin(
                        Source::Admission { manifest: None },
                        format!("{what} sets none and no LimitRange default is {value}"),
                    )),
                }
            }
        }
    }
    out
}

/// True when some Container default of the namespace's LimitRanges equals `value`.
fn default_equals<L: Borrow<LimitRange>>(
    limit_ranges: &[L],
    namespace: Option<&str>,
    kind: &str,
    resource: &str,
    value: &str,
) -> bool {
    limit_ranges
        .iter()
        .map(|lr| -> &LimitRange { lr.borrow() })
        .filter(|lr| {
            namespace.is_none()
                || lr.metadata.namespace.is_none()
                || lr.metadata.namespace.as_deref() == namespace
        })
        .filter_map(|lr| lr.spec.as_ref())
        .flat_map(|s| s.limits.iter())
        .filter(|l| l.type_ == "Container")
        .any(|l| {
            let d = if kind == "requests" {
                l.default_request.as_ref().or(l.default.as_ref())
            } else {
                l.default.as_ref()
            };
            d.and_then(|m| m.get(resource))
                .is_some_and(|q| same_quantity(&q.0, value))
        })
}

/// The `requests.cpu`/`limits.memory`… a ResourceQuota of the pod's namespace limits and a
/// container of `spec` does not set: admission refuses such a pod ("must specify").
pub fn quota_requirements(
    spec: &PodSpec,
    namespace: Option<&str>,
    quotas: &[ResourceQuota],
) -> Vec<ValueOrigin> {
    let mut out = Vec::new();
    for q in quotas {
        if namespace.is_some()
            && q.metadata.namespace.is_some()
            && q.metadata.namespace.as_deref() != namespace
        {
            continue;
        }
        let name = q.metadata.name.clone().unwrap_or_default();
        let Some(hard) = q.spec.as_ref().and_then(|s| s.hard.as_ref()) else {
            continue;
        };
        for key in hard.keys() {
            let (kind, resource) = match key.split_once('.') {
                Some(("requests", r)) => ("requests", r),
                Some(("limits", r)) => ("limits", r),
                // A bare `cpu`/`memory` quota limits requests.
                None if key == "cpu" || key == "memory" => ("requests", key.as_str()),
                _ => continue,
            };
            for c in containers(spec) {
                let set = resource_map(c, kind).is_some_and(|m| m.contains_key(resource));
                if !set {
                    out.push(ValueOrigin {
                        container: c.name.clone(),
                        kind: kind.to_owned(),
                        resource: resource.to_owned(),
                        value: None,
                        source: Source::QuotaRequires {
                            resource_quota: name.clone(),
                        },
                        basis: format!("its hard limits include {key}"),
                    });
                }
            }
        }
    }
    out
}

/// Two quantities are the same amount (`0.5` and `500m`, `1Gi` and `1024Mi`).
pub fn same_quantity(a: &str, b: &str) -> bool {
    a.trim() == b.trim()
        || matches!((amount(a), amount(b)), (Some(x), Some(y)) if (x - y).abs() <= f64::EPSILON * x.abs().max(1.0))
}

/// A quantity in base units (`500m` → 0.5, `1Ki` → 1024).
fn amount(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    Some(n * mult)
}

#[cfg(test)]
mod tests;
