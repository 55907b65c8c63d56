//! Init-container rules: crash loops and failed steps, dependency waits, deadlocks, RBAC
//! and image problems of init containers, as pasted text tells them.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Incident};
use regex::Regex;

use super::{matches, quote, re, told};
use crate::deps::{answered, unresolved, waited_on};
use crate::{diagnosis, remedy};

mod loops;
mod mesh;

use loops::{init_section, wait_loop};

/// An init container or the pod's init phase named: an `Init:N/M` status, `PodInitializing`,
/// the kubelet's field path, or pods said to be stuck / stay / hang in init ("stucked in init
/// state", "remain in Initializing"), a chart's camel-case init container ("the
/// initChownData container"), or the Chinese docs' name for init containers (初始化容器,
/// Init 容器).
static INIT_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\bInit:\d+/\d+|\b(?-i:Init) \d+/\d+\b|\bPodInitializing\b|ContainersNotInitialized|containers with incomplete status|\b(?:stuck\w*|stay\w*|remain\w*|hang\w*|hung|sit\w*|sat)\s+(?:in|at)\s+(?:the\s+|an?\s+|their\s+)?[`'\x22]?(?:init|initializing)\b|\binit(?:ialization)?(?:[- ](?:sidecar|step|phase))?[- ]containers?\b|spec\.initContainers\{{|\binitContainers?\b|\binitContainerStatuses\b|{}",
        lastmile_events::told::INIT_CONTAINER_OTHERWISE
    ))
});
static INIT_CRASH: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\bInit:(?:CrashLoopBackOff|Error|ExitCode:\d+|Signal:\d+|OOMKilled)\b")
});
/// A non-zero exit told in words or fields: `Exit Code: 1`, `exitCode: 127`, `exits with
/// exit code 1`, `exit non-zero`, `1012 restarts`.
static NONZERO_EXIT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bexit ?code:?\s*(?:of\s+)?[1-9]\d*|\bexit(?:s|ed)?\s+(?:with\s+)?(?:exit\s+)?(?:code|status)\s+[1-9]|\bexit(?:s|ed)?\s+with\s+(?:an?\s+)?[1-9]\d*\b|\breturn(?:s|ed)?\s+(?:an?\s+)?non-?\s*zero\b|\bexit(?:s|ed|ing)?\s+non-?\s*zero|\b\d{2,}\s+restarts\b",
    )
});
/// A tool's own failure line in a container's output: git's `fatal: not a git
/// repository` (or a clone's auth failure quoted inside another tool's line, as git-sync
/// logs it, and git-sync's `too many failures, aborting`), `error: ...`, a shell's `command not found`, a Python traceback, a coreutils/busybox usage error (`chown: missing operand`, `Try 'cp --help'`). The
/// container's command failed (and exits), it is not waiting.
static FAILED_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^\s*(?:fatal|error|panic):\s+\S|: command not found\s*$|^\s*Traceback \(most recent call last\):|\bfatal: (?:could not read (?:Username|Password)|repository '[^'\n]*' not found|Authentication failed)|\bPermission denied \(publickey\)|\btoo many failures, aborting\b|^\s*[\w.-]+: (?:missing (?:file |destination file )?operand|extra operand|invalid option|unrecognized option|option requires an argument)\b|^\s*Try '[\w.-]+ --help' for more information",
    )
});
/// One line of a wait loop's log: a dependency that does not answer yet.
static WAIT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bwaiting for\b|\bno response\b|\bconnection refused\b|\bnot (?:yet )?(?:ready|available|reachable)\b|\bretrying in\b|\bsleeping\b|\btimed? ?out\b|(?:\bnot|n't)(?:\s+[\w'-]+){1,4}?\s+yet\b",
    )
});
/// A file-system step that failed for lack of rights: the volume-permissions init container
/// kind (`chown: changing ownership of '/data': Permission denied`).
static DENIED_STEP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:chown|chmod|chgrp|mkdir|cp|mv|ln|touch|rm|install|setfacl)\b: [^\n]*?(?:Permission denied|Operation not permitted|Read-only file system)",
    )
});
/// A container whose command only fixes ownership or modes (`Command: chown -R 1000:1000
/// /data`, `sh -c 'chmod 777 /data'`): the volume-permissions init container pattern.
static PERMISSION_FIXER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?im)^\s*Command:\s*\n(?:\s*\n)?\s*(?:chown|chmod|chgrp)\b|\b(?:sh|bash)\s+-c\s+['"]?(?:chown|chmod|chgrp)\b"#,
    )
});
/// A container's own name: the heading of its describe block, or `kubectl logs POD -c NAME`.
static CONTAINER_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^\s*([a-z0-9][-a-z0-9.]*):\s*\n\s+Container ID:|kubectl logs\s+\S+\s+-c\s+([a-z0-9][-a-z0-9.]*)",
    )
});
/// An nslookup answer: `Name: x` followed by its `Address:` line.
static RESOLVED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?m)^Name:\s+([A-Za-z0-9][-A-Za-z0-9_.]*)\s*\n\s*Address(?:\s+\d+)?:\s+\S+")
});
static BACKOFF_RESTART: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)back-off (?:\S+ )?restarting failed container(?:=| )?(\S*)"));
static RESTARTS: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^\s*Restart Count:\s*(\d+)"));
static INIT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(r"spec\.initContainers\{([^}]+)\}|(?m)^Init Containers:\s*\n\s+([A-Za-z0-9][-A-Za-z0-9.]*):")
});
static RBAC_READ: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"system:serviceaccount:(?P<ns>[a-z0-9][-a-z0-9]*):(?P<sa>[a-z0-9][-a-z0-9.]*)"?\s+cannot\s+(?P<verb>get|list|watch)\s+resource\s+"?(?P<resource>[a-z0-9.]+)"?"#,
    )
});
static IMAGE_PULL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"ErrImagePull|ImagePullBackOff|InvalidImageName|ErrImageNeverPull|Failed to pull image")
});
/// A Job or CronJob manifest (`kind: CronJob`, `"kind": "Job"`).
static JOB_MANIFEST: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?m)^\s*"?kind"?:\s*"?(?:Cron)?Job\b"#));
static DEADLOCK: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)deadlock|wait(?:ing)? (?:on|for) each other|circular (?:dependency|wait)")
});

