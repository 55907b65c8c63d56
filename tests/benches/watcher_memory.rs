//! Watcher memory and throughput: the `lastmile watch` binary against the fake API server
//! serving 10,000 pods and 50,000 events, publishing to a real nats-server.
//!
//! Run: `cargo bench -p lastmile-tests --bench watcher_memory`. It measures the **release**
//! build of `lastmile` (what production runs), building it with `cargo build --release -p
//! lastmile` first; set `LASTMILE_BIN` to measure another build. A debug build's resident
//! memory is ~20 MiB higher for about the same heap: its unoptimised code, mapped from the
//! binary, is resident too (the "file-backed" part printed below: ~45 MiB against ~23).
//!
//! Prints the watcher's peak resident memory (VmHWM of its process, goal < 64 MiB) split into
//! anonymous memory (heap, stacks) and file-backed pages (the binary's code), the time to
//! digest the initial lists, the watch events per second it processes live, and the
//! incidents it published. The live rate is bounded by how fast this bench feeds the fake
//! API server, not by the watcher.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::nats::NatsServer;
use serde_json::{Value, json};

const PODS: usize = 10_000;
const EVENTS: usize = 50_000;
const JOBS_PENDING: usize = 100;
const PODS_PER_PENDING_JOB: usize = 10;
const NODES: usize = 200;
const LIVE_EVENTS: usize = 20_000;

fn node(i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("node-{i}"), "labels": {"kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"}},
        "spec": {}, "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}, "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True"}],
        "images": (0..30).map(|k| json!({"names": [format!("registry.example/app-{k}@sha256:{:064x}", k)], "sizeBytes": 50_000_000})).collect::<Vec<_>>()}})
}

fn pod(i: usize, pending_job: Option<usize>) -> Value {
    let ns = format!("team-{}", i % 50);
    let (ns, owner, phase, node) = match pending_job {
        Some(j) => (
            "ci".to_owned(),
            json!({"apiVersion": "batch/v1", "kind": "Job", "name": format!("job-{j}"), "uid": format!("uid-job-{j}"), "controller": true}),
            "Pending",
            Value::Null,
        ),
        None => (
            ns,
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app-{}-5d8f7c9b6", i % 400), "uid": "u", "controller": true}),
            "Running",
            json!(format!("node-{}", i % NODES)),
        ),
    };
    let mut spec = json!({"containers": [{"name": "app", "image": format!("registry.example/app-{}:1.{}", i % 30, i % 7),
        "env": [{"name": "MODE", "value": "production"}], "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}}],
        "restartPolicy": "Always", "serviceAccountName": "default",
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]});
    let mut status = json!({"phase": phase, "qosClass": "Burstable"});
    if node.is_string() {
        spec["nodeName"] = node;
        status["conditions"] = json!([{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}]);
        status["containerStatuses"] = json!([{"name": "app", "ready": true, "restartCount": 0, "image": "x", "imageID": "y", "state": {"running": {"startedAt": "2026-11-26T10:00:00Z"}}}]);
    } else {
        status["conditions"] = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/200 nodes are available: 200 Insufficient cpu."}]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("pod-{i}"), "namespace": ns, "uid": format!("uid-pod-{i}"),
        "creationTimestamp": "2026-11-26T10:00:00Z", "labels": {"app": format!("app-{}", i % 400), "pod-template-hash": "5d8f7c9b6"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x".repeat(600)},
        "ownerReferences": [owner], "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {"f:status": {}}}]},
        "spec": spec, "status": status})
}

fn event(i: usize, pending_pods: usize) -> Value {
    let (ns, pod, reason, ty, msg) = if i.is_multiple_of(5) {
        let p = i % pending_pods;
        (
            "ci".to_owned(),
            format!("pod-{p}"),
            "FailedScheduling",
            "Warning",
            format!(
                "0/200 nodes are available: 200 Insufficient cpu. attempt {}",
                i % 3
            ),
        )
    } else {
        let p = pending_pods + i % (PODS - pending_pods);
        (
            format!("team-{}", p % 50),
            format!("pod-{p}"),
            ["Scheduled", "Pulled", "Created", "Started"][i % 4],
            "Normal",
            format!("Started container app ({i})"),
        )
    };
    json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": format!("{pod}.{i:x}"), "namespace": ns},
        "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod, "apiVersion": "v1"},
        "reason": reason, "message": msg, "type": ty, "count": 1, "source": {"component": "kubelet"},
        "firstTimestamp": "2026-11-26T10:00:00Z", "lastTimestamp": "2026-11-26T10:00:00Z"})
}

fn job(j: usize) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": format!("job-{j}"), "namespace": "ci", "uid": format!("uid-job-{j}")},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}], "restartPolicy": "Never"}}},
        "status": {"active": PODS_PER_PENDING_JOB, "startTime": chrono::Utc::now().to_rfc3339()}})
}

