//! One span per wait, as OTLP/HTTP JSON (`POST {endpoint}/v1/traces`) over a plain TCP
//! connection: no protobuf, no gRPC stack for a binary that runs once per pod start.
//! Best effort: two seconds at most, errors only printed.

use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::probe::{Target, TargetState};

const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);

/// Sends the span when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
/// (http://) is set.
pub fn export(
    targets: &[Target],
    states: &[Mutex<TargetState>],
    start: SystemTime,
    elapsed: Duration,
    ok: bool,
) {
    let (url, full) = match (
        std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT"),
    ) {
        (Ok(u), _) if !u.is_empty() => (u, true),
        (_, Ok(u)) if !u.is_empty() => (u, false),
        _ => return,
    };
    let Some(rest) = url.strip_prefix("http://") else {
        eprintln!("lastmile-wait: OTLP endpoint {url}: only http:// is supported");
        return;
    };
    let (authority, base) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if full {
        if base.is_empty() {
            "/v1/traces".to_owned()
        } else {
            base.to_owned()
        }
    } else {
        format!("{}/v1/traces", base.trim_end_matches('/'))
    };
    let body = span(targets, states, start, elapsed, ok).to_string();
    if let Err(e) = post(authority, &path, &body) {
        eprintln!("lastmile-wait: OTLP export to {url}: {e}");
    }
}

fn random_hex(bytes: usize) -> String {
    let state = std::collections::hash_map::RandomState::new();
    let mut out = String::new();
    let mut i = 0u64;
    while out.len() < bytes * 2 {
        let mut h = state.build_hasher();
        h.write_u64(i);
        out.push_str(&format!("{:016x}", h.finish()));
        i += 1;
    }
    out.truncate(bytes * 2);
    out
}

fn span(
    targets: &[Target],
    states: &[Mutex<TargetState>],
    start: SystemTime,
    elapsed: Duration,
    ok: bool,
) -> serde_json::Value {
    // W3C traceparent: 00-<trace id>-<parent span id>-<flags>.
    let parent = std::env::var("TRACEPARENT").ok().and_then(|tp| {
        let parts: Vec<&str> = tp.trim().split('-').collect();
        (parts.len() == 4 && parts[1].len() == 32 && parts[2].len() == 16)
            .then(|| (parts[1].to_owned(), parts[2].to_owned()))
    });
    let (trace_id, parent_id) = parent.unwrap_or_else(|| (random_hex(16), String::new()));
    let start_ns = start
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let end_ns = start_ns + elapsed.as_nanos();
    let str_attr = |k: &str, v: String| json!({"key": k, "value": {"stringValue": v}});
    let mut attributes = vec![
        str_attr(
            "lastmile.wait.targets",
            targets
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        str_attr(
            "lastmile.wait.outcome",
            if ok { "ready" } else { "timeout" }.to_owned(),
        ),
    ];
    for (t, s) in targets.iter().zip(states) {
        let s = s.lock().map(|s| s.clone()).unwrap_or_default();
        let text = match (s.up_after, s.last_error) {
            (Some(after), _) => format!(
                "up after {:.1}s ({} attempts)",
                after.as_secs_f64(),
                s.attempts
            ),
            (None, Some(e)) => format!("{e} ({} attempts)", s.attempts),
            (None, None) => format!("no answer ({} attempts)", s.attempts),
        };
        attributes.push(str_attr(&format!("lastmile.wait.target.{t}"), text));
    }
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "lastmile-wait".to_owned());
    json!({"resourceSpans": [{
        "resource": {"attributes": [str_attr("service.name", service)]},
        "scopeSpans": [{
            "scope": {"name": "lastmile-wait", "version": env!("CARGO_PKG_VERSION")},
            "spans": [{
                "traceId": trace_id,
                "spanId": random_hex(8),
                "parentSpanId": parent_id,
                "name": "init wait",
                "kind": 1,
                "startTimeUnixNano": start_ns.to_string(),
                "endTimeUnixNano": end_ns.to_string(),
                "attributes": attributes,
                "status": if ok { json!({"code": 1}) } else { json!({"code": 2, "message": "timed out"}) },
            }],
        }],
    }]})
}

fn post(authority: &str, path: &str, body: &str) -> Result<(), String> {
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut s = TcpStream::connect_timeout(&addr, EXPORT_TIMEOUT).map_err(|e| e.to_string())?;
    let _ = s.set_read_timeout(Some(EXPORT_TIMEOUT));
    let _ = s.set_write_timeout(Some(EXPORT_TIMEOUT));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = [0u8; 64];
    let n = s.read(&mut answer).map_err(|e| e.to_string())?;
    let status = String::from_utf8_lossy(&answer[..n]);
    if status
        .split_whitespace()
        .nth(1)
        .is_some_and(|c| c.starts_with('2'))
    {
        Ok(())
    } else {
        Err(format!(
            "answered {:?}",
            status.lines().next().unwrap_or_default()
        ))
    }
}
