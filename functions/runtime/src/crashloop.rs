//! `runtime.crashloop`: the main container keeps exiting. How it exits (exit code and its
//! meaning, signal, `Error`/`Completed`), what it printed last and the termination message,
//! and the likely cause with the line that shows it.

use std::sync::LazyLock;

use lastmile_events::{Class, told};
use regex::Regex;

use crate::facts::Facts;
use crate::remedy::{self, Target};
use crate::{Found, quote, re};

/// What an exit code means (POSIX shells and the container runtimes' conventions).
pub(crate) fn exit_meaning(code: i32) -> String {
    match code {
        0 => "exited successfully: the process finished, but a Deployment's container must keep running".into(),
        1 => "a general application error".into(),
        2 => "misuse of a shell builtin or bad arguments".into(),
        126 => "the command was found but is not executable".into(),
        127 => "command not found".into(),
        128 => "an invalid exit argument".into(),
        129..=160 => {
            let sig = code - 128;
            format!("killed by signal {sig} ({})", signal_name(sig))
        }
        255 => "exit status out of range (often exit(-1))".into(),
        _ => "an application-defined error code".into(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT: the process aborted itself",
        9 => "SIGKILL: OOM killer, a failed liveness probe or a forced stop",
        11 => "SIGSEGV: the process crashed on a bad memory access",
        15 => "SIGTERM: asked to stop",
        _ => "see `kill -l`",
    }
}

/// A likely cause recognised in the container's output.
struct Cause {
    name: &'static str,
    needles: &'static [&'static str],
    explain: &'static str,
}

/// Ordered: the first cause whose needle appears in a line wins.
const CAUSES: &[Cause] = &[
    Cause {
        name: "kernel limit too low",
        needles: &[
            "bootstrap check failure",
            "bootstrap checks failed",
            "max virtual memory areas",
            "max file descriptors",
            "max number of threads",
            "memory locking requested",
        ],
        explain: "the program checks a kernel or host limit at start (vm.max_map_count, open files, threads, memlock) and refuses to run below it; set it on the nodes (a DaemonSet or node tuning), run the sysctl init container as root and privileged (an image that no longer runs as root cannot set it), or raise the ulimit",
    },
    Cause {
        name: "port already in use",
        needles: &[
            "address already in use",
            "address in use",
            "eaddrinuse",
            "port is already allocated",
        ],
        explain: "another process (a second server in the container, or a host-network neighbour) already listens on the port the app binds",
    },
    Cause {
        name: "failed migration",
        needles: &[
            "migration failed",
            "migrations failed",
            // Prisma (P3009), Flyway: a failed migration recorded in the database blocks
            // every later start until it is resolved.
            "failed migration",
            "failed to migrate",
            "migrate: ",
            "dirty database",
            "error running migration",
            "migration error",
        ],
        explain: "the database migration the app runs at start failed, so it exits",
    },
    Cause {
        name: "missing environment variable",
        needles: &[
            "environment variable",
            " env var",
            "is not set",
            "must be set",
            "keyerror:",
            "missing required",
            "not defined in the environment",
        ],
        explain: "a required environment variable is not set in the pod template",
    },
    Cause {
        name: "missing config file",
        needles: &[
            "no such file or director",
            "not a file or does not exist",
            "config file not found",
            "could not find config",
            "cannot open config",
            "failed to load config",
            "unable to read config",
        ],
        explain: "a file the app reads at start is not where it looks (a ConfigMap/Secret not mounted there, a mount that hides the image's own files, or a subPath missing)",
    },
    Cause {
        name: "permission denied",
        needles: &[
            "permission denied",
            "eacces",
            "read-only file system",
            "operation not permitted",
        ],
        explain: "the user the container runs as (runAsUser, OpenShift's random UID) may not write where the app writes, or the volume is owned by another user",
    },
    Cause {
        name: "wrong command or arguments",
        needles: &[
            "unknown flag",
            "unknown command",
            "flag provided but not defined",
            "unrecognized option",
            "invalid option",
            "usage:",
            "unknown shorthand flag",
            "no such option",
        ],
        explain: "the command or args in the pod template are not what this image's program accepts",
    },
    Cause {
        name: "panic",
        needles: &[
            "panic:",
            "observed a panic",
            "traceback (most recent call last)",
            "exception in thread",
            "fatal error:",
            "segmentation fault",
            "uncaught exception",
            "unhandled exception",
        ],
        explain: "the program crashes at start (a bug, or input/configuration it does not handle)",
    },
    Cause {
        name: "dependency unreachable",
        needles: &[
            "connection refused",
            "could not connect",
            "no such host",
            "connection timed out",
            "failed to connect",
            // Node.js / libc errno names and connection pools giving up at start.
            "econnrefused",
            "ehostunreach",
            "etimedout",
            "no route to host",
            "pool timed out",
        ],
        explain: "a service the app needs at start (database, broker, API) does not answer",
    },
];

