//! Scale of `lastmile explain`: time and peak memory as the input grows 1×, 2×, 4×, 8×, so
//! the slope is visible (1.0 = linear, 2.0 = quadratic).
//!
//! The real path: the release `lastmile explain FILE` binary as a child process, its output
//! discarded; peak memory is the child's maximum resident set as the kernel reports it on
//! `wait4` (GNU `time -f %M`), not an estimate. Three inputs, generated with the shapes
//! `kubectl get ... -A -o json` prints and the scheduler's message formats
//! (`../shared/reference/k8s-failure-messages.json`):
//!
//! * (a) `kubectl get nodes,pods,events -A`: running pods on nodes plus Pending pods of
//!   one-pod Jobs with their `FailedScheduling` events; the 8× point is exactly 5,000
//!   running + 500 Pending (larger would pass the 64 MiB input limit), 1× is an eighth;
//! * (b) bare Pending pods (no owner, no nodes): 1× is exactly 1,000;
//! * (c) an EventList of Warning events, each about a different pod: 8× is exactly 100,000.
//!
//! Budgets (issue 14): (a) at 5,000 + 500 and (b) at 1,000 under 300 MiB and 2 s; (c) at
//! 100,000 under 10 s. Run: `cargo bench -p lastmile-tests --bench scale`.

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{Value, json};

const FACTORS: [usize; 4] = [1, 2, 4, 8];
const MIB: f64 = 1024.0 * 1024.0;

/// One measured run.
#[derive(Debug, Clone, Copy)]
struct Point {
    size: usize,
    time: Duration,
    peak_kib: u64,
    bytes: usize,
}

fn main() -> anyhow::Result<()> {
    let bin = release_lastmile()?;
    let tmp = tempfile::tempdir()?;
    // LASTMILE_SCALE_KEEP=1 keeps the generated inputs (to profile one by hand).
    let kept;
    let dir: &Path = if std::env::var_os("LASTMILE_SCALE_KEEP").is_some() {
        kept = tmp.keep();
        println!("inputs kept in {}", kept.display());
        &kept
    } else {
        tmp.path()
    };
    println!("lastmile explain scale ({})", bin.display());
    let mut missed = Vec::new();

    let a = series(
        &bin,
        dir,
        "(a) get nodes,pods,events -A: running + Pending Job pods",
        |k| {
            let running = 625 * k;
            let pending = 500 * k / 8;
            (
                format!("{running}+{pending}"),
                pods_and_jobs(running, pending),
            )
        },
    )?;
    budget(&mut missed, "(a) 5,000 + 500", a.last(), 2.0, Some(300.0));
    let b = series(&bin, dir, "(b) bare Pending pods", |k| {
        let n = 1000 * k;
        (n.to_string(), bare_pending(n))
    })?;
    budget(
        &mut missed,
        "(b) 1,000 Pending",
        b.first(),
        2.0,
        Some(300.0),
    );
    let c = series(&bin, dir, "(c) Warning events on different pods", |k| {
        let n = 12_500 * k;
        (n.to_string(), events_on_pods(n))
    })?;
    budget(&mut missed, "(c) 100,000 events", c.last(), 10.0, None);
    if missed.is_empty() {
        println!("all budgets met");
    } else {
        println!("budgets missed: {}", missed.join("; "));
    }
    Ok(())
}

/// Generates, writes and measures the four sizes of one input; prints them and the slope.
fn series(
    bin: &Path,
    dir: &Path,
    title: &str,
    make: impl Fn(usize) -> (String, Value),
) -> anyhow::Result<Vec<Point>> {
    println!("\n{title}");
    println!(
        "  {:>4} {:>14} {:>9} {:>10} {:>12}",
        "×", "size", "MiB in", "time s", "peak MiB"
    );
    let mut points = Vec::new();
    for k in FACTORS {
        let (label, doc) = make(k);
        let path = dir.join(format!("input-{k}.json"));
        let bytes = serde_json::to_vec(&doc)?;
        drop(doc);
        std::fs::write(&path, &bytes)?;
        let (time, peak_kib) = measure(bin, &path)?;
        let p = Point {
            size: k,
            time,
            peak_kib,
            bytes: bytes.len(),
        };
        println!(
            "  {:>4} {:>14} {:>9.1} {:>10.3} {:>12.1}",
            format!("{k}×"),
            label,
            p.bytes as f64 / MIB,
            p.time.as_secs_f64(),
            p.peak_kib as f64 / 1024.0
        );
        points.push(p);
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let growth = (last.size as f64 / first.size as f64).ln();
        let slope = |a: f64, b: f64| (b / a).ln() / growth;
        println!(
            "  slope 1×→8× (log-log; 1.0 linear, 2.0 quadratic): time {:.2}, peak memory {:.2}",
            slope(first.time.as_secs_f64(), last.time.as_secs_f64()),
            slope(first.peak_kib as f64, last.peak_kib as f64)
        );
    }
    Ok(points)
}

