//! `runtime.oom_killed`: the container was killed for exceeding its own memory limit
//! (`OOMKilled`, exit 137) — not a node-pressure eviction, which the kubelet reports as
//! `Evicted`. Says the limit, the request, how often, a computed new limit, and whether a
//! LimitRange default (not the manifest) set the limit.

use lastmile_events::{Class, ClusterSnapshot, Incident};

use crate::facts::Facts;
use crate::remedy::{self, Target};
use crate::{Found, quote};

/// Bytes in a Kubernetes memory quantity (`512Mi`, `1G`, `268435456`, `1.5Gi`).
pub(crate) fn bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "m" => 1e-3,
        _ => return None,
    };
    let b = n * mult;
    (b.is_finite() && b >= 0.0).then(|| b.round() as u64)
}

/// A new limit: twice a small limit (under 256 MiB a working set often needs double),
/// one and a half times a larger one, rounded up to 64 MiB, never below the request.
pub(crate) fn new_limit(limit: u64, request: Option<u64>) -> u64 {
    const MI: u64 = 1024 * 1024;
    let grown = if limit < 256 * MI {
        limit.saturating_mul(2)
    } else {
        limit.saturating_add(limit / 2)
    };
    grown
        .max(request.unwrap_or(0))
        .div_ceil(64 * MI)
        .saturating_mul(64 * MI)
}

/// `384Mi` or `1.5Gi`.
pub(crate) fn human(b: u64) -> String {
    const MI: u64 = 1024 * 1024;
    if b >= 1024 * MI && b.is_multiple_of(512 * MI) {
        let gi = b as f64 / (1024.0 * MI as f64);
        format!("{}Gi", (gi * 10.0).round() / 10.0)
    } else {
        format!("{}Mi", b.div_ceil(MI))
    }
}

/// The OOM diagnosis, when the container was OOM-killed.
pub(crate) fn diagnose(
    f: &Facts,
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    t: &Target,
) -> Option<Found> {
    let reason_oom = f.exit_reason.as_deref() == Some("OOMKilled");
    let line = f.first_line_with(&[
        "oomkilled",
        "memory cgroup out of memory",
        "out of memory",
        "oom-kill",
    ]);
    let exit137 = f.exit_code == Some(137) && f.exit_reason.as_deref() != Some("Error");
    if !reason_oom && line.is_none() && !exit137 {
        return None;
    }
    let c = f.container.as_deref();
    let who = c
        .map(|c| format!("Container `{c}`"))
        .unwrap_or_else(|| "The container".into());
    let mut evidence = Vec::new();
    if reason_oom || exit137 {
        evidence.push(format!(
            "last run terminated: reason {}, exit code {}",
            f.exit_reason.as_deref().unwrap_or("-"),
            f.exit_code.map_or("-".into(), |c| c.to_string())
        ));
    }
    if let Some(l) = line.filter(|_| !reason_oom) {
        evidence.push(format!("the report says: {}", quote(l)));
    }
    let how_often = f
        .restarts
        .filter(|n| *n > 0)
        .map(|n| format!(", {n} restarts so far"))
        .unwrap_or_default();
    if let Some(n) = f.restarts.filter(|n| *n > 0) {
        evidence.push(format!("restartCount: {n}"));
    }
    let limit = f.mem_limit.as_deref().and_then(bytes);
    let request = f.mem_request.as_deref().and_then(bytes);
    if let Some(l) = &f.mem_limit {
        evidence.push(format!(
            "memory limit {l}, request {}",
            f.mem_request
                .as_deref()
                .unwrap_or("not set (defaults to the limit)")
        ));
    }
    let defaulted = limit_range_default(incident, snapshot, c);
    if let Some(d) = &defaulted {
        evidence.push(d.clone());
    }
    let container_flag = c.map(|c| format!(" -c {c}")).unwrap_or_default();
    let mut remediation = Vec::new();
    let summary = match limit {
        Some(l) => {
            let new = new_limit(l, request);
            remediation.push(remedy::step(
                format!(
                    "Raise the memory limit from {} to {} (the request to at least what the app uses at rest), then watch its usage (kubectl top pod).",
                    human(l),
                    human(new)
                ),
                format!(
                    "kubectl set resources{} {}{container_flag} --limits=memory={}{}",
                    t.ns(),
                    t.workload(),
                    human(new),
                    request
                        .map(|r| format!(" --requests=memory={}", human(r.min(new))))
                        .unwrap_or_default()
                ),
            ));
            format!(
                "{who} is killed for exceeding its memory limit of {}{how_often}{}; raise it to about {}.",
                human(l),
                if defaulted.is_some() {
                    " (set by the namespace's LimitRange default, not the manifest)"
                } else {
                    ""
                },
                human(new)
            )
        }
        None => {
            remediation.push(remedy::step(
                "See the container's memory limit and request, then raise the limit.",
                format!(
                    "kubectl get{} {} -o jsonpath='{{.spec.containers[*].resources}}'",
                    t.ns(),
                    t.pod()
                ),
            ));
            format!(
                "{who} is killed for exceeding its memory limit (OOMKilled, exit 137){how_often}; raise the limit or reduce the app's memory use."
            )
        }
    };
    if defaulted.is_some() {
        remediation.push(remedy::advice(
            "The limit came from the namespace's LimitRange default: set resources.limits.memory in the manifest so the default no longer applies.",
        ));
    }
    remediation.push(remedy::previous_logs(t, c));
    let confidence = if reason_oom || line.is_some_and(|l| l.to_lowercase().contains("oomkilled")) {
        0.93
    } else if line.is_some() {
        0.85
    } else {
        0.6
    };
    Some(Found::of(
        Class::RUNTIME_OOM_KILLED,
        confidence,
        summary,
        remediation,
        c,
        evidence,
    ))
}

