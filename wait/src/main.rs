//! `lastmile-wait`: waits for an init container's dependencies with a deadline, and says what
//! it waited for when it gives up (issue 11).
//!
//! ```text
//! lastmile-wait tcp://postgres:5432 http://orders:8080/healthz dns:payments.shop.svc \
//!               job:shop/migrate --timeout 2m
//! ```
//!
//! Every target is probed in its own thread with exponential backoff and jitter until it
//! answers; the process exits 0 when all have answered. At the deadline it writes the targets,
//! which answered, and the last error of each that did not to the termination log
//! (`/dev/termination-log`, which the kubelet copies into the pod status where `kubectl
//! describe` and lastmile's workload function read it) and exits 1. SIGTERM ends it at once
//! (exit 143), even as PID 1 of the container. With `OTEL_EXPORTER_OTLP_ENDPOINT` (http://)
//! one span per wait is sent as OTLP/HTTP JSON, under `TRACEPARENT` when set.
//!
//! The main design choice: **no lastmile dependencies and almost no crates** (std networking,
//! rustls for the Kubernetes API and https targets, serde_json, signal-hook), so the binary is
//! small, links statically and can be copied into any image.

mod otlp;
mod probe;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use probe::{Target, TargetState};

/// Exit code when the deadline passes.
const EXIT_TIMEOUT: u8 = 1;
/// Exit code for bad arguments.
const EXIT_USAGE: u8 = 2;
/// The kubelet reads at most this much of a termination message.
const MAX_TERMINATION_MESSAGE: usize = 4096;

const USAGE: &str = "usage: lastmile-wait TARGET... [--timeout 5m] [--termination-log PATH]
targets: tcp://HOST:PORT  http[s]://HOST[:PORT]/PATH  dns:NAME  job:[NAMESPACE/]NAME
Waits until every target answers (exit 0) or the timeout passes (exit 1, what it waited for
and each target's last error written to the termination log). SIGTERM ends it at once.
env: LASTMILE_WAIT_TIMEOUT, LASTMILE_WAIT_TERMINATION_LOG (default /dev/termination-log),
     OTEL_EXPORTER_OTLP_ENDPOINT (http://host:4318, one span per wait), TRACEPARENT,
     LASTMILE_WAIT_CACERT (CA for https:// targets; default: the service account's CA)";

/// What the command line says.
struct Args {
    targets: Vec<Target>,
    timeout: Duration,
    termination_log: String,
}

fn parse_args() -> Result<Args, String> {
    let mut targets = Vec::new();
    let mut timeout = std::env::var("LASTMILE_WAIT_TIMEOUT").ok();
    let mut log = std::env::var("LASTMILE_WAIT_TERMINATION_LOG")
        .unwrap_or_else(|_| "/dev/termination-log".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--timeout" | "-t" => timeout = Some(args.next().ok_or("--timeout needs a value")?),
            "--termination-log" => log = args.next().ok_or("--termination-log needs a path")?,
            _ if a.starts_with("--timeout=") => timeout = Some(a["--timeout=".len()..].to_owned()),
            _ if a.starts_with('-') => return Err(format!("unknown flag {a}")),
            _ => targets.push(Target::parse(&a).map_err(|e| e.to_string())?),
        }
    }
    if targets.is_empty() {
        return Err("no target given".to_owned());
    }
    let timeout = match timeout {
        Some(t) => {
            parse_duration(&t).ok_or_else(|| format!("bad timeout {t:?} (e.g. 90s, 2m, 1h)"))?
        }
        None => Duration::from_secs(300),
    };
    Ok(Args {
        targets,
        timeout,
        termination_log: log,
    })
}

/// `90s`, `2m`, `1h`, `500ms`, or plain seconds.
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: f64 = n.parse().ok()?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("lastmile-wait: {e}\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let started = Instant::now();
    let wall = SystemTime::now();
    let states: Arc<Vec<Mutex<TargetState>>> = Arc::new(
        args.targets
            .iter()
            .map(|_| Mutex::new(TargetState::default()))
            .collect(),
    );
    on_sigterm(
        args.targets.clone(),
        states.clone(),
        args.termination_log.clone(),
        started,
    );
    let deadline = started + args.timeout;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<usize>();
    for (i, target) in args.targets.iter().cloned().enumerate() {
        let (states, done) = (states.clone(), done_tx.clone());
        std::thread::spawn(move || {
            if probe::wait_for(&target, deadline, &states[i]) {
                let _ = done.send(i);
            }
        });
    }
    drop(done_tx);
    let mut ready = 0;
    while ready < args.targets.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(left) {
            Ok(i) => {
                ready += 1;
                eprintln!("lastmile-wait: {} is up", args.targets[i]);
            }
            Err(_) => break,
        }
    }
    let elapsed = started.elapsed();
    let ok = ready == args.targets.len();
    if ok {
        eprintln!(
            "lastmile-wait: all {ready} target(s) up after {:.1}s",
            elapsed.as_secs_f64()
        );
    } else {
        // The termination log first: the span is best effort and may take its timeout.
        let report = report(&args.targets, &states, elapsed, "timed out");
        eprint!("{report}");
        write_termination_log(&args.termination_log, &report);
    }
    otlp::export(&args.targets, &states, wall, elapsed, ok);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_TIMEOUT)
    }
}

/// What it waited for, what answered, and each other target's last error.
fn report(
    targets: &[Target],
    states: &[Mutex<TargetState>],
    elapsed: Duration,
    outcome: &str,
) -> String {
    let snapshot: Vec<TargetState> = states
        .iter()
        .map(|s| s.lock().map(|s| s.clone()).unwrap_or_default())
        .collect();
    let waiting: Vec<String> = targets
        .iter()
        .zip(&snapshot)
        .filter(|(_, s)| s.up_after.is_none())
        .map(|(t, _)| t.to_string())
        .collect();
    let mut out = format!(
        "lastmile-wait: {outcome} after {:.0}s waiting for {}\n",
        elapsed.as_secs_f64(),
        waiting.join(", ")
    );
    for (t, s) in targets.iter().zip(&snapshot) {
        match (&s.up_after, &s.last_error) {
            (Some(after), _) => {
                out.push_str(&format!("  {t}: up after {:.1}s\n", after.as_secs_f64()))
            }
            (None, Some(e)) => out.push_str(&format!("  {t}: {e} ({} attempts)\n", s.attempts)),
            (None, None) => {
                out.push_str(&format!("  {t}: no answer yet ({} attempts)\n", s.attempts))
            }
        }
    }
    out
}

fn write_termination_log(path: &str, report: &str) {
    let mut text = report.to_owned();
    if text.len() > MAX_TERMINATION_MESSAGE {
        let mut cut = MAX_TERMINATION_MESSAGE - 4;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...\n");
    }
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("lastmile-wait: cannot write the termination log {path}: {e}");
    }
}

/// SIGTERM (and SIGINT): write what was still awaited and exit 143 at once, from a thread
/// blocked on the signal, whatever the probes are doing.
fn on_sigterm(
    targets: Vec<Target>,
    states: Arc<Vec<Mutex<TargetState>>>,
    log: String,
    started: Instant,
) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) else {
        eprintln!("lastmile-wait: cannot install the SIGTERM handler");
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let report = report(&targets, &states, started.elapsed(), "stopped by a signal");
            eprint!("{report}");
            write_termination_log(&log, &report);
            std::process::exit(128 + sig);
        }
    });
}
