//! Message-level rules: what a pasted `kubectl describe`, event table or log says about
//! init containers and Jobs when the objects themselves are not available.
//!
//! Rules key on Kubernetes' own stable tokens (`Init:0/1`, `PodInitializing`,
//! `BackoffLimitExceeded`, `Job was active longer than specified deadline`) and on the
//! shapes of dependency waits, never on one report's wording.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Incident};
use regex::Regex;

use crate::deps::{unresolved, waited_on};
use crate::{diagnosis, remedy};

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

static INIT_MARKER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\bInit:\d+/\d+|\bPodInitializing\b|ContainersNotInitialized|containers with incomplete status|stuck in init|\binit containers?\b|spec\.initContainers\{|\binitContainers?\b",
    )
});
static INIT_CRASH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"(?i)\bInit:(?:CrashLoopBackOff|Error|ExitCode:\d+|Signal:\d+|OOMKilled)\b")
});
static BACKOFF_RESTART: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"(?i)back-off (?:\S+ )?restarting failed container(?:=| )?(\S*)"));
static RESTARTS: LazyLock<Option<Regex>> = LazyLock::new(|| re(r"(?m)^\s*Restart Count:\s*(\d+)"));
static INIT_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"spec\.initContainers\{([^}]+)\}|(?m)^Init Containers:\s*\n\s+([A-Za-z0-9][-A-Za-z0-9.]*):")
});
static RBAC_READ: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r#"system:serviceaccount:([a-z0-9][-a-z0-9]*):([a-z0-9][-a-z0-9.]*)"?\s+cannot\s+(?:get|list|watch)\s+resource\s+"?([a-z0-9.]+)"?"#,
    )
});
static IMAGE_PULL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull|Failed to pull image")
});
static DEADLOCK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"(?i)deadlock|wait(?:ing)? (?:on|for) each other|circular (?:dependency|wait)")
});
static JOB_DEADLINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)(code\s*=\s*|context\s+)?\bDeadlineExceeded\b|active longer than (?:the )?specified deadline|activeDeadlineSeconds",
    )
});
static JOB_BACKOFF: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)BackoffLimitExceeded|reached the specified backoff limit|backoff ?limit (?:exceeded|reached)",
    )
});
static JOB_POLICY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\bPodFailurePolicy\b|matching FailJob rule|exceeded the specified maximal number of failed indexes|Job has failed indexes",
    )
});
static JOB_FAILED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(r"(?i)\b(?:hook\s+)?job\s+(?:\S+\s+)?(?:has\s+)?failed\b|\bfailed\s+(?:hook\s+)?job\b")
});
static JOB_STUCK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\bjob\b[^\n]{0,40}\b(?:stuck|hangs?|hung|never (?:completes?|finishes?)|still running)",
    )
});

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// The incident's text and its events' reasons, field paths and messages, as one text.
fn corpus(incident: &Incident) -> String {
    let mut text = incident.text.clone().unwrap_or_default();
    for e in &incident.events {
        text.push('\n');
        text.push_str(&format!(
            "{} {} {} {}",
            e.ty,
            e.reason,
            e.regarding.field_path.as_deref().unwrap_or(""),
            e.clean_message()
        ));
    }
    text
}

/// Every message-level finding, at most one per class.
pub(crate) fn diagnose(incident: &Incident) -> Vec<Diagnosis> {
    let text = corpus(incident);
    if text.trim().is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    out.extend(init_rules(incident, &text));
    out.extend(job_rules(incident, &text));
    out
}

fn quote(text: &str, re: &LazyLock<Option<Regex>>) -> Option<String> {
    let m = re.as_ref()?.find(text)?;
    let start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let end = text[m.end()..]
        .find('\n')
        .map_or(text.len(), |i| m.end() + i);
    Some(format!("\"{}\"", text[start..end].trim()))
}

