//! Container facts from pasted `kubectl describe pod` text (or a `kubectl get pod -o yaml`
//! status excerpt), when no Pod object came with the incident.

use std::sync::LazyLock;

use regex::Regex;

use crate::facts::{Facts, ProbeSpec};

use crate::re;

/// `Liveness: http-get http://:8085/health-check delay=0s timeout=1s period=10s #success=1 #failure=3`
static PROBE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(liveness|readiness|startup):\s+(http-get|tcp-socket|exec|grpc)\s+(.*?)\s*delay=(\d+)s\s+timeout=(\d+)s\s+period=(\d+)s\s+#success=\d+\s+#failure=(\d+)",
    )
});
/// `http://:8085/health-check`, `https://:https/healthz`, `:8080`.
static TARGET: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:https?://[^:/\s]*)?:([A-Za-z0-9-]+)(/\S*)?"));
static PORT: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{1,5})/(?:TCP|UDP|SCTP)"));
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\s*)([A-Za-z][A-Za-z ]*?):\s*(.*)$"));
/// `Exit Code:    137` (describe) or `exitCode: 137` (a status in YAML), at a line's start:
/// a CI log's "failed with exit code 1" is not a container's.
static EXIT_CODE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?im)^\s*(?:exit code|exitcode):\s*(-?\d+)"));
/// Exit code 137 told in prose (`command terminated with exit code 137`, `exited with
/// 137`): unlike other codes it names one thing, a SIGKILL, so a sentence is enough.
static EXIT_137: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:exit(?:ed)?(?: with)?(?: exit)?(?: code| status)?|code)\s*:?\s*137\b")
});

/// True when `text` holds a `kubectl get pods` table whose every pod runs (`Running`, or
/// `NotReady`: a container still running beside one that ended) and never restarted.
fn pods_run_unrestarted(text: &str) -> bool {
    let mut rows = lastmile_events::told::pod_rows(text).peekable();
    rows.peek().is_some()
        && rows.all(|r| matches!(r.status, "Running" | "NotReady") && r.restarts == 0)
}

/// The facts of the first main container in `text`.
pub(crate) fn describe_facts(text: &str) -> Facts {
    let mut f = Facts::default();
    let section = main_containers(text);
    let mut block = "";
    let mut resources = "";
    // Exit codes read under a current `State:` and under a `Last State:`.
    let (mut state_exit, mut last_exit) = (None, None);
    for line in section.lines() {
        let Some(caps) = KEY_VALUE.captures(line) else {
            continue;
        };
        let indent = caps.get(1).map_or(0, |m| m.as_str().len());
        let key = caps.get(2).map_or("", |m| m.as_str()).trim();
        let value = caps.get(3).map_or("", |m| m.as_str()).trim();
        if indent == 2 && value.is_empty() && f.container.is_none() && key != "Type" {
            f.container = Some(key.to_owned());
            continue;
        }
        match key {
            "Image" if f.image.is_none() => f.image = Some(value.to_owned()),
            "Port" | "Ports" => f.ports.extend(
                PORT.captures_iter(value)
                    .filter_map(|c| c.get(1)?.as_str().parse().ok())
                    .map(|p| (None, p)),
            ),
            "State" => {
                block = if value == "Waiting" {
                    "waiting"
                } else {
                    "state"
                }
            }
            "Last State" | "Last Termination State" => block = "last",
            "Reason" => match block {
                "waiting" => f.waiting = Some((value.to_owned(), String::new())),
                "state" => f.exit_reason = Some(value.to_owned()),
                "last" if f.exit_reason.is_none() => f.exit_reason = Some(value.to_owned()),
                _ => {}
            },
            "Message" if block == "waiting" => {
                if let Some(w) = f.waiting.as_mut() {
                    w.1 = value.to_owned();
                }
            }
            "Message" if !value.is_empty() => f.termination_message = Some(value.to_owned()),
            "Exit Code" => {
                let code = value.parse().ok();
                match block {
                    "state" => state_exit = state_exit.or(code),
                    "last" => last_exit = last_exit.or(code),
                    _ => {}
                }
                f.exit_code = code.or(f.exit_code);
            }
            "Signal" => f.signal = value.parse().ok(),
            "Ready" => f.ready = Some(value.eq_ignore_ascii_case("true")),
            "Restart Count" => f.restarts = value.parse().ok(),
            "Limits" | "Requests" => resources = key,
            "memory" => match resources {
                "Limits" => f.mem_limit = Some(value.to_owned()),
                "Requests" => f.mem_request = Some(value.to_owned()),
                _ => {}
            },
            "Command" | "Args" => block = "",
            _ => {}
        }
        if let Some(p) = probe(line) {
            f.probes.push(p);
        }
    }
    if f.exit_code.is_none() {
        f.exit_code = EXIT_CODE
            .captures(text)
            .and_then(|c| c.get(1)?.as_str().parse().ok())
            .or_else(|| EXIT_137.is_match(text).then_some(137));
    }
    if f.restarts.is_none() {
        f.restarts = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("restartCount:"))
            .and_then(|v| v.trim().parse().ok());
    }
    f.running_unrestarted = pods_run_unrestarted(text);
    f.finished = state_exit == Some(0)
        && last_exit.is_none()
        && f.waiting.is_none()
        && f.restarts.unwrap_or(0) == 0;
    // A request equal to the limit by default: describe prints only what the spec has.
    f
}

/// The `Containers:` section of describe output (not `Init Containers:`), or the whole
/// text when there is none.
fn main_containers(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "Containers:" {
            let rest = &text[offset + line.len()..];
            // The section ends at the next top-level heading (`Conditions:`, `Volumes:`).
            let end = rest
                .split_inclusive('\n')
                .scan(0usize, |pos, l| {
                    let start = *pos;
                    *pos += l.len();
                    Some((start, l))
                })
                .find(|(_, l)| {
                    !l.starts_with(' ') && !l.starts_with('\t') && l.trim_end().ends_with(':')
                })
                .map_or(rest.len(), |(start, _)| start);
            return &rest[..end];
        }
        offset += line.len();
    }
    text
}

fn probe(line: &str) -> Option<ProbeSpec> {
    let c = PROBE.captures(line)?;
    let kind = match c.get(1)?.as_str().to_ascii_lowercase().as_str() {
        "liveness" => "liveness",
        "readiness" => "readiness",
        _ => "startup",
    };
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
    let mut p = ProbeSpec {
        kind,
        action: c.get(2)?.as_str().to_ascii_lowercase(),
        initial_delay: num(4),
        timeout: num(5),
        period: num(6),
        failure_threshold: num(7),
        ..ProbeSpec::default()
    };
    if let Some(t) = TARGET.captures(c.get(3)?.as_str()) {
        let port = t.get(1).map_or("", |m| m.as_str());
        match port.parse() {
            Ok(n) => p.port = Some(n),
            Err(_) => p.port_name = Some(port.to_owned()),
        }
        p.path = t.get(2).map(|m| m.as_str().to_owned());
    }
    Some(p)
}

#[cfg(test)]
mod tests;