fn vm(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `LASTMILE_BIN`, else the release build (built now; cheap when fresh).
fn binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("LASTMILE_BIN") {
        return Ok(PathBuf::from(p));
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
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
        .status()
        .context("running cargo to build the release lastmile")?;
    if !status.success() {
        bail!("cargo build --release -p lastmile failed: {status}");
    }
    Ok(target.join("release").join("lastmile"))
}

/// Resident memory of `pid` now, KiB: `(total, anonymous, file-backed)`.
fn rss(pid: u32) -> (u64, u64, u64) {
    (
        vm(pid, "VmRSS:").unwrap_or(0),
        vm(pid, "RssAnon:").unwrap_or(0),
        vm(pid, "RssFile:").unwrap_or(0),
    )
}

/// The highest resident memory sampled so far, with its split.
#[derive(Default)]
struct Peak((u64, u64, u64));

impl Peak {
    fn sample(&mut self, pid: u32) {
        let now = rss(pid);
        if now.0 > self.0.0 {
            self.0 = now;
        }
    }
}

async fn incidents_stored(js: &async_nats::jetstream::Context) -> u64 {
    match js.get_stream("LASTMILE_INCIDENTS").await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

async fn bench() -> anyhow::Result<()> {
    let bin = binary()?;
    let nats = NatsServer::start().await?;
    let bus = NatsBus::connect(&NatsConfig::with_url(nats.url())).await?;
    bus.ensure_streams().await?;
    let js = bus.jetstream().clone();
    let api = FakeApiServer::start().await?;
    let pending = JOBS_PENDING * PODS_PER_PENDING_JOB;
    for i in 0..NODES {
        api.apply(node(i))?;
    }
    for j in 0..JOBS_PENDING {
        api.apply(job(j))?;
    }
    for i in 0..PODS {
        api.apply(pod(i, (i < pending).then_some(i / PODS_PER_PENDING_JOB)))?;
    }
    for i in 0..EVENTS {
        api.apply(event(i, pending))?;
    }
    let kubeconfig = api.kubeconfig()?;
    let log = std::env::temp_dir().join(format!("lastmile-watch-bench-{}.log", std::process::id()));
    let started = Instant::now();
    let mut child = tokio::process::Command::new(&bin)
        .args(["watch", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--nats-url", &nats.url(), "--pending-after", "1s"])
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .kill_on_drop(true)
        .spawn()
        .context("starting lastmile watch")?;
    let pid = child.id().context("no pid")?;

    // Phase 1: initial lists → one incident per pending Job.
    let mut peak = Peak::default();
    let digest = loop {
        peak.sample(pid);
        if incidents_stored(&js).await >= JOBS_PENDING as u64 {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the watcher did not publish {JOBS_PENDING} incidents in 5 minutes");
        }
        if let Some(status) = child.try_wait()? {
            bail!("the watcher exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Phase 2: live events through the watch stream; the last one is a FailedCreate on a new
    // Job, which opens an incident at once, so its publication marks the end.
    let live_start = Instant::now();
    let before = incidents_stored(&js).await;
    for i in 0..LIVE_EVENTS {
        let mut e = event(EVENTS + i, pending);
        if i == LIVE_EVENTS - 1 {
            e = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "job-final.1", "namespace": "ci"},
                "involvedObject": {"kind": "Job", "namespace": "ci", "name": "job-final", "apiVersion": "batch/v1"},
                "reason": "FailedCreate", "type": "Warning", "count": 1, "source": {"component": "job-controller"},
                "message": "Error creating: pods \"job-final-x\" is forbidden: exceeded quota: ci, requested: requests.cpu=1, used: requests.cpu=8, limited: requests.cpu=8"});
        }
        api.apply(e)?;
    }
    let live = loop {
        peak.sample(pid);
        if incidents_stored(&js).await > before {
            break live_start.elapsed();
        }
        if live_start.elapsed() > Duration::from_secs(300) {
            bail!(
                "the live events were not processed in 5 minutes; watcher log: {}",
                log.display()
            );
        }
        if let Some(status) = child.try_wait()? {
            bail!("the watcher exited: {status}; log: {}", log.display());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let hwm = vm(pid, "VmHWM:").unwrap_or(peak.0.0);
    let published = incidents_stored(&js).await;
    child.kill().await.ok();

    let objects = NODES + JOBS_PENDING + PODS + EVENTS;
    println!(
        "watcher_memory: {PODS} pods, {EVENTS} events, {NODES} nodes, {JOBS_PENDING} pending Jobs x {PODS_PER_PENDING_JOB} pods"
    );
    println!("  binary: {}", bin.display());
    println!(
        "  peak resident memory (VmHWM): {:.1} MiB (goal < 64 MiB)",
        hwm as f64 / 1024.0
    );
    let (_, anon, file) = peak.0;
    println!(
        "  at the highest sample ({:.1} MiB): {:.1} MiB anonymous (heap, stacks), {:.1} MiB file-backed (code)",
        peak.0.0 as f64 / 1024.0,
        anon as f64 / 1024.0,
        file as f64 / 1024.0
    );
    println!(
        "  all {JOBS_PENDING} pending-Job incidents published {:.2} s after start ({objects} objects served; Events may still be listing)",
        digest.as_secs_f64()
    );
    println!(
        "  {LIVE_EVENTS} live watch events (queued behind the initial Event list) processed in {:.2} s ({:.0} events/s)",
        live.as_secs_f64(),
        LIVE_EVENTS as f64 / live.as_secs_f64()
    );
    println!("  incidents stored in JetStream: {published}");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: both run it.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}