/// Evidence that a LimitRange default set the container's memory limit: the LimitRanger
/// admission plugin's annotation on the pod, named with the snapshot's LimitRange.
fn limit_range_default(
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    container: Option<&str>,
) -> Option<String> {
    let note = incident
        .pod
        .as_ref()?
        .metadata
        .annotations
        .as_ref()?
        .get("kubernetes.io/limit-ranger")?;
    let about = container.is_none_or(|c| note.contains(&format!("memory limit for container {c}")));
    if !note.contains("memory limit") || !about {
        return None;
    }
    let range = snapshot
        .limit_ranges
        .iter()
        .find_map(|lr| {
            let default = lr
                .spec
                .as_ref()?
                .limits
                .iter()
                .find_map(|l| l.default.as_ref()?.get("memory"))?;
            Some(format!(
                " (LimitRange {} defaults memory limits to {})",
                lr.metadata.name.as_deref().unwrap_or("?"),
                default.0
            ))
        })
        .unwrap_or_default();
    Some(format!(
        "annotation kubernetes.io/limit-ranger: {note}{range}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_new_limits() {
        assert_eq!(bytes("512Mi"), Some(512 * 1024 * 1024));
        assert_eq!(bytes("1Gi"), Some(1 << 30));
        assert_eq!(bytes("512M"), Some(512_000_000));
        assert_eq!(bytes("1.5Gi"), Some(3 << 29));
        assert_eq!(bytes("lots"), None);
        let mi = |n: u64| n * 1024 * 1024;
        assert_eq!(human(new_limit(mi(90), Some(mi(60)))), "192Mi");
        assert_eq!(human(new_limit(mi(30), None)), "64Mi");
        assert_eq!(human(new_limit(mi(512), None)), "768Mi");
        assert_eq!(human(new_limit(mi(1024), None)), "1.5Gi");
        // Absurd quantities saturate instead of overflowing.
        let huge = bytes("99999999Ti").unwrap();
        assert!(new_limit(huge, Some(huge)) >= huge);
        // Never below the request.
        assert_eq!(human(new_limit(mi(100), Some(mi(300)))), "320Mi");
    }
}