fn budget(missed: &mut Vec<String>, what: &str, p: Option<&Point>, secs: f64, mib: Option<f64>) {
    let Some(p) = p else { return };
    let t = p.time.as_secs_f64();
    let m = p.peak_kib as f64 / 1024.0;
    let time_ok = t < secs;
    let mem_ok = mib.is_none_or(|limit| m < limit);
    println!(
        "budget {what}: {t:.3} s (< {secs} s: {}), {m:.1} MiB{}",
        if time_ok { "met" } else { "MISSED" },
        match mib {
            Some(limit) => format!(
                " (< {limit} MiB: {})",
                if mem_ok { "met" } else { "MISSED" }
            ),
            None => String::new(),
        }
    );
    if !(time_ok && mem_ok) {
        missed.push(format!("{what}: {t:.3} s, {m:.1} MiB"));
    }
}

/// Best of three runs (one when a run takes over 5 s): wall time, and the largest peak RSS.
fn measure(bin: &Path, input: &Path) -> anyhow::Result<(Duration, u64)> {
    let mut best = Duration::MAX;
    let mut peak = 0;
    for _ in 0..3 {
        let (time, kib) = run_once(bin, input)?;
        best = best.min(time);
        peak = peak.max(kib);
        if time > Duration::from_secs(5) {
            break;
        }
    }
    Ok((best, peak))
}

/// One `lastmile explain` under GNU time, which reports the child's max RSS from `wait4`.
fn run_once(bin: &Path, input: &Path) -> anyhow::Result<(Duration, u64)> {
    let report = input.with_extension("rss");
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(bin)
        .arg("explain")
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .context("cannot run /usr/bin/time (GNU time; apt-get install time)")?;
    let time = start.elapsed();
    anyhow::ensure!(
        out.status.success(),
        "lastmile explain {} failed: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report)?;
    let kib = text
        .lines()
        .rev()
        .find_map(|l| l.trim().parse::<u64>().ok())
        .with_context(|| format!("no max RSS in {text:?}"))?;
    Ok((time, kib))
}

/// The release `lastmile` binary, built if needed (bench binaries are not its package).
fn release_lastmile() -> anyhow::Result<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "lastmile",
            "--bin",
            "lastmile",
        ])
        .current_dir(&workspace)
        .status()?;
    anyhow::ensure!(status.success(), "cargo build --release -p lastmile failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    Ok(target.join("release").join("lastmile"))
}

const STAMP: &str = "2026-03-03T10:02:11Z";
const UNSCHEDULABLE: &str = "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";

/// Running pods spread over namespaces and nodes (50 per node), Pending pods of one-pod Jobs
/// with a `FailedScheduling` event each, and the nodes.
fn pods_and_jobs(running: usize, pending: usize) -> Value {
    let nodes = running.div_ceil(50).max(1);
    let mut items: Vec<Value> = (0..nodes).map(node).collect();
    for i in 0..running {
        let ns = format!("team-{}", i % 40);
        let app = format!("svc-{}", i / 10);
        let owner = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": format!("{app}-7d9f8c6b5"), "uid": uid(1, i / 10), "controller": true,
            "blockOwnerDeletion": true});
        let mut p = pod(
            &ns,
            &format!("{app}-7d9f8c6b5-{i:05x}"),
            i,
            Some(owner),
            &app,
        );
        p["spec"]["nodeName"] = json!(format!("node-{:04}", i % nodes));
        p["status"] = json!({
            "phase": "Running", "qosClass": "Burstable", "hostIP": "10.0.0.1",
            "podIP": format!("10.1.{}.{}", (i / 250) % 250, i % 250), "startTime": STAMP,
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": STAMP},
                {"type": "Ready", "status": "True", "lastTransitionTime": STAMP},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": STAMP},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": STAMP}],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                "started": true, "image": "ghcr.io/acme/app:1.4.2",
                "imageID": "ghcr.io/acme/app@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "containerID": format!("containerd://{:064x}", i),
                "state": {"running": {"startedAt": STAMP}}}]});
        items.push(p);
    }
    for i in 0..pending {
        let ns = format!("ci-{}", i % 20);
        let job = format!("integration-{i:04}");
        let owner = json!({"apiVersion": "batch/v1", "kind": "Job", "name": job,
            "uid": uid(2, i), "controller": true, "blockOwnerDeletion": true});
        let name = format!("{job}-q8v2m");
        let mut p = pod(&ns, &name, i, Some(owner), &job);
        p["metadata"]["uid"] = json!(uid(6, i));
        p["metadata"]["labels"]["job-name"] = json!(job);
        p["spec"]["restartPolicy"] = json!("Never");
        p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "3", "memory": "4Gi"}, "limits": {"cpu": "3", "memory": "4Gi"}});
        p["status"] = unschedulable_status();
        items.push(p);
        items.push(event(
            &ns,
            &name,
            i,
            "FailedScheduling",
            UNSCHEDULABLE,
            "default-scheduler",
        ));
    }
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
}

