//! Benchmark: one pending pod against a synthetic snapshot of 5,000 nodes and 50,000 pods.
//!
//! Prints indexing time, analysis time per pod after indexing, and peak memory (VmHWM from
//! /proc/self/status). Run: `cargo bench -p lastmile-fn-pending --bench pending`.

use std::time::{Duration, Instant};

use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily, ObjectRef};
use lastmile_fn_pending::SnapshotIndex;
use serde_json::json;

const NODES: usize = 5_000;
const PODS_PER_NODE: usize = 10;

fn synthetic_snapshot() -> ClusterSnapshot {
    let mut s = ClusterSnapshot::default();
    let zones = ["us-central1-a", "us-central1-b", "us-central1-c"];
    for i in 0..NODES {
        let pool = format!("pool-{}", i % 10);
        let mut spec = json!({"providerID": format!("gce://acme/{}/gke-{pool}-{i}", zones[i % 3])});
        if i % 10 == 7 {
            spec["taints"] = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
        }
        if i % 97 == 0 {
            spec["unschedulable"] = json!(true);
        }
        let (cpu, mem) = if i % 10 < 5 {
            ("3920m", "15Gi")
        } else {
            ("7910m", "31Gi")
        };
        s.nodes.push(
            serde_json::from_value(json!({
                "metadata": {"name": format!("gke-{pool}-{i:05}"), "labels": {
                    "cloud.google.com/gke-nodepool": pool, "kubernetes.io/hostname": format!("gke-{pool}-{i:05}"),
                    "topology.kubernetes.io/zone": zones[i % 3], "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                    "node.kubernetes.io/instance-type": if i % 10 < 5 { "e2-standard-4" } else { "e2-standard-8" }
                }},
                "spec": spec,
                "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": "110", "ephemeral-storage": "47060071478"}}
            }))
            .expect("node"),
        );
        for j in 0..PODS_PER_NODE {
            let mut pod = json!({
                "metadata": {"name": format!("app-{i}-{j}"), "namespace": format!("team-{}", j % 7), "labels": {"app": format!("app-{}", (i + j) % 50)}},
                "spec": {"nodeName": format!("gke-{pool}-{i:05}"), "containers": [
                    {"name": "main", "resources": {"requests": {"cpu": format!("{}m", 100 + (i * 7 + j * 13) % 300), "memory": format!("{}Mi", 256 + (i * 11 + j * 17) % 1024)}}},
                    {"name": "sidecar", "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}}
                ]},
                "status": {"phase": "Running"}
            });
            if j == 0 && i % 5 == 0 {
                pod["spec"]["containers"][0]["ports"] =
                    json!([{"containerPort": 9100, "hostPort": 9100}]);
            }
            if j == 1 && i % 50 == 0 {
                pod["spec"]["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}});
            }
            s.pods.push(serde_json::from_value(pod).expect("pod"));
        }
    }
    s
}

fn pending_incident() -> Incident {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("team-1".into()),
        name: "migrate-x7k2p".into(),
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: "Job".into(),
        namespace: Some("team-1".into()),
        name: "migrate".into(),
        ..Default::default()
    };
    let mut i = Incident::new(
        IncidentFamily::Pending,
        subject,
        Some(owner),
        chrono::DateTime::UNIX_EPOCH,
    );
    i.pod = Some(
        serde_json::from_value(json!({
            "metadata": {"name": "migrate-x7k2p", "namespace": "team-1", "labels": {"app": "migrate"}},
            "spec": {
                "containers": [{"name": "migrate", "resources": {"requests": {"cpu": "7500m", "memory": "12Gi"}}, "ports": [{"containerPort": 9100, "hostPort": 9100}]}],
                "initContainers": [{"name": "wait", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}],
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
                "affinity": {
                    "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}},
                    "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "migrate"}}, "topologyKey": "kubernetes.io/hostname"}]}
                },
                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "migrate"}}}]
            },
            "status": {"phase": "Pending"}
        }))
        .expect("pod"),
    );
    i
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent; keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let t0 = Instant::now();
    let snapshot = synthetic_snapshot();
    let build_snapshot = t0.elapsed();
    let rss_snapshot = peak_rss_kib().unwrap_or(0);
    let incident = pending_incident();

    let rounds = if quick { 1 } else { 5 };
    let mut index_times = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let index = SnapshotIndex::build(&snapshot);
        index_times.push(t.elapsed());
        std::hint::black_box(index.nodes.len());
    }
    let index = SnapshotIndex::build(&snapshot);
    let rss_index = peak_rss_kib().unwrap_or(0);

    let iterations = if quick { 2 } else { 100 };
    let mut analyse = Vec::new();
    let mut first = None;
    for _ in 0..iterations {
        let t = Instant::now();
        let (causes, analysis) = lastmile_fn_pending::combine::decide(&incident, Some(&index));
        analyse.push(t.elapsed());
        if first.is_none() {
            first = Some((
                causes.first().map(|c| (c.class.clone(), c.summary.clone())),
                analysis.map(|a| (a.fitting, a.groups.len())),
            ));
        }
    }
    // Where the time goes: the per-node checks and the grouping alone.
    let pod = incident.pod.as_deref().expect("pod");
    let needs = lastmile_fn_pending::fit::PodNeeds::from_pod(pod, Some(&index)).expect("needs");
    let mut checks = Vec::new();
    let mut grouping = Vec::new();
    for _ in 0..iterations {
        let t = Instant::now();
        let report = lastmile_fn_pending::fit::check_all(&needs, &index);
        checks.push(t.elapsed());
        let t = Instant::now();
        let groups = lastmile_fn_pending::fit::group(&report, &index, &needs);
        grouping.push(t.elapsed());
        std::hint::black_box(groups.len());
    }
    let workload = lastmile_fn_pending::remedy::Workload {
        kind: "Job".into(),
        namespace: "team-1".into(),
        name: "migrate".into(),
    };
    let mut state_times = Vec::new();
    for _ in 0..iterations {
        let t = Instant::now();
        let a = lastmile_fn_pending::state::analyse(&needs, &index, &workload);
        state_times.push(t.elapsed());
        std::hint::black_box(a.causes.len());
    }
    let mut full = Vec::new();
    for _ in 0..(iterations / 4).max(1) {
        let t = Instant::now();
        let out = lastmile_fn_pending::diagnose(&incident, &snapshot).expect("diagnose");
        full.push(t.elapsed());
        std::hint::black_box(out.diagnoses.len());
    }
    println!("pending bench: {NODES} nodes, {} pods", snapshot.pods.len());
    println!("  snapshot deserialisation (setup):   {build_snapshot:?}");
    println!(
        "  indexing (median of {rounds}):            {:?}",
        median(index_times)
    );
    println!(
        "  analysis per pod after indexing:     median {:?}, max {:?} ({iterations} runs)",
        median(analyse.clone()),
        analyse.iter().max().copied().unwrap_or_default()
    );
    println!("    state::analyse alone: median {:?}", median(state_times));
    println!(
        "    of which per-node checks (check_all): median {:?}; grouping: median {:?}",
        median(checks),
        median(grouping)
    );
    println!(
        "  full diagnose incl. index + evidence: median {:?}",
        median(full)
    );
    println!(
        "  peak RSS (VmHWM): after snapshot {} MiB, after index {} MiB, end {} MiB",
        rss_snapshot / 1024,
        rss_index / 1024,
        peak_rss_kib().unwrap_or(0) / 1024
    );
    if let Some((cause, groups)) = first {
        println!("  first cause: {cause:?}; fitting nodes / groups: {groups:?}");
    }
}
