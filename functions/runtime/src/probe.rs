//! `runtime.probe_failing`: readiness, liveness or startup probes keep failing. The probe
//! is compared with the container's ports and what the app says it listens on; the failure
//! says which of wrong port, wrong path, too short a timeout, or a liveness probe that kills
//! a slow starter it is.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Remediation};
use regex::Regex;

use crate::facts::{Facts, ProbeSpec};
use crate::remedy::{self, Target};
use crate::{Found, quote, re};

mod told;

#[cfg(test)]
use told::STATUS_SAID;
use told::{status_told, wrong_target_told};

static FAILED: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(liveness|readiness|startup) probes?\b[:\s]*(.*)"));
/// Words that make a probe line a failure report.
const FAILING: &[&str] = &[
    "fail",
    "errored",
    "deadline exceeded",
    "refused",
    "timed out",
    "timeout",
    "statuscode",
];
static URL: LazyLock<Regex> = LazyLock::new(|| {
    re(r#"(?i)(?:get|dial tcp)\s+\\?"?(?:https?://)?\[?[0-9a-f.:]*?\]?:(\d{1,5})(/[^"\s\\]*)?"#)
});
static STATUS: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)statuscode:\s*(\d{3})"));
/// The app's own access log answering the kubelet's probe (`user-agent: kube-probe/1.x`)
/// with an error status: `status:503`, `status=500` or a combined-log `" 503 `.
static PROBE_ANSWER: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)\bstatus\W{0,3}([45]\d{2})\b|HTTP/\d(?:\.\d)?"\s+([45]\d{2})\b"#));
/// The path a logged request asked for.
static LOGGED_PATH: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)\bpath[:=]\s*"?(/[^\s"]*)|"(?:GET|HEAD) (/\S*)"#));
/// A probe or health check named in words (`readiness probe`, `readyness prob`, `health
/// check url`, `livenessProbe`).
static PROBE_SAID: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:readiness|readyness|liveness|startup)\s*-?\s*prob(?:e|es)?\b|\b(?:readiness|liveness|startup)probe\b|\bhealth[- ]?check",
    )
});
static LISTENING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:listening|listens|serving|started server|server started|running)\b[^\n]*?(?:port\s+|:)(\d{2,5})\b",
    )
});

/// How the probe failed.
#[derive(Debug, PartialEq)]
enum Outcome {
    Refused,
    Status(u16),
    Timeout,
    Other,
}

struct Failure<'a> {
    kind: String,
    line: &'a str,
    port: Option<u16>,
    path: Option<String>,
    outcome: Outcome,
}

/// Whether `line` reports a probe failing (the kubelet's `Liveness probe failed: …`, or a
/// report's "the readiness probe on :8080 fails with connection refused").
pub(crate) fn is_failure(line: &str) -> bool {
    failure(line).is_some()
}

fn failure(line: &str) -> Option<Failure<'_>> {
    let c = FAILED.captures(line)?;
    let rest = c.get(2).map_or("", |m| m.as_str()).to_lowercase();
    if !FAILING.iter().any(|w| rest.contains(w)) {
        return None;
    }
    let target = URL.captures(line);
    let outcome = if rest.contains("connection refused") {
        Outcome::Refused
    } else if let Some(s) = STATUS.captures(&rest) {
        Outcome::Status(s[1].parse().unwrap_or(0))
    } else if rest.contains("deadline exceeded")
        || rest.contains("timeout")
        || rest.contains("timed out")
    {
        Outcome::Timeout
    } else {
        Outcome::Other
    };
    Some(Failure {
        kind: c[1].to_lowercase(),
        line,
        port: target.as_ref().and_then(|t| t[1].parse().ok()),
        path: target.and_then(|t| t.get(2).map(|m| m.as_str().to_owned())),
        outcome,
    })
}