/// Pending pods with no owner, as `kubectl get pods -A -o json` prints them.
fn bare_pending(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let mut p = pod(
                &format!("dev-{}", i % 30),
                &format!("debug-{i:05}"),
                i,
                None,
                "debug",
            );
            p["status"] = unschedulable_status();
            p
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
}

/// Warning events, each about a different pod the document does not carry.
fn events_on_pods(n: usize) -> Value {
    let kinds = [
        ("FailedScheduling", UNSCHEDULABLE, "default-scheduler"),
        (
            "BackOff",
            "Back-off pulling image \"ghcr.io/acme/app:1.4.3\"",
            "kubelet",
        ),
        (
            "FailedMount",
            "MountVolume.SetUp failed for volume \"config\" : configmap \"app-config\" not found",
            "kubelet",
        ),
        ("Failed", "Error: ErrImagePull", "kubelet"),
    ];
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let (reason, message, component) = kinds[i % kinds.len()];
            let mut e = event(
                &format!("team-{}", i % 40),
                &format!("app-{i:06}-x7k2p"),
                i,
                reason,
                message,
                component,
            );
            // A typed EventList's items carry no kind of their own.
            if let Some(m) = e.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
            e
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "EventList", "metadata": {"resourceVersion": ""}, "items": items})
}

fn pod(ns: &str, name: &str, i: usize, owner: Option<Value>, app: &str) -> Value {
    let mut meta = json!({"name": name, "namespace": ns, "uid": uid(3, i),
        "resourceVersion": (9_120_031 + i).to_string(), "creationTimestamp": STAMP,
        "labels": {"app": app, "pod-template-hash": "7d9f8c6b5"}});
    if let Some(owner) = owner {
        meta["ownerReferences"] = json!([owner]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {
        "containers": [{"name": "app", "image": "ghcr.io/acme/app:1.4.2",
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
            "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"}],
        "restartPolicy": "Always", "schedulerName": "default-scheduler",
        "serviceAccountName": "default", "priority": 0, "dnsPolicy": "ClusterFirst",
        "tolerations": [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}]}})
}

fn unschedulable_status() -> Value {
    json!({"phase": "Pending", "qosClass": "Burstable", "conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "lastProbeTime": null, "lastTransitionTime": STAMP, "message": UNSCHEDULABLE}]})
}

fn node(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("node-{i:04}"),
        "uid": uid(4, i), "labels": {"kubernetes.io/hostname": format!("node-{i:04}"),
            "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m6i.xlarge",
            "topology.kubernetes.io/zone": format!("eu-west-1{}", ["a", "b", "c"][i % 3])}},
        "spec": {"podCIDR": format!("10.1.{}.0/24", i % 250)},
        "status": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "lastHeartbeatTime": STAMP, "lastTransitionTime": STAMP}]}})
}

fn event(ns: &str, pod: &str, i: usize, reason: &str, message: &str, component: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Event", "metadata": {
            "name": format!("{pod}.{:016x}", i), "namespace": ns, "uid": uid(5, i),
            "creationTimestamp": STAMP},
        "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1"},
        "reason": reason, "message": message, "type": "Warning", "count": 3,
        "firstTimestamp": STAMP, "lastTimestamp": "2026-03-03T10:07:11Z",
        "source": {"component": component}, "reportingComponent": component})
}

fn uid(kind: usize, i: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{i:012x}")
}
