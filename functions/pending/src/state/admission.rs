//! Admission causes: ResourceQuota and LimitRange arithmetic, for pods that were never
//! created as well as for pods already pending.

use k8s_openapi::api::core::v1::ResourceQuota;
use lastmile_events::{Class, Remediation};
use serde_json::json;

use super::Cause;
use crate::fit::PodNeeds;
use crate::index::SnapshotIndex;
use crate::quantity::{Quantity, base_resource};
use crate::remedy::{Workload, raise_quota};
use crate::resources::{Res, to_res};

/// Quota arithmetic for a pod that is not created yet (a Job's FailedCreate).
pub fn quota_causes(needs: &PodNeeds<'_>, quotas: &[&ResourceQuota], w: &Workload) -> Vec<Cause> {
    let mut out = Vec::new();
    let requests = &needs.requests.total;
    let mut limits = Res::new();
    for c in needs.requests.containers.iter().filter(|c| !c.init) {
        crate::resources::add_into(&mut limits, &c.limits);
    }
    for q in quotas {
        let name = q.metadata.name.as_deref().unwrap_or("");
        let hard = to_res(
            q.status
                .as_ref()
                .and_then(|s| s.hard.as_ref())
                .or(q.spec.as_ref().and_then(|s| s.hard.as_ref())),
        );
        let used = to_res(q.status.as_ref().and_then(|s| s.used.as_ref()));
        let mut missing = Vec::new();
        let mut missing_pairs: Vec<(String, String)> = Vec::new();
        for (res, limit) in &hard {
            let (want, tracked_on_limits) = match res.as_str() {
                "pods" | "count/pods" => (Some(Quantity::from_units(1)), None),
                r if r.starts_with("requests.") => (
                    Some(
                        requests
                            .get(&r["requests.".len()..])
                            .copied()
                            .unwrap_or_default(),
                    ),
                    Some(false),
                ),
                r if r.starts_with("limits.") => (
                    Some(
                        limits
                            .get(&r["limits.".len()..])
                            .copied()
                            .unwrap_or_default(),
                    ),
                    Some(true),
                ),
                "cpu" | "memory" | "ephemeral-storage" => (
                    Some(requests.get(res.as_str()).copied().unwrap_or_default()),
                    Some(false),
                ),
                _ => (None, None),
            };
            let Some(want) = want else { continue };
            if let Some(on_limits) = tracked_on_limits {
                let base = base_resource(res);
                if matches!(base, "cpu" | "memory") {
                    for c in needs.requests.containers.iter() {
                        let has = if on_limits {
                            c.limits.contains_key(base)
                        } else {
                            c.requests.contains_key(base)
                        };
                        if !has {
                            missing.push(format!("{res} for: {}", c.name));
                            missing_pairs.push((res.clone(), c.name.clone()));
                        }
                    }
                }
            }
            let u = used.get(res).copied().unwrap_or_default();
            let left = *limit - u;
            if want > left {
                let mut c = Cause::new(
                    Class::QuotaExceeded,
                    0.93,
                    format!(
                        "quota {name} has {} {res} left (hard {}, used {}), the pod asks {}",
                        left.max(Quantity::ZERO).display_for(res),
                        limit.display_for(res),
                        u.display_for(res),
                        want.display_for(res)
                    ),
                    want > *limit,
                );
                c.evidence.push(format!(
                    "resourcequota/{name} in {}: {res} hard={} used={}",
                    needs.namespace,
                    limit.display_for(res),
                    u.display_for(res)
                ));
                c.remediation.push(raise_quota(
                    &needs.namespace,
                    name,
                    res,
                    &(u + want).display_for(res),
                ));
                if want <= *limit {
                    c.remediation.push(Remediation {
                        description: "or wait for / delete finished pods that still count against the quota (Terminating pods count until they are gone)".into(),
                        command: Some(format!("kubectl get pods -n {} --field-selector=status.phase!=Running,status.phase!=Pending", needs.namespace)),
                    });
                }
                c.details = json!({"quota": name, "resource": res, "hard": limit.display_for(res), "used": u.display_for(res), "left": left.display_for(res), "requested": want.display_for(res)});
                out.push(c);
            }
        }
        if !missing.is_empty() {
            missing.sort();
            missing.dedup();
            let mut c = Cause::new(
                Class::QuotaExceeded,
                0.9,
                format!(
                    "quota {name} tracks cpu/memory, so every container must set them: must specify {}",
                    missing.join("; ")
                ),
                true,
            );
            c.evidence.push(format!(
                "resourcequota/{name} hard: {}",
                hard.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
            c.remediation.push(Remediation {
                description: "set requests and limits on every container (or add a LimitRange with defaults to the namespace)".into(),
                command: Some(format!("kubectl set resources {}/{} -n {} --requests=cpu=100m,memory=128Mi --limits=cpu=500m,memory=512Mi", w.kind.to_lowercase(), w.name, w.namespace)),
            });
            missing_pairs.sort();
            missing_pairs.dedup();
            crate::provenance::must_specify(&mut c, Some(name), &missing_pairs, w);
            out.push(c);
        }
    }
    out
}

/// LimitRange min/max and request>limit checks on the pod after defaulting.
pub fn limit_range_causes(needs: &PodNeeds<'_>, index: &SnapshotIndex<'_>) -> Vec<Cause> {
    let mut out = Vec::new();
    for lr in index.limit_ranges(&needs.namespace) {
        let lr_name = lr.metadata.name.as_deref().unwrap_or("");
        for item in lr.spec.as_ref().map(|s| s.limits.as_slice()).unwrap_or(&[]) {
            if item.type_ != "Container" {
                continue;
            }
            let min = to_res(item.min.as_ref());
            let max = to_res(item.max.as_ref());
            for c in &needs.requests.containers {
                for (res, m) in &min {
                    if let Some(r) = c.requests.get(res).filter(|r| *r < m) {
                        out.push(lr_cause(lr_name, &format!("minimum {res} usage per Container is {}, but container {} requests {}", m.display_for(res), c.name, r.display_for(res))));
                    }
                }
                for (res, m) in &max {
                    if let Some(l) = c.limits.get(res).filter(|l| *l > m) {
                        out.push(lr_cause(lr_name, &format!("maximum {res} usage per Container is {}, but container {} has limit {}", m.display_for(res), c.name, l.display_for(res))));
                    }
                }
                for (res, r) in &c.requests {
                    if let Some(l) = c.limits.get(res).filter(|l| r > *l) {
                        let injected = c.defaulted.iter().any(|d| d == &format!("limits.{res}"));
                        let how = if injected {
                            format!(
                                "LimitRange {lr_name} injected the default limit {}",
                                l.display_for(res)
                            )
                        } else {
                            format!("its limit is {}", l.display_for(res))
                        };
                        let mut cause = lr_cause(
                            lr_name,
                            &format!(
                                "container {} requests {} {res} but {how}: the request must not exceed the limit",
                                c.name,
                                r.display_for(res)
                            ),
                        );
                        cause.remediation.insert(0, Remediation { description: format!("set limits.{res} ≥ {} on container {} (or drop its request and take the defaults)", r.display_for(res), c.name), command: None });
                        out.push(cause);
                    }
                }
            }
        }
    }
    out.truncate(5);
    out
}

fn lr_cause(lr: &str, what: &str) -> Cause {
    let mut c = Cause::new(
        Class::LimitRange,
        0.9,
        format!("LimitRange {lr} rejects the pod: {what}"),
        true,
    );
    c.evidence.push(what.to_owned());
    c.remediation.push(Remediation {
        description: format!(
            "fit the container resources to LimitRange {lr}, or change the LimitRange"
        ),
        command: Some(format!("kubectl get limitrange {lr} -o yaml")),
    });
    c
}