fn init_container_name(text: &str) -> Option<String> {
    let caps = INIT_NAME.as_ref()?.captures(text)?;
    caps.get(1)
        .or_else(|| caps.get(2))
        .map(|m| m.as_str().to_owned())
}

fn init_rules(incident: &Incident, text: &str) -> Vec<Diagnosis> {
    let marker = matches(&INIT_MARKER, text);
    let container = init_container_name(text);
    let subject = crate::subject(incident, container.as_deref());
    let name = container
        .clone()
        .unwrap_or_else(|| "<init-container>".into());
    let mut out = Vec::new();

    // Crash-looping init container.
    let restarts = RESTARTS
        .as_ref()
        .map(|r| {
            r.captures_iter(text)
                .filter_map(|c| c.get(1)?.as_str().parse::<u32>().ok())
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let describe_crash = text.contains("Init Containers:")
        && (text.contains("CrashLoopBackOff") || (restarts >= 3 && text.contains("Last State:")));
    let backoff_on_init = matches(&BACKOFF_RESTART, text)
        && (text.contains("spec.initContainers{") || matches(&INIT_MARKER, text));
    if matches(&INIT_CRASH, text) || describe_crash || backoff_on_init {
        let mut evidence: Vec<String> = [quote(text, &INIT_CRASH), quote(text, &BACKOFF_RESTART)]
            .into_iter()
            .flatten()
            .collect();
        if restarts > 0 {
            evidence.push(format!("Restart Count: {restarts}"));
        }
        out.push(diagnosis(
            Class::InitCrashloop,
            0.8,
            format!("Init container `{name}` fails repeatedly, so the pod never leaves Init; its previous logs say why."),
            subject.clone(),
            evidence,
            vec![remedy::init_logs(&subject, &name, true)],
            restarts >= 3,
        ));
    }

    // Two or more pods waiting on each other.
    if marker && matches(&DEADLOCK, text) {
        out.push(diagnosis(
            Class::InitDeadlock,
            0.6,
            "Init containers of several pods appear to wait on each other; none can finish until one side stops waiting.".into(),
            subject.clone(),
            quote(text, &DEADLOCK).into_iter().collect(),
            vec![lastmile_events::Remediation {
                description: "Break the cycle: drop the init-container wait on one side and let that application retry instead.".into(),
                command: None,
            }],
            true,
        ));
    }

    // A waiter that may not read what it polls (k8s-wait-for and friends).
    if let Some(caps) = RBAC_READ.as_ref().and_then(|r| r.captures(text)) {
        let (ns, sa, resource) = (
            caps.get(1).map_or("", |m| m.as_str()),
            caps.get(2).map_or("", |m| m.as_str()),
            caps.get(3).map_or("", |m| m.as_str()),
        );
        let resource = resource.split('.').next().unwrap_or(resource);
        out.push(diagnosis(
            Class::InitBlocked,
            if marker { 0.85 } else { 0.75 },
            format!("Service account `{ns}:{sa}` may not read {resource}, so the container that polls the API for them (a wait-for init container) can never see its dependency ready."),
            subject.clone(),
            quote(text, &RBAC_READ).into_iter().collect(),
            vec![remedy::grant_read(ns, sa, resource)],
            true,
        ));
        return out;
    }

    // Waiting on a dependency that never comes. An image that cannot be pulled also keeps
    // a pod in Init, but that is the image-pull function's finding, not a dependency wait.
    if matches(&IMAGE_PULL, text) {
        return out;
    }
    let deps: Vec<_> = waited_on(text)
        .into_iter()
        .filter(|d| marker || d.how != "log")
        .collect();
    let unresolved = unresolved(text);
    let looping = deps.iter().any(|d| d.how != "log");
    if marker || looping || (unresolved.is_some() && !deps.is_empty()) {
        let mut evidence: Vec<String> = quote(text, &INIT_MARKER).into_iter().collect();
        evidence.extend(deps.iter().take(3).map(|d| {
            format!(
                "waits for `{}`{} ({})",
                d.target,
                d.port.map(|p| format!(" port {p}")).unwrap_or_default(),
                d.how
            )
        }));
        let mut remediation = vec![remedy::init_logs(&subject, &name, false)];
        if let Some(host) = &unresolved {
            evidence.push(format!("name does not resolve: `{host}`"));
            remediation.push(remedy::use_fqdn(host));
        }
        remediation.extend(
            deps.iter()
                .take(2)
                .map(|d| remedy::check_dependency(&subject, d)),
        );
        let confidence = match (marker, !deps.is_empty() || unresolved.is_some()) {
            (true, true) => 0.8,
            (true, false) => 0.65,
            _ => 0.6,
        };
        let summary = match (deps.first(), &unresolved) {
            (_, Some(host)) => format!("An init container waits for `{host}`, which does not resolve, so the pod stays in Init."),
            (Some(d), None) => format!("An init container waits for `{}`, which never becomes available, so the pod stays in Init.", d.target),
            (None, None) => "The pod stays in Init: an init container has not finished; its logs say what it waits for.".into(),
        };
        out.push(diagnosis(
            Class::InitBlocked,
            confidence,
            summary,
            subject,
            evidence,
            remediation,
            false,
        ));
    }
    out
}

fn deadline_mentioned(text: &str) -> Option<String> {
    let re = JOB_DEADLINE.as_ref()?;
    // A gRPC `code = DeadlineExceeded` or a `context deadline` is a timeout, not a Job.
    let hit = re.captures_iter(text).find(|c| c.get(1).is_none())?;
    let m = hit.get(0)?;
    let start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let end = text[m.end()..]
        .find('\n')
        .map_or(text.len(), |i| m.end() + i);
    Some(format!("\"{}\"", text[start..end].trim()))
}

fn job_rules(incident: &Incident, text: &str) -> Vec<Diagnosis> {
    let subject = crate::job::job_subject(incident, None);
    let mut out = Vec::new();
    if let Some(quoted) = deadline_mentioned(text) {
        let exact = text.contains("active longer than specified deadline")
            || text.contains("DeadlineExceeded");
        out.push(diagnosis(
            Class::JobDeadlineExceeded,
            if exact { 0.85 } else { 0.7 },
            "The Job ran past its activeDeadlineSeconds and was stopped (DeadlineExceeded); the deadline is too short for the work, or the pods spent it waiting.".into(),
            subject.clone(),
            vec![quoted],
            vec![
                remedy::inspect_job(&subject),
                remedy::recreate_job(&subject, "Raise `spec.activeDeadlineSeconds` to cover the real run time"),
            ],
            true,
        ));
    }
    let (backoff_quote, confidence) = if let Some(q) = quote(text, &JOB_BACKOFF) {
        (Some(q), 0.88)
    } else if let Some(q) = quote(text, &JOB_POLICY) {
        (Some(q), 0.85)
    } else if let Some(q) = quote(text, &JOB_FAILED) {
        (Some(q), 0.5)
    } else {
        (None, 0.0)
    };
    if let Some(q) = backoff_quote {
        out.push(diagnosis(
            Class::JobBackoffLimit,
            confidence,
            "The Job failed: its pods failed more times than backoffLimit allows (or a podFailurePolicy rule failed it); with backoffLimit 0 the first failure is final.".into(),
            subject.clone(),
            vec![q],
            vec![
                remedy::job_logs(&subject),
                remedy::inspect_job(&subject),
                remedy::recreate_job(&subject, "Fix the failing command (or raise `spec.backoffLimit` for flaky work)"),
            ],
            true,
        ));
    }
    if out.is_empty()
        && let Some(q) = quote(text, &JOB_STUCK)
    {
        out.push(diagnosis(
            Class::JobStuckActive,
            0.45,
            "The Job stays active without finishing; its pods are running but not completing."
                .into(),
            subject.clone(),
            vec![q],
            vec![remedy::job_logs(&subject), remedy::inspect_job(&subject)],
            false,
        ));
    }
    out
}