/// Every pattern of this module, for the test that builds them all.
#[cfg(test)]
pub(super) fn patterns() -> Vec<&'static LazyLock<Regex>> {
    vec![
        &INIT_MARKER,
        &INIT_CRASH,
        &NONZERO_EXIT,
        &WAIT_LINE,
        &BACKOFF_RESTART,
        &RESTARTS,
        &INIT_NAME,
        &RBAC_READ,
        &IMAGE_PULL,
        &DEADLOCK,
        &JOB_MANIFEST,
        &DENIED_STEP,
        &PERMISSION_FIXER,
        &FAILED_COMMAND,
        &CONTAINER_NAME,
        &RESOLVED,
        &loops::LOG_TIMESTAMP,
        &loops::DEPLOYER_LINE,
    ]
    .into_iter()
    .chain(mesh::patterns())
    .collect()
}

fn init_container_name(text: &str) -> Option<String> {
    let caps = INIT_NAME.captures(text)?;
    caps.get(1)
        .or_else(|| caps.get(2))
        .map(|m| m.as_str().to_owned())
}

pub(super) fn init_rules(incident: &Incident, text: &str) -> Vec<Diagnosis> {
    let named = told::named_init(text);
    let marker = matches(&INIT_MARKER, text) || named.is_some();
    let container = init_container_name(text).or_else(|| named.clone());
    let subject = crate::subject(incident, container.as_deref());
    let name = container
        .clone()
        .unwrap_or_else(|| "<init-container>".into());
    let mut out = Vec::new();

    // Pods waiting on the work of a Job that never ran (a migrations Job, a hook that was
    // not triggered): the wait cannot end, whatever the waiting container does meanwhile.
    if let Some(q) = told::awaited_job_never_ran(text, marker) {
        out.push(diagnosis(
            Class::InitBlocked,
            0.8,
            format!("The pods wait for the work of a Job that never ran ({q}): the wait (an init container such as `wait-for-migrations`, or the app's own check) can never pass, so the pods stay in Init or time out and restart. Make the Job run: a Helm hook Job is skipped by `helm template`, `--no-hooks` and GitOps tools that ignore hooks."),
            subject.clone(),
            vec![q],
            vec![remedy::awaited_jobs(&subject), remedy::init_logs(&subject, &name, false)],
            false,
        ));
        return out;
    }

    // An init container that keeps retrying a login the server refuses (403/401): it does
    // not exit, it waits for credentials or a role binding that never comes.
    if marker && let Some(q) = told::auth_refused_again(text) {
        out.push(diagnosis(
            Class::InitBlocked,
            0.8,
            format!("Init container `{name}` keeps retrying a login that the server refuses ({q}), so the pod stays in Init until it is let in: the identity it presents is not (yet) allowed. Check the server's role for it (bound service account names and namespaces, token audience, the auth backend's token reviewer) and the server's audit log."),
            subject.clone(),
            vec![q],
            vec![remedy::init_logs(&subject, &name, false)],
            false,
        ));
        return out;
    }

    // An injected init container (a mesh's proxy-init, an injector's registration init)
    // failing its packet-filter step, or retrying a call its control plane refuses.
    if let Some(q) = mesh::rules_step_failed(text, marker) {
        out.push(diagnosis(
            Class::InitCrashloop,
            0.8,
            format!("The injected traffic-redirection init container (`{name}`) fails its iptables/nft step and is restarted, so the pod never leaves Init ({q}): chains left from an earlier run of the init (the init re-run on a live pod), a missing NET_ADMIN/NET_RAW capability, or an iptables-legacy/nft mismatch with the node."),
            subject.clone(),
            vec![q],
            vec![remedy::init_logs(&subject, &name, true)],
            false,
        ));
        return out;
    }
    // An installer's file step failing (`cp: cannot create regular file …: Text file
    // busy`): the init container exits and is restarted; a process it copies over may be
    // waiting, but the pod is held by the failing copy.
    if let Some(q) = told::file_step_failed(text, marker) {
        out.push(diagnosis(
            Class::InitCrashloop,
            0.85,
            format!("Init container `{name}` fails a file step ({q}) and is restarted, so the pod never leaves Init: a binary busy on the host (`Text file busy`: replace it by copying to a temporary name and renaming), a read-only or missing host path, or permissions."),
            subject.clone(),
            vec![q],
            vec![remedy::init_logs(&subject, &name, true)],
            false,
        ));
        return out;
    }
    if let Some(q) = mesh::injected_retrying(text) {
        out.push(diagnosis(
            Class::InitBlocked,
            0.75,
            format!("The injected init container (`{name}`) keeps retrying a call its control plane refuses or does not answer yet ({q}), so the pod stays in Init: its token or ACL/role is rejected, or its service is never registered. Check the injector's auth method and the role bound to the pod's service account."),
            subject.clone(),
            vec![q],
            vec![remedy::init_logs(&subject, &name, false)],
            false,
        ));
        return out;
    }

    // Crash-looping init container.
    let restarts = RESTARTS
        .captures_iter(text)
        .filter_map(|c| c.get(1)?.as_str().parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    let describe_crash = text.contains("Init Containers:")
        && (text.contains("CrashLoopBackOff") || (restarts >= 3 && text.contains("Last State:")));
    let backoff_on_init = matches(&BACKOFF_RESTART, text)
        && (text.contains("spec.initContainers{") || matches(&INIT_MARKER, text));
    let exit_told = marker && NONZERO_EXIT.is_match(init_section(text));
    if matches(&INIT_CRASH, text) || describe_crash || backoff_on_init || exit_told {
        let mut evidence: Vec<String> = [
            quote(text, &INIT_CRASH),
            quote(text, &BACKOFF_RESTART),
            quote(init_section(text), &NONZERO_EXIT),
        ]
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

    // The volume-permissions init container that may not change the volume: a chown/chmod
    // step denied, or a container running only chown/chmod that keeps failing.
    let fixer = matches(&PERMISSION_FIXER, text);
    let fixer_failing = fixer && (text.contains("CrashLoopBackOff") || NONZERO_EXIT.is_match(text));
    let refused = told::ownership_refused(text);
    let denied = (marker || fixer) && (matches(&DENIED_STEP, text) || refused.is_some());
    if out.is_empty() && (denied || fixer_failing) {
        let name = container.clone().or_else(|| {
            CONTAINER_NAME
                .captures(text)
                .and_then(|c| c.get(1).or_else(|| c.get(2)))
                .map(|m| m.as_str().to_owned())
        });
        let name = name.unwrap_or_else(|| "<init-container>".into());
        let evidence: Vec<String> = [
            quote(text, &DENIED_STEP).or(refused),
            quote(text, &PERMISSION_FIXER),
            quote(text, &NONZERO_EXIT),
        ]
        .into_iter()
        .flatten()
        .collect();
        out.push(diagnosis(
            Class::InitCrashloop,
            0.8,
            format!("Init container `{name}` fails changing the ownership or mode of a volume: it runs as a non-root user (a securityContext or policy forbids root), or the volume does not allow chown, so it exits and the pod never leaves Init. Run that step as root (runAsUser: 0), or drop it and set the pod's fsGroup."),
            subject.clone(),
            evidence,
            vec![remedy::init_logs(&subject, &name, true)],
            true,
        ));
    }

    // A kernel-setting step (sysctl -w, ulimit, swapoff) denied: the privileged-init pattern
    // of search engines and databases, run without the privilege it needs.
    if out.is_empty()
        && marker
        && !told::main_kernel_check_failed(text)
        && let Some(q) = told::kernel_step_denied(text)
    {
        out.push(diagnosis(
            Class::InitCrashloop,
            0.8,
            format!("Init container `{name}` sets a kernel parameter (sysctl -w vm.max_map_count, ulimit, swapoff) and is denied ({q}): /proc/sys is read-only to an unprivileged container, so it exits and the pod never leaves Init. Run that init container privileged (securityContext.privileged: true), set the parameter on the nodes instead, or turn the chart's sysctl step off."),
            subject.clone(),
            vec![q],
            vec![remedy::init_logs(&subject, &name, true)],
            true,
        ));
    }

    // A crash of the init container told in words ("Init Crash Loop Back-off", "the
    // wait-for-db container continues to restart", "vault-agent-init failed with ...").
    if out.is_empty()
        && let Some(q) = told::crash_told(text, &INIT_MARKER, named.as_deref())
            .or_else(|| told::failed_into_error(text, marker))
    {
        out.push(diagnosis(
            Class::InitCrashloop,
            0.8,
            format!("Init container `{name}` is said to fail and restart ({q}), so the pod never leaves Init; its previous logs say why it exits."),
            subject.clone(),
            vec![q],
            vec![remedy::init_logs(&subject, &name, true)],
            false,
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

    // A waiter that may not read what it polls (k8s-wait-for and friends): it waits while
    // it retries, and crash-loops where it exits on the Forbidden error. Without an init
    // container in sight, beside a Job shown or told to have failed, the Job's own script
    // was refused the read (its pod ran and failed): the Job's failure, not a wait.
    // Nothing marks an init container and a Job is shown or told to have failed: what the
    // text shows waiting or refused is the Job's own script.
    let jobs_failure = !marker && super::job::job_failed_shown_or_told(text);
    if !jobs_failure && let Some(caps) = RBAC_READ.captures(text) {
        let group = |name: &str| caps.name(name).map_or("", |m| m.as_str());
        let (ns, sa, resource) = (group("ns"), group("sa"), group("resource"));
        let resource = resource.split('.').next().unwrap_or(resource);
        let (class, summary) = if told::exits_on_error(text) {
            (
                Class::InitCrashloop,
                format!(
                    "Service account `{ns}:{sa}` may not read {resource}, so the container that polls the API for them (a wait-for init container) exits on the Forbidden error and is restarted, and the pod never leaves Init."
                ),
            )
        } else {
            (
                Class::InitBlocked,
                format!(
                    "Service account `{ns}:{sa}` may not read {resource}, so the container that polls the API for them (a wait-for init container) can never see its dependency ready."
                ),
            )
        };
        // Getting one Job is what a wait-for-a-Job poller does (k8s-wait-for's `job` mode
        // reads the named Job): refused that, with no failed Job in sight (ruled out above),
        // the waiter is the reading as surely as with an init container named. Listing Jobs
        // is also what cleaners do (a GC CronJob), so that stays a finding without conviction.
        let polls_jobs = resource == "jobs" && group("verb") == "get";
        out.push(diagnosis(
            class,
            if marker || polls_jobs { 0.85 } else { 0.75 },
            summary,
            subject.clone(),
            quote(text, &RBAC_READ).into_iter().collect(),
            vec![remedy::grant_read(ns, sa, resource)],
            true,
        ));
        return out;
    }

    // An init container whose own command fails (a `fatal:` / `error:` line, a
    // traceback), with no wait or dependency in sight (or only ones that answered): it
    // exits, it does not wait. The text names the init container, so this outranks a
    // reading of the same error line as a main container's crash.
    if out.is_empty()
        && marker
        && !matches(&IMAGE_PULL, text)
        && waited_on(text).iter().all(|d| answered(text, &d.target))
        && unresolved(text).is_none()
        && wait_loop(text).is_none()
        && let Some(q) = quote(text, &FAILED_COMMAND).filter(|q| !WAIT_LINE.is_match(q))
    {
        out.push(diagnosis(
            Class::InitCrashloop,
            if told::trouble_elsewhere(text) { 0.6 } else { 0.8 },
            format!("Init container `{name}` runs its command and it fails ({q}), so the container exits non-zero and the pod never leaves Init; fix the step (its arguments, working directory, or the files it expects)."),
            subject.clone(),
            vec![q],
            vec![remedy::init_logs(&subject, &name, true)],
            false,
        ));
        return out;
    }

    // Waiting on a dependency that never comes. An image that cannot be pulled also keeps
    // a pod in Init, but that is the image-pull function's finding, not a dependency wait.
    if matches(&IMAGE_PULL, text) {
        return out;
    }
    // A dependency the log says answered ("Received 200 from …") held nothing.
    let deps: Vec<_> = waited_on(text)
        .into_iter()
        .filter(|d| marker || d.how != "log")
        .filter(|d| !answered(text, &d.target))
        .collect();
    let unresolved = unresolved(text);
    // A probe in a Job's own command (`curl http://svc` in a CronJob's container) is the
    // Job's work, not an init container's wait, when nothing marks an init container.
    let job_command = !marker && JOB_MANIFEST.is_match(text);
    let looping = !job_command && deps.iter().any(|d| d.how != "log");
    let log_loop = wait_loop(text);
    // A resolver failure beside a "waiting for" line is the loop of a DNS wait.
    let dns_wait = unresolved.is_some() && text.lines().any(|l| WAIT_LINE.is_match(l));
    // A wait told in words beside an init container ("keeps waiting to connect to a database").
    let told_wait = if marker { told::wait_told(text) } else { None };
    // A wait loop in the log of a failed Job, with nothing marking an init container, is
    // the Job's own script waiting (and failing): the Job's finding.
    if !jobs_failure
        && (marker
            || looping
            || log_loop.is_some()
            || (unresolved.is_some() && !deps.is_empty())
            || dns_wait)
    {
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
        if let Some(line) = &log_loop {
            evidence.push(format!("the log repeats: \"{line}\""));
        }
        evidence.extend(told_wait.clone());
        let confidence = match (marker, !deps.is_empty() || unresolved.is_some()) {
            (true, true) => 0.8,
            (true, false) if log_loop.is_some() || told_wait.is_some() => 0.75,
            (true, false) => 0.65,
            _ => 0.6,
        };
        // nslookup printed an answer too: the NXDOMAINs are search-domain expansions, and
        // a check that fails on any of them (newer busybox nslookup) never passes.
        let answered = RESOLVED
            .captures(text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned());
        if let Some(name) = &answered {
            evidence.push(format!(
                "`{name}` did resolve (nslookup printed its Address)"
            ));
        }
        let summary = match (deps.first(), &unresolved) {
            (_, Some(host)) if answered.is_some() => format!("An init container's DNS check keeps failing although the Service resolves (`{}`): the NXDOMAIN answers (`{host}`) are search-domain expansions, and an nslookup that exits non-zero on any of them (newer busybox) never lets the wait loop end, so the pod stays in Init. Check the fully qualified name with a trailing dot, or probe the port instead.", answered.as_deref().unwrap_or_default()),
            (_, Some(host)) => format!("An init container waits for `{host}`, which does not resolve, so the pod stays in Init."),
            (Some(d), None) => format!("An init container waits for `{}`, which never becomes available, so the pod stays in Init.", d.target),
            (None, None) => match &log_loop {
                Some(line) => format!("A container keeps polling a dependency that never answers (`{line}`), the loop of an init container's wait, so the pod stays in Init."),
                None if told_wait.is_some() => "An init container keeps waiting on a dependency that never passes its check, so the pod stays in Init: check that the dependency is reachable under the name the check uses, and that the check itself can pass (its client, such as mysql or pg_isready, exists in the image; credentials and port are right).".into(),
                None => "The pod stays in Init: an init container has not finished; its logs say what it waits for.".into(),
            },
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
