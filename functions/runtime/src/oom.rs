//! `runtime.oom_killed`: the container was killed for exceeding its own memory limit
//! (`OOMKilled`, exit 137) — not a node-pressure eviction, which the kubelet reports as
//! `Evicted`. Says the limit, the request, how often, a computed new limit, and where the
//! limit came from ([`provenance`]): a LimitRange default (the manifest sets none: both
//! fixes are offered, the manifest or the default) or a change at admission. The origins
//! are also structured evidence, `details.provenance`.

use std::sync::LazyLock;

use lastmile_events::facts::provenance::{self, Source, ValueOrigin};
use lastmile_events::{Class, ClusterSnapshot, Incident};
use regex::Regex;

use crate::facts::Facts;
use crate::remedy::{self, Target};
use crate::{Found, quote};

/// The OOM killer told in words: `OOM killed`, `the OOM killer`, `killed by the OOM`, the
/// frequent `OMM` misspelling (`OMMKiller was acting`); OOM as a verb (`getting OOM'd`,
/// `OOMed`, `keeps going OOM`) or a noun (`OOM events`, `an OOM crash`); the kernel's own
/// lines (`oom_reaper: reaped process`, `oom_kill_process`, cgroup v1's `Task in … killed
/// as a result of limit of …` and `memory: usage …kB, limit …kB`), the runtimes' events
/// (containerd's `/tasks/oom`, `docker events`' `container oom`, the kubelet's `SystemOOM`);
/// and a kill said to be for memory (`killed due to memory`).
static OOM_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bo(?:om|mm)[- _]?kill(?:ed|er|ing|s|_process)?\b|\bkilled by (?:the )?(?:kernel'?s? )?o(?:om|mm)\b|\bout[- ]of[- ]memory\b|\bo(?:om|mm)(?:['-]?e?d|['-]?ing)\b|\b(?:gets?|got|getting|goes|go|going|went|hits?|hitting|runs?|ran|running|keeps?) (?:into )?(?:an? )?o(?:om|mm)\b|\bo(?:om|mm)[- ](?:events?|errors?|crash(?:es|ed|ing)?|kills?|loops?)\b|\boom_reaper\b|\bkilled as a result of limit of\b|\bmemory: usage \d+kb, limit \d+kb\b|/tasks/oom\b|\btaskoom\b|\bcontainer oom\b|\bsystem ?oom\b|\b(?:killed|terminated|restarted) (?:due to|because of|for|on) (?:an? )?(?:(?:high|excessive|too much) )?(?:memory|o(?:om|mm))\b")
        .expect("the OOM patterns are valid regexes")
});

/// The OOM kill ruled out in words: "not OOMKilled", "wasn't an OOM kill", "no OOM",
/// "rather than out of memory". A line that only denies the kill is no evidence of it.
static OOM_DENIED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:not|no|never|nor|without|wasn't|was not|isn't|is not|weren't|were not|rather than|instead of)\s+(?:an?\s+|the\s+|by\s+(?:the\s+)?)?(?:o(?:om|mm)|out[- ]of[- ]memory)")
        .expect("the OOM patterns are valid regexes")
});

/// A memory limit written in the report: a YAML `limits:` block, `memory limit of 256Mi`,
/// `100 MB (which was the limit)`.
static LIMIT_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^\s*limits:\s*\n(?:\s+[a-z.-]+:\s*\S+\s*\n){0,3}?\s+memory:\s*([0-9.]+\s*[KMGT]?i?)\s*$|\bmemory limit(?: of| is| was| at|:)?\s+([0-9.]+\s*[KMGT]i?B?)\b|\b([0-9.]+\s*[KMGT]i?B?)\b[^.\n]{0,20}?\bwhich (?:is|was) the limit")
        .expect("the OOM patterns are valid regexes")
});
/// Memory the app is said to use or need: `memory usage average on 55Mi`, `needs on startup
/// more than 100 MB`, `peaks at 1.2Gi`.
static USAGE_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:memory usage|memory use|memory consumption|uses|using|needs|requires|consumes|peaks? at)\b[^.\n]{0,40}?\b([0-9.]+\s*[KMGT]i?B?)\b")
        .expect("the OOM patterns are valid regexes")
});