/// The probe diagnosis, when probes fail (or the report says a probe kills the container).
pub(crate) fn diagnose(f: &Facts, t: &Target) -> Option<Found> {
    let failures: Vec<Failure<'_>> = f.lines.iter().filter_map(|l| failure(l)).collect();
    let c = f.container.as_deref();
    let who = c
        .map(|c| format!("container `{c}`"))
        .unwrap_or_else(|| "the container".into());
    if failures.is_empty() {
        return prose(f, t, c);
    }
    // Liveness failures restart the container: they matter most.
    let main = failures
        .iter()
        .find(|x| x.kind == "liveness")
        .unwrap_or(&failures[0]);
    let spec = f.probes.iter().find(|p| p.kind == main.kind);
    let port = main.port.or(spec.and_then(|p| p.port));
    let mut evidence = vec![format!("{} probe failed: {}", main.kind, quote(main.line))];
    if let Some(p) = spec {
        evidence.push(describe_probe(p));
    }
    let declared: Vec<u16> = f.ports.iter().map(|(_, p)| *p).collect();
    if !declared.is_empty() {
        evidence.push(format!(
            "container ports: {}",
            declared
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let listening = f.lines.iter().find_map(|l| {
        let caps = LISTENING.captures(l)?;
        let p: u16 = caps[1].parse().ok()?;
        Some((p, l.as_str()))
    });
    if let Some((_, l)) = listening {
        evidence.push(format!("the app says: {}", quote(l)));
    }
    let probe_name = format!("{}Probe", main.kind);
    let (summary, confidence, fix) = match (&main.outcome, port) {
        (_, Some(p)) if listening.is_some_and(|(l, _)| l != p) => {
            let l = listening.map_or(0, |(l, _)| l);
            (
                format!(
                    "The {} probe of {who} checks port {p}, but the app listens on {l}: it can never pass.",
                    main.kind
                ),
                0.92,
                Some(patch_port(t, c, &probe_name, spec, l)),
            )
        }
        (Outcome::Refused | Outcome::Timeout, Some(p))
            if !declared.is_empty() && !declared.contains(&p) =>
        {
            let want = declared[0];
            (
                format!(
                    "The {} probe of {who} checks port {p}, which the container does not declare (its ports: {}); the app listens elsewhere.",
                    main.kind,
                    declared
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                0.9,
                Some(patch_port(t, c, &probe_name, spec, want)),
            )
        }
        (Outcome::Status(404), _) => (
            format!(
                "The {} probe of {who} asks for {}, which the app does not serve (HTTP 404): the path is wrong.",
                main.kind,
                main.path
                    .as_deref()
                    .or(spec.and_then(|p| p.path.as_deref()))
                    .unwrap_or("its path")
            ),
            0.9,
            Some(remedy::step(
                "Point the probe at the app's health endpoint (check it with curl from inside the pod first).",
                patch(t, c, &probe_name, r#"{"httpGet":{"path":"<health-path>"}}"#),
            )),
        ),
        (Outcome::Status(code), _) => (
            format!(
                "The {} probe of {who} gets HTTP {code}: the app answers but reports itself unhealthy; its logs say why.",
                main.kind
            ),
            0.82,
            None,
        ),
        (Outcome::Timeout, _) => {
            let timeout = spec.map_or(1, |p| p.timeout);
            let set = if spec.is_some() {
                ""
            } else {
                ", the default when not set"
            };
            (
                format!(
                    "The {} probe of {who} times out: the app answers slower than timeoutSeconds ({timeout}s{set}).",
                    main.kind
                ),
                0.86,
                Some(remedy::step(
                    "Give the probe more time (and find why the health endpoint is slow: it should not call dependencies).",
                    patch(
                        t,
                        c,
                        &probe_name,
                        &format!(r#"{{"timeoutSeconds":{}}}"#, (timeout * 5).max(5)),
                    ),
                )),
            )
        }
        (Outcome::Refused, _) if main.kind == "liveness" && f.restarting() => {
            let budget = spec.map(ProbeSpec::budget_seconds);
            (
                format!(
                    "The liveness probe restarts {who} before it listens{}: a slow starter killed by its own probe.",
                    budget
                        .map(|b| format!(" (it allows {b}s)"))
                        .unwrap_or_default()
                ),
                0.88,
                Some(startup_probe(t, c, spec)),
            )
        }
        (Outcome::Refused, _) => (
            format!(
                "The {} probe of {who} is refused: nothing listens on port {} yet (still starting, crashed, or bound to 127.0.0.1 instead of 0.0.0.0).",
                main.kind,
                port.map_or("?".into(), |p| p.to_string())
            ),
            0.8,
            Some(startup_probe(t, c, spec)),
        ),
        (Outcome::Other, _) => (
            format!(
                "The {} probe of {who} keeps failing (quoted in the evidence).",
                main.kind
            ),
            0.78,
            None,
        ),
    };
    let mut d = Diagnosis::new(
        Class::RUNTIME_PROBE_FAILING,
        confidence,
        summary,
        Default::default(),
    );
    d.remediation = fix.into_iter().collect();
    d.remediation.push(if f.restarting() {
        remedy::previous_logs(t, c)
    } else {
        remedy::current_logs(t, c)
    });
    Some(Found::new(d, c, evidence))
}

/// A report in words: a liveness/readiness probe that restarts a container that starts
/// slowly (no kubelet line quoted).
/// The app's log shows the kubelet's probe requests answered with an error status: the
/// probe reaches the app, and the app says it is not healthy/ready.
fn answered_with_error(f: &Facts, c: Option<&str>) -> Option<Found> {
    let (line, status) = f.lines.iter().find_map(|l| {
        if !l.to_ascii_lowercase().contains("kube-probe/") {
            return None;
        }
        let caps = PROBE_ANSWER.captures(l)?;
        let status = caps.get(1).or(caps.get(2))?.as_str().to_owned();
        Some((l.as_str(), status))
    })?;
    let path = LOGGED_PATH
        .captures(line)
        .and_then(|c| c.get(1).or(c.get(2)))
        .map_or("its probe path", |m| m.as_str());
    let mut d = Diagnosis::new(
        Class::RUNTIME_PROBE_FAILING,
        0.75,
        format!(
            "The app answers the kubelet's probe on {path} with HTTP {status}: the probe reaches it, and the app reports itself not ready (a dependency its health check needs, or a probe aimed at the wrong endpoint)."
        ),
        Default::default(),
    );
    d.remediation = vec![remedy::advice(
        "Read what the app's health endpoint checks (its logs around the probe requests say which dependency fails), or point the probe at an endpoint that reflects the app alone.",
    )];
    Some(Found::new(d, c, vec![quote(line)]))
}

/// The runtime's failure to run a command inside a running container for the kubelet:
/// containerd's `ExecSync for "…" failed`, CRI-O's `ExecSync … error`. The kubelet's
/// ExecSync calls are exec probes (and lifecycle hooks); `kubectl exec` streams instead.
static EXEC_SYNC_FAILED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\bExecSync\b[^\n]{0,200}?\b(?:failed|error)\b|\bexec probe\b[^.\n]{0,40}?\bfail")
});

/// Exec probes that cannot run, beside a container killed with SIGKILL (137): the kubelet
/// counted the failed exec as a failed probe and restarted the container.
fn exec_probe_killed(f: &Facts, c: Option<&str>) -> Option<Found> {
    let line = f.lines.iter().find(|l| EXEC_SYNC_FAILED.is_match(l))?;
    let killed = f.exit_code == Some(137)
        || f.lines
            .iter()
            .any(|l| l.contains("137") && l.to_ascii_lowercase().contains("exit"));
    if !killed {
        return None;
    }
    let mut d = Diagnosis::new(
        Class::RUNTIME_PROBE_FAILING,
        0.78,
        "An exec probe cannot run in the container (the runtime's ExecSync fails), so the kubelet counts it as failed and kills the container (exit 137): see why the exec fails (the probe's command, a container still starting, a runtime or kernel error), and give the probe a longer timeout or a startupProbe.".to_owned(),
        Default::default(),
    );
    d.remediation = vec![Remediation {
        description: "Run the probe's command by hand (`kubectl exec POD -- <command>`) and read the node's container runtime log around the restart.".into(),
        command: None,
    }];
    Some(Found::new(d, c, vec![quote(line)]))
}

fn prose(f: &Facts, t: &Target, c: Option<&str>) -> Option<Found> {
    if let Some(found) = exec_probe_killed(f, c) {
        return Some(found);
    }
    if let Some(found) = answered_with_error(f, c) {
        return Some(found);
    }
    if let Some(found) = status_told(f, c) {
        return Some(found);
    }
    if let Some(found) = wrong_target_told(f, c) {
        return Some(found);
    }
    let line = f.first_line_with(&["liveness", "readiness", "livenessprobe", "readinessprobe"])?;
    let text = f.lines.join(" ").to_lowercase();
    let tuning = [
        "initialdelayseconds",
        "failurethreshold",
        "failuretreshold",
        "startupprobe",
        "timeoutseconds",
        "startup",
    ]
    .iter()
    .any(|w| text.contains(w));
    let failing = [
        "fail",
        "restart",
        "killed",
        "terminated",
        "crashloop",
        "never",
    ]
    .iter()
    .any(|w| text.contains(w));
    if !tuning || !failing {
        return None;
    }
    let mut d = Diagnosis::new(
        Class::RUNTIME_PROBE_FAILING,
        0.72,
        "A probe fails while the app is still starting; a liveness probe then restarts it before it is up (a slow starter killed by its own probe).".to_owned(),
        Default::default(),
    );
    d.remediation = vec![startup_probe(t, c, None)];
    Some(Found::new(d, c, vec![quote(line)]))
}

fn describe_probe(p: &ProbeSpec) -> String {
    format!(
        "{} probe: {} {}{} delay={}s timeout={}s period={}s failureThreshold={} (gives up after {}s)",
        p.kind,
        p.action,
        p.port
            .map(|x| format!("port {x}"))
            .or(p.port_name.clone())
            .unwrap_or_default(),
        p.path
            .as_deref()
            .map(|x| format!(" path {x}"))
            .unwrap_or_default(),
        p.initial_delay,
        p.timeout,
        p.period,
        p.failure_threshold,
        p.budget_seconds()
    )
}

/// A strategic-merge patch of one probe of the named container (containers merge by name).
fn patch(t: &Target, container: Option<&str>, probe: &str, body: &str) -> String {
    format!(
        "kubectl patch{} {} -p '{{\"spec\":{{\"template\":{{\"spec\":{{\"containers\":[{{\"name\":\"{}\",\"{probe}\":{body}}}]}}}}}}}}'",
        t.ns(),
        t.workload(),
        container.unwrap_or("<container>")
    )
}

fn patch_port(
    t: &Target,
    c: Option<&str>,
    probe: &str,
    spec: Option<&ProbeSpec>,
    port: u16,
) -> Remediation {
    let action = match spec.map(|p| p.action.as_str()) {
        Some("tcp-socket") => "tcpSocket",
        _ => "httpGet",
    };
    remedy::step(
        format!("Probe the port the app listens on ({port})."),
        patch(t, c, probe, &format!(r#"{{"{action}":{{"port":{port}}}}}"#)),
    )
}

fn startup_probe(t: &Target, c: Option<&str>, spec: Option<&ProbeSpec>) -> Remediation {
    let (action, port) = match spec {
        Some(p) if p.action == "tcp-socket" => ("tcpSocket", p.port),
        Some(p) => ("httpGet", p.port),
        None => ("httpGet", None),
    };
    let target = match (action, port) {
        ("tcpSocket", Some(p)) => format!(r#"{{"port":{p}}}"#),
        ("tcpSocket", None) => r#"{"port":<port>}"#.to_owned(),
        (_, p) => format!(
            r#"{{"path":"{}","port":{}}}"#,
            spec.and_then(|s| s.path.as_deref())
                .unwrap_or("<health-path>"),
            p.map_or("<port>".to_owned(), |p| p.to_string())
        ),
    };
    remedy::step(
        "Add a startupProbe that allows the app its start-up time (here 5 minutes); liveness and readiness only begin once it passes.",
        patch(
            t,
            c,
            "startupProbe",
            &format!(r#"{{"{action}":{target},"periodSeconds":10,"failureThreshold":30}}"#),
        ),
    )
}

#[cfg(test)]
mod tests;