/// The crash-loop diagnosis, when the container keeps exiting.
/// Restarts told in words: `crash-loop`, `crashlooping`, `restarted it 3× via backoff`,
/// `keeps restarting`, or the kubelet's restart back-off paraphrased ("could not be
/// restarted (back-off)", "restart backoff", "backing off restarting it"); a back-off on
/// pulling is the image's.
static RESTARTS_SAID: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bcrash[- ]?loop(?:s|ing|ed)?\b|\brestart(?:ed|s)?\b[^.\n]{0,20}?\b\d+\s*(?:×|x|times)|\bkeeps? (?:on )?(?:restarting|crashing)\b|\brestart\w*\b[^.\n]{0,30}?\bback(?:ing)?[- ]?off\b|\bback(?:ing)?[- ]?off\b[^.\n]{0,20}?\brestart\w*",
    )
});

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    LazyLock::force(&RESTARTS_SAID);
}

/// The confidence of a failure line from a container the report shows running with no
/// restart: below what the rest of the report shows.
const UNRESTARTED: f64 = 0.5;
/// The confidence of a failure line, without restarts, in a report telling a Job failed or
/// naming the pod as a Job's: below the Job's failure even when only told (0.5), which it
/// explains.
const IN_A_FAILED_JOB: f64 = 0.45;

/// True when the container restarts, by its state or in the report's words.
fn restarting(f: &Facts) -> bool {
    f.restarting() || f.lines.iter().any(|l| RESTARTS_SAID.is_match(l))
}

pub(crate) fn diagnose(f: &Facts, t: &Target) -> Option<Found> {
    // 137 with no other reason given is the OOM killer's SIGKILL, the OOM rule's finding.
    let exited = f
        .exit_code
        .is_some_and(|c| c != 137 || !matches!(f.exit_reason.as_deref(), None | Some("OOMKilled")));
    // Without a sign that the container ran and exited, only an app's own failure line
    // counts: a refused connection alone is as likely an image pull or a probe.
    let cause =
        cause(f).filter(|(c, _)| restarting(f) || exited || c.name != "dependency unreachable");
    if !restarting(f) && !exited && cause.is_none() {
        return None;
    }
    // A container that ran to completion once and never restarted did not crash: a Job's or
    // one-shot pod's work that finished (whatever else keeps the pod up is another question).
    if f.finished && !restarting(f) {
        return None;
    }
    let c = f.container.as_deref();
    let who = c
        .map(|c| format!("Container `{c}`"))
        .unwrap_or_else(|| "The container".into());
    let mut evidence = Vec::new();
    if let Some((r, m)) = &f.waiting {
        evidence.push(format!(
            "waiting: {r}{}",
            if m.is_empty() {
                String::new()
            } else {
                format!(" ({})", quote(m))
            }
        ));
    }
    let how = match (f.exit_code, f.exit_reason.as_deref()) {
        (Some(code), reason) => {
            let signal = f
                .signal
                .map(|s| format!(", signal {s}"))
                .unwrap_or_default();
            evidence.push(format!(
                "last run terminated: reason {}, exit code {code}{signal}: {}",
                reason.unwrap_or("-"),
                exit_meaning(code)
            ));
            format!(" (exit code {code}: {})", exit_meaning(code))
        }
        (None, Some(reason)) => format!(" ({reason})"),
        _ => String::new(),
    };
    if let Some(n) = f.restarts.filter(|n| *n > 0) {
        evidence.push(format!("restartCount: {n}"));
    }
    if let Some(m) = &f.termination_message {
        evidence.push(format!("termination message: {}", quote(m)));
    }
    let mut remediation = vec![remedy::previous_logs(t, c)];
    // A Job's pod whose container has not restarted ran once for the Job (restartPolicy
    // Never: the Job replaces the pod), exited or not; one restarting in place (OnFailure)
    // still crash-loops.
    let owned_by_job = f.job_pod && f.restarts.unwrap_or(0) == 0;
    let (summary, confidence) = match &cause {
        Some((cause, line)) => {
            evidence.push(format!("{}: {}", cause.name, quote(line)));
            remediation.extend(fix(cause.name, t));
            let settled = restarting(f) || exited;
            // A pod named as a Job's counts unless the table shows it still running (then
            // the line is one it lived through, below).
            let jobs_pod = |l: &String| !f.running_unrestarted && told::JOB_POD_NAME.is_match(l);
            if owned_by_job
                || !settled && f.lines.iter().any(|l| told::job_failed(l) || jobs_pod(l))
            {
                evidence.push(
                    "the report tells a Job failed, or shows the pod as a Job's (its name, its owner): its pods run once and are replaced, so this line says why the Job's pods failed, not that a container crash-loops".into(),
                );
                (
                    format!(
                        "{who} failed in the Job's pod; likely cause: {} — {}.",
                        cause.name, cause.explain
                    ),
                    IN_A_FAILED_JOB,
                )
            } else if !settled && f.running_unrestarted {
                evidence.push(
                    "the pods shown run with 0 restarts: the line is an error the process logged and lived through, not yet a crash loop".into(),
                );
                (
                    format!(
                        "{who} logs a failure but has not restarted; if it starts exiting, the likely cause is {} — {}.",
                        cause.name, cause.explain
                    ),
                    UNRESTARTED,
                )
            } else {
                (
                    format!(
                        "{who} keeps exiting{how}; likely cause: {} — {}.",
                        cause.name, cause.explain
                    ),
                    if settled { 0.9 } else { 0.78 },
                )
            }
        }
        None if f.exit_code == Some(0) => (
            format!(
                "{who} keeps exiting{how}: its command ends instead of running a server; check the command/args."
            ),
            0.8,
        ),
        None if owned_by_job => {
            evidence.push(
                "the pod is a Job's and its container has not restarted: it runs once and the Job replaces the pod, so an exit is the Job's pod failing, not a container crash-looping".into(),
            );
            remediation.push(remedy::describe(t));
            (
                format!(
                    "{who} exited{how} in the Job's pod: the Job's pods fail (until its backoffLimit); its logs say why (none were in the input)."
                ),
                IN_A_FAILED_JOB,
            )
        }
        None => {
            remediation.push(remedy::describe(t));
            (
                format!(
                    "{who} keeps exiting{how}; its last log lines say why (none were in the input)."
                ),
                if f.exit_code.is_some() { 0.72 } else { 0.6 },
            )
        }
    };
    remediation.push(remedy::rollback(t));
    Some(Found::of(
        Class::RUNTIME_CRASHLOOP,
        confidence,
        summary,
        remediation,
        c,
        evidence,
    ))
}