/// Exit code 137 told in a report, in a field or in words (`Exit Code: 137`, `exited with
/// 137`, `the 137 error code`).
static EXIT_137_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:exit(?:ed|s)?|code|status)\b[^.\n]{0,30}?\b137\b|\b137\b[^.\n]{0,20}?\b(?:exit|error|code|status)\b")
        .expect("the OOM patterns are valid regexes")
});
/// Memory said to grow until the container dies: an app that "eats memory", "uses too much
/// memory", a leak, usage that keeps climbing, a limit exceeded.
static MEMORY_GROWTH_SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:eats?|eating|consum(?:es|ing)|allocat(?:es|ing)|grabs?|grabbing|us(?:es|ing)) (?:up )?(?:all (?:the |of the |available )?|too much |more and more |lots of |a lot of )memory\b|\beats? memory\b|\bmemory (?:leaks?|leaking|grows?|growing|keeps? (?:growing|increasing|rising|climbing)|usage (?:grows|climbs|increases|keeps))\b|\btoo much memory\b|\b(?:exceed(?:s|ed|ing)?|over|above|hit(?:s|ting)?|reach(?:es|ed)?) (?:its |the )?memory limits?\b")
        .expect("the OOM patterns are valid regexes")
});

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for p in [
        &OOM_SAID,
        &OOM_DENIED,
        &LIMIT_SAID,
        &USAGE_SAID,
        &EXIT_137_SAID,
        &MEMORY_GROWTH_SAID,
    ] {
        LazyLock::force(p);
    }
}

/// Bytes of a quantity as people write it: Kubernetes units, or `100 MB` / `100Mb`.
fn said_bytes(q: &str) -> Option<u64> {
    let q: String = q.chars().filter(|c| !c.is_whitespace()).collect();
    let q = q.strip_suffix(['B', 'b']).unwrap_or(&q);
    bytes(&q.replace(['k'], "K"))
}

/// What the report says about memory against the limit, as written there.
struct SaidUsage {
    /// The limit, in bytes.
    limit: u64,
    /// The limit as written (`30Mi`, `100 MB`).
    limit_text: String,
    /// The usage as written.
    used_text: String,
    /// The line that states the usage, up to the quantity.
    line: String,
}

/// The report says the app uses or needs more memory than its limit.
fn usage_above_limit(text: &str) -> Option<SaidUsage> {
    let limit_caps = LIMIT_SAID.captures(text)?;
    let (limit, limit_text) = limit_caps
        .iter()
        .skip(1)
        .flatten()
        .find_map(|m| Some((said_bytes(m.as_str())?, m.as_str().trim().to_owned())))?;
    USAGE_SAID.captures_iter(text).find_map(|c| {
        let m = c.get(1)?;
        let used = said_bytes(m.as_str())?;
        // "needs more than <the limit>" counts as above it; a stated value must exceed it.
        let start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let line = text[start..m.end()].trim().to_owned();
        let above = used > limit || (used == limit && line.to_lowercase().contains("more than"));
        above.then(|| SaidUsage {
            limit,
            limit_text: limit_text.clone(),
            used_text: if used == limit {
                format!("more than {}", m.as_str().trim())
            } else {
                m.as_str().trim().to_owned()
            },
            line,
        })
    })
}

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

/// The first line of the report that tells of an OOM kill and does not rule one out.
fn oom_line(f: &Facts) -> Option<&str> {
    let affirmed = |l: &&str| !OOM_DENIED.is_match(l);
    f.lines
        .iter()
        .map(String::as_str)
        .filter(affirmed)
        .find(|l| {
            let lower = l.to_lowercase();
            ["oomkilled", "out of memory", "oom-kill"]
                .iter()
                .any(|n| lower.contains(n))
        })
        .or_else(|| {
            f.lines
                .iter()
                .map(String::as_str)
                .filter(affirmed)
                .find(|l| OOM_SAID.is_match(l))
        })
}

