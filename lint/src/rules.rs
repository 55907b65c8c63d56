//! The rules that read one workload alone: unbounded waits, privileged init containers,
//! registries outside the allowlist, Job deadlines and TTLs.

use std::sync::LazyLock;

use lastmile_events::facts::waits::{Dependency, waited_on};
use regex::Regex;

use crate::workload::{Container, Workload};
use crate::{Config, Finding};

/// Every per-workload finding of `w`.
pub(crate) fn check(w: &Workload<'_>, config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in w.init_containers() {
        if !c.sidecar {
            unbounded_wait(w, &c, &mut out);
        }
        if c.privileged {
            out.push(Finding::about(
                "init.privileged",
                w,
                Some(c.name),
                format!("init container `{}` of {} runs privileged", c.name, w.key()),
                Some(
                    "drop `securityContext.privileged`; grant only the capabilities it needs"
                        .into(),
                ),
            ));
        }
        if !config.allowed_registries.is_empty() && !allowed(c.image, &config.allowed_registries) {
            out.push(Finding::about(
                "init.registry",
                w,
                Some(c.name),
                format!(
                    "init container `{}` of {} pulls `{}` from {}, which is not an allowed registry ({})",
                    c.name,
                    w.key(),
                    c.image,
                    registry_of(c.image),
                    config.allowed_registries.join(", ")
                ),
                Some("mirror the image into an allowed registry and reference it there".into()),
            ));
        }
    }
    if let Some(spec) = w.job_spec {
        if !spec["activeDeadlineSeconds"].is_number() {
            out.push(Finding::about(
                "job.no_deadline",
                w,
                None,
                format!(
                    "{} has no activeDeadlineSeconds: a hung run is never stopped",
                    w.key()
                ),
                Some(
                    "set spec.activeDeadlineSeconds to a bound above its longest normal run".into(),
                ),
            ));
        }
        let helm_deletes =
            w.manifest.value["metadata"]["annotations"]["helm.sh/hook-delete-policy"].is_string();
        if w.manifest.kind() == "Job"
            && !spec["ttlSecondsAfterFinished"].is_number()
            && !helm_deletes
        {
            out.push(Finding::about(
                "job.no_ttl",
                w,
                None,
                format!(
                    "{} has no ttlSecondsAfterFinished: it and its pods stay after it finishes",
                    w.key()
                ),
                Some("set spec.ttlSecondsAfterFinished (e.g. 3600)".into()),
            ));
        }
    }
    out
}

/// The dependencies an init container's command waits for (probes, not log phrases).
pub(crate) fn waits(c: &Container<'_>) -> Vec<Dependency> {
    waited_on(&c.command_line)
        .into_iter()
        .filter(|d| d.how != "log")
        .collect()
}

fn unbounded_wait(w: &Workload<'_>, c: &Container<'_>, out: &mut Vec<Finding>) {
    let deps = waits(c);
    let Some(first) = deps.first() else { return };
    if w.pod_deadline() || bounded(&c.command_line, &deps) {
        return;
    }
    let what: Vec<String> = deps.iter().map(describe).collect();
    out.push(Finding::about(
        "init.unbounded_wait",
        w,
        Some(c.name),
        format!(
            "init container `{}` of {} waits for {} with no deadline (`{}`): if it never answers, the pod stays in Init and nothing says why",
            c.name,
            w.key(),
            what.join(", "),
            c.command_line
        ),
        Some(format!(
            "use `lastmile-wait {} --timeout 2m` (it writes what it waited for to the termination log), wrap the loop in `timeout 120`, or set spec.activeDeadlineSeconds",
            target_url(first)
        )),
    ));
}

/// `db:5432`, `Job shop/migrate`.
pub(crate) fn describe(d: &Dependency) -> String {
    match (d.object, d.port) {
        (Some(kind), _) => format!("{kind} {}", d.target),
        (None, Some(port)) => format!("{}:{port}", d.target),
        (None, None) => d.target.clone(),
    }
}

fn target_url(d: &Dependency) -> String {
    match (d.object, d.port, d.how) {
        (Some(_), _, _) => format!("job:{}", d.target),
        (None, Some(port), "http") => format!("http://{}:{port}/", d.target),
        (None, None, "http") => format!("http://{}/", d.target),
        (None, Some(port), _) => format!("tcp://{}:{port}", d.target),
        (None, None, _) => format!("dns:{}", d.target),
    }
}

/// A `timeout` wrapper with a numeric duration.
static TIMEOUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s;&|(])timeout\s+(?:-\S+\s+)*\d").expect("timeout-wrapper regex")
});
/// A counted loop (`seq`, brace ranges, numeric comparisons, arithmetic).
static COUNTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bseq\b|\{\d+\.\.\d+\}|\s-(?:ge|gt|lt|le|eq)\s|\$\(\(|\blet\b")
        .expect("counted-loop regex")
});
/// A shell `until`/`while` loop.
static LOOP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:until|while)\b").expect("shell-loop regex"));
/// wait-for-it told to wait forever (`-t 0` / `--timeout 0`).
static WAIT_FOR_IT_FOREVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:-t\s*0\b|--timeout[=\s]0\b)").expect("wait-for-it zero-timeout regex")
});

/// True when the command bounds its own wait: `lastmile-wait` (always has a deadline), a
/// `timeout` wrapper, wait-for-it with a non-zero timeout (its default is 15 s), a counted
/// loop, or a single probe with no loop at all (it fails and the kubelet restarts it, which
/// shows as a crash loop rather than a silent hang).
fn bounded(command: &str, deps: &[Dependency]) -> bool {
    let hit = |re: &Regex| re.is_match(command);
    if deps.iter().all(|d| d.how == "lastmile-wait") || hit(&TIMEOUT) || hit(&COUNTED) {
        return true;
    }
    // Waiters that loop by themselves.
    let self_looping = deps.iter().any(|d| d.how == "k8s-wait-for")
        || deps.iter().any(|d| d.how == "wait-for-it") && hit(&WAIT_FOR_IT_FOREVER);
    !(self_looping || hit(&LOOP))
}

/// The registry host of an image reference (`docker.io` when none is written).
pub(crate) fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// True when `image` is under one of `allowed` (a registry host, or a host/path prefix).
fn allowed(image: &str, allowed: &[String]) -> bool {
    let registry = registry_of(image);
    let full = if registry == "docker.io" && !image.starts_with("docker.io/") {
        format!("docker.io/{image}")
    } else {
        image.to_owned()
    };
    allowed.iter().any(|a| {
        let a = a.trim_end_matches('/');
        registry == a
            || full
                .strip_prefix(a)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

#[cfg(test)]
mod regex_tests {
    use super::*;

    #[test]
    fn builds_every_regex() {
        for re in [&TIMEOUT, &COUNTED, &LOOP, &WAIT_FOR_IT_FOREVER] {
            LazyLock::force(re);
        }
    }
}