/// The first recognised cause in the termination message, then the output lines.
fn cause(f: &Facts) -> Option<(&'static Cause, String)> {
    let lines: Vec<&str> = f
        .termination_message
        .iter()
        .flat_map(|m| m.lines())
        .chain(f.lines.iter().map(String::as_str))
        .filter(|l| !is_kubelet_noise(l))
        .collect();
    CAUSES.iter().find_map(|cause| {
        lines
            .iter()
            .find(|l| {
                let lower = l.to_lowercase();
                cause.needles.iter().any(|n| lower.contains(n))
            })
            .map(|l| (cause, l.trim().to_owned()))
    })
}

/// Lines the kubelet or runtime wrote about the container (events, probe results, exec
/// errors) rather than what the app printed.
fn is_kubelet_noise(line: &str) -> bool {
    // A probe's failure, told by the kubelet or in words: its refused port is the
    // container's own, not a dependency's.
    if crate::probe::is_failure(line) {
        return true;
    }
    let l = line.to_lowercase();
    [
        "probe failed",
        "starting container process",
        "container process: exec: ",
        "exec user process",
        "oci runtime",
        "mountvolume",
        "failedmount",
        "back-off",
        "pulling image",
        "successfully assigned",
        "multi-attach",
        "failed to pull",
        "errimagepull",
        "imagepullbackoff",
        "pull access denied",
        "registry",
    ]
    .iter()
    .any(|n| l.contains(n))
}

fn fix(cause: &str, t: &Target) -> Vec<lastmile_events::Remediation> {
    match cause {
        "missing environment variable" => vec![remedy::step(
            "Set the variable in the pod template (from a Secret for credentials: --from=secret/<name>).",
            format!("kubectl set env{} {} <NAME>=<value>", t.ns(), t.workload()),
        )],
        "missing config file" => vec![remedy::step(
            "Check which volumes are mounted where: a ConfigMap mounted on a directory hides the image's files there (mount it with subPath to add one file).",
            format!(
                "kubectl get{} {} -o jsonpath='{{.spec.template.spec.containers[*].volumeMounts}}'",
                t.ns(),
                t.workload()
            ),
        )],
        "permission denied" => vec![remedy::step(
            "Run with a group that owns the volume (fsGroup), or build the image to write only where its non-root user may.",
            format!(
                "kubectl patch{} {} --type merge -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"securityContext\":{{\"fsGroup\":<gid>}}}}}}}}}}'",
                t.ns(),
                t.workload()
            ),
        )],
        "port already in use" => vec![remedy::advice(
            "Find what else binds the port: a second process in the container, or (hostNetwork: true / hostPort) a process on the node; change one of the ports.",
        )],
        "failed migration" => vec![remedy::advice(
            "Run or repair the migration on its own (a Job before the rollout), then restart the pods; a dirty migration state must be fixed in the database first.",
        )],
        "wrong command or arguments" => vec![remedy::step(
            "Compare the command/args in the template with what the image's program accepts.",
            format!(
                "kubectl get{} {} -o jsonpath='{{.spec.template.spec.containers[*].args}}'",
                t.ns(),
                t.workload()
            ),
        )],
        "dependency unreachable" => vec![remedy::advice(
            "Check that the service the app connects to exists and has ready endpoints (kubectl get endpointslices), or let the app retry instead of exiting.",
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