/// The OOM diagnosis, when the container was OOM-killed.
pub(crate) fn diagnose(
    f: &Facts,
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    t: &Target,
) -> Option<Found> {
    let reason_oom = f.exit_reason.as_deref() == Some("OOMKilled");
    let line = oom_line(f);
    let exit137 = f.exit_code == Some(137) && f.exit_reason.as_deref() != Some("Error");
    let text = f.lines.join("\n");
    let above = usage_above_limit(&text);
    // A SIGKILL (137) reported with reason `Error` beside memory said to grow: older
    // kubelets and runtimes named the OOM kill `Error`.
    let grown = (f.exit_code == Some(137) || EXIT_137_SAID.is_match(&text))
        .then(|| MEMORY_GROWTH_SAID.find(&text))
        .flatten()
        .map(|m| m.as_str().to_owned());
    if !reason_oom && line.is_none() && !exit137 && above.is_none() && grown.is_none() {
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
    if let Some(g) = grown.as_ref().filter(|_| line.is_none() && !reason_oom) {
        evidence.push(format!(
            "exit code 137 (SIGKILL) beside memory said to grow: \"{g}\""
        ));
    }
    if let Some(u) = &above {
        evidence.push(format!(
            "the report puts the app's memory at {} against a limit of {}: {}",
            u.used_text,
            u.limit_text,
            quote(&u.line)
        ));
    }
    let how_often = f
        .restarts
        .filter(|n| *n > 0)
        .map(|n| format!(", {n} restarts so far"))
        .unwrap_or_default();
    if let Some(n) = f.restarts.filter(|n| *n > 0) {
        evidence.push(format!("restartCount: {n}"));
    }
    let limit = f
        .mem_limit
        .as_deref()
        .and_then(bytes)
        .or(above.as_ref().map(|a| a.limit));
    let request = f.mem_request.as_deref().and_then(bytes);
    if let Some(l) = &f.mem_limit {
        evidence.push(format!(
            "memory limit {l}, request {}",
            f.mem_request
                .as_deref()
                .unwrap_or("not set (defaults to the limit)")
        ));
    }
    let origins = memory_origins(incident, snapshot, c);
    let limit_origin = origins
        .iter()
        .find(|o| o.kind == "limits" && o.resource == "memory");
    evidence.extend(origins.iter().map(ValueOrigin::sentence));
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
                limit_origin.map(origin_clause).unwrap_or_default(),
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
    if let Some(o) = limit_origin {
        remediation.extend(origin_fixes(o, limit, request, snapshot, t));
    }
    remediation.push(remedy::previous_logs(t, c));
    let confidence = if reason_oom || line.is_some_and(|l| l.to_lowercase().contains("oomkilled")) {
        0.93
    } else if line.is_some() {
        0.85
    } else if grown.is_some() && !exit137 {
        0.75
    } else if above.is_some() && !exit137 {
        0.65
    } else {
        0.6
    };
    let mut found = Found::of(
        Class::RUNTIME_OOM_KILLED,
        confidence,
        summary,
        remediation,
        c,
        evidence,
    );
    if !origins.is_empty() {
        found.diagnosis.details = serde_json::json!({ "provenance": origins });
    }
    Some(found)
}

/// Where the container's memory request and limit came from, when not from the manifest
/// as written: a LimitRange default or a change at admission ([`provenance`]).
fn memory_origins(
    incident: &Incident,
    snapshot: &ClusterSnapshot,
    container: Option<&str>,
) -> Vec<ValueOrigin> {
    let Some(pod) = incident.pod.as_deref() else {
        return Vec::new();
    };
    let manifest = provenance::manifest_spec(pod, incident.job.as_deref());
    let first = pod
        .spec
        .as_ref()
        .and_then(|s| s.containers.first())
        .map(|c| c.name.as_str());
    let Some(name) = container.or(first) else {
        return Vec::new();
    };
    provenance::resource_origins(pod, manifest.as_ref(), &snapshot.limit_ranges)
        .into_iter()
        .filter(|o| o.container == name && o.resource == "memory")
        .collect()
}

/// The summary's clause on where the limit came from.
fn origin_clause(o: &ValueOrigin) -> String {
    match &o.source {
        Source::LimitRangeDefault {
            limit_range: Some(lr),
        } => format!(
            " (set by the namespace's LimitRange default, LimitRange `{lr}`: the manifest sets none)"
        ),
        Source::LimitRangeDefault { limit_range: None } => {
            " (set by the namespace's LimitRange default: the manifest sets none)".to_owned()
        }
        Source::Admission { manifest: Some(m) } => {
            format!(" (changed at admission: the manifest says {m})")
        }
        Source::Admission { manifest: None } => {
            " (added at admission: the manifest sets none)".to_owned()
        }
        Source::QuotaRequires { .. } => String::new(),
    }
}

/// The fixes that follow from where the limit came from: for a LimitRange default, the
/// manifest (the first step already sets it there) or the default itself; for a change at
/// admission, the webhook or policy that made it.
fn origin_fixes(
    o: &ValueOrigin,
    limit: Option<u64>,
    request: Option<u64>,
    snapshot: &ClusterSnapshot,
    t: &Target,
) -> Vec<lastmile_events::Remediation> {
    let new = limit.map(|l| human(new_limit(l, request)));
    match &o.source {
        Source::LimitRangeDefault { limit_range } => {
            let mut fixes = vec![remedy::advice(
                "The limit came from the namespace's LimitRange default: setting resources.limits.memory in the manifest (the step above) stops the default from applying to this workload.",
            )];
            let patch = limit_range
                .as_deref()
                .zip(new.as_deref())
                .and_then(|(lr, new)| remedy::limit_range_default(t, snapshot, lr, "memory", new));
            fixes.push(match patch {
                Some(step) => step,
                None => remedy::advice(format!(
                    "Or raise the default in {} (every container of the namespace that sets no memory limit gets it).",
                    limit_range.as_deref().map_or("the namespace's LimitRange".to_owned(), |lr| format!("LimitRange {lr}"))
                )),
            });
            fixes
        }
        Source::Admission { .. } => vec![remedy::step(
            "The limit was changed at admission, not by a LimitRange: find the mutating webhook or policy that sets it, or a raised limit in the manifest may be overridden again.",
            "kubectl get mutatingwebhookconfigurations",
        )],
        Source::QuotaRequires { .. } => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
