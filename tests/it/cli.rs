//! The `lastmile` binary as users meet it: help, bad configuration, the embedded default.

use std::process::Output;

use lastmile_tests::bin::lastmile_bin;

fn run(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Output> {
    let mut cmd = std::process::Command::new(lastmile_bin()?);
    cmd.args(args)
        .env_remove("NATS_URL")
        .env_remove("AWS_LAMBDA_RUNTIME_API");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(cmd.output()?)
}

fn examples() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../events/examples").to_owned()
}

#[test]
fn every_command_has_help() -> anyhow::Result<()> {
    let top = run(&["--help"], &[])?;
    assert!(top.status.success());
    let text = String::from_utf8(top.stdout)?;
    // Every subcommand listed in the top-level help answers --help itself.
    let commands: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|c| c != "help")
        .collect();
    assert!(
        commands.contains(&"replay".to_owned()) && commands.contains(&"function".to_owned()),
        "{commands:?}"
    );
    for c in &commands {
        let out = run(&[c, "--help"], &[])?;
        assert!(out.status.success(), "{c} --help failed");
        assert!(
            String::from_utf8(out.stdout)?.contains("Usage:"),
            "{c} --help has no usage"
        );
    }
    Ok(())
}

#[test]
fn unknown_function_exits_2_with_one_line_cause() -> anyhow::Result<()> {
    let out = run(&["function", "no-such-function"], &[])?;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr)?;
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("unknown function \"no-such-function\"") && err.contains("pending"),
        "{err}"
    );
    Ok(())
}

#[test]
fn invalid_host_options_are_rejected_before_connecting() -> anyhow::Result<()> {
    let out = run(
        &["function", "pending"],
        &[
            ("LASTMILE_CONCURRENCY", "0"),
            ("NATS_URL", "nats://127.0.0.1:1"),
        ],
    )?;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr)?;
    assert!(err.contains("concurrency"), "names the setting: {err}");
    assert!(
        !err.contains("cannot connect"),
        "failed before connecting: {err}"
    );
    Ok(())
}

#[test]
fn documented_example_config_parses_and_only_the_connection_fails() -> anyhow::Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/config/function.env");
    let text = std::fs::read_to_string(path)?;
    let mut env: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow::anyhow!("malformed line in {path}"))?;
    // Point the connections at closed local ports so the test needs no network.
    for (k, v) in &mut env {
        match k.as_str() {
            "NATS_URL" => *v = "nats://127.0.0.1:1".into(),
            "OTEL_EXPORTER_OTLP_ENDPOINT" => *v = "http://127.0.0.1:1".into(),
            _ => {}
        }
    }
    env.push(("LASTMILE_S3_ENDPOINT".into(), "http://127.0.0.1:1".into()));
    let dir = tempfile::tempdir()?;
    let evidence = dir.path().join("ev").display().to_string();
    env.push(("LASTMILE_EVIDENCE_DIR".into(), evidence));
    env.push(("NATS_CONNECT_TIMEOUT".into(), "1s".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = run(&["function", "pending"], &pairs)?;
    let err = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot connect to NATS"),
        "configuration accepted, connection refused: {err}"
    );
    Ok(())
}

#[test]
fn replay_prints_taxonomy_json_for_the_recorded_incidents() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let evidence = dir.path().join("evidence");
    let out = run(
        &[
            "replay",
            &examples(),
            "--format",
            "json",
            "--evidence-dir",
            &evidence.display().to_string(),
        ],
        &[],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let diagnoses = report["diagnoses"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no diagnoses array"))?;
    let classes: Vec<&str> = diagnoses
        .iter()
        .filter_map(|d| d["class"].as_str())
        .collect();
    for expected in [
        "scheduling.insufficient_resources",
        "admission.quota_exceeded",
        "image.auth",
        "job.deadline_exceeded",
        "init.blocked",
    ] {
        assert!(
            classes.contains(&expected),
            "{expected} missing from {classes:?}"
        );
    }
    for d in diagnoses {
        for field in [
            "class",
            "confidence",
            "summary",
            "subject",
            "evidence",
            "remediation",
        ] {
            assert!(d.get(field).is_some(), "{field} missing in {d}");
        }
        // Every diagnosis's manifest is on disk, in the local evidence directory.
        let key = d["evidence_ref"]["manifest_key"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no manifest"))?;
        assert!(evidence.join(key).is_file(), "{key} not written");
    }
    // Replaying again is idempotent: same diagnoses, same evidence files.
    let count = walk(&evidence)?;
    let again = run(
        &[
            "replay",
            &examples(),
            "--format",
            "json",
            "--evidence-dir",
            &evidence.display().to_string(),
        ],
        &[],
    )?;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&again.stdout)?,
        report
    );
    assert_eq!(walk(&evidence)?, count);
    Ok(())
}

#[test]
fn replay_of_a_file_that_is_not_an_incident_exits_2() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, b"{\"hello\": ")?;
    let out = run(&["replay", &bad.display().to_string()], &[])?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)?.contains("bad.json"));
    Ok(())
}

fn walk(dir: &std::path::Path) -> anyhow::Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        n += if path.is_dir() { walk(&path)? } else { 1 };
    }
    Ok(n)
}

/// `lastmile explain BIG | head -1`: the reader goes away after one line; lastmile ends
/// quietly with 141 (as a shell reports SIGPIPE), no panic message on stderr.
#[test]
fn a_closed_stdout_ends_quietly_instead_of_panicking() -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let pods: Vec<serde_json::Value> = (0..300)
        .map(|i| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("debug-{i:05}"), "namespace": "dev",
                    "uid": format!("00000000-0000-0000-0000-{i:012}"),
                    "creationTimestamp": "2026-03-03T10:00:00Z"},
                "spec": {"containers": [{"name": "app", "image": "busybox:1.36",
                    "resources": {"requests": {"cpu": "64"}}}]},
                "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled",
                    "status": "False", "reason": "Unschedulable",
                    "message": "0/3 nodes are available: 3 Insufficient cpu.",
                    "lastTransitionTime": "2026-03-03T10:00:01Z"}]}
            })
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("pods.json");
    std::fs::write(
        &input,
        serde_json::to_vec(&serde_json::json!({"kind": "List", "items": pods}))?,
    )?;
    let mut child = Command::new(lastmile_bin()?)
        .args(["explain", input.to_str().unwrap_or_default()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped");
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first)?;
    // The reader is dropped here: the pipe is closed with most of the output unread.
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!first.is_empty(), "the first line arrived");
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    Ok(())
}

/// `lastmile explain pods.json --snapshot cluster.json`: the pod's 6Gi memory request is
/// the LimitRange's default (its Job's template sets none), which the snapshot's LimitRange
/// and nodes show; the diagnosis names the LimitRange, in text and in `details.provenance`.
#[test]
fn explain_with_a_snapshot_says_the_request_came_from_the_limit_range() -> anyhow::Result<()> {
    use serde_json::json;
    let input = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "batch/v1", "kind": "Job",
         "metadata": {"name": "migrate", "namespace": "ci", "uid": "uid-job", "creationTimestamp": "2026-03-03T10:00:00Z"},
         "spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never",
             "containers": [{"name": "migrate", "image": "registry.example.com/migrate:2.1.0"}]}}},
         "status": {"active": 1, "startTime": "2026-03-03T10:00:00Z"}},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "migrate-x7k2p", "namespace": "ci", "uid": "uid-pod",
             "creationTimestamp": "2026-03-03T10:00:01Z", "labels": {"job-name": "migrate"},
             "annotations": {"kubernetes.io/limit-ranger": "LimitRanger plugin set: cpu, memory request for container migrate; cpu, memory limit for container migrate"},
             "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "migrate", "uid": "uid-job", "controller": true}]},
         "spec": {"restartPolicy": "Never", "containers": [{"name": "migrate", "image": "registry.example.com/migrate:2.1.0",
             "resources": {"requests": {"cpu": "250m", "memory": "6Gi"}, "limits": {"cpu": "1", "memory": "8Gi"}}}]},
         "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
             "reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient memory.",
             "lastTransitionTime": "2026-03-03T10:00:02Z"}]}}
    ]});
    let node = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
            "status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "110"},
                "capacity": {"cpu": "4", "memory": "4Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}]}})
    };
    let cluster = json!({"apiVersion": "v1", "kind": "List", "items": [
        node("n0"), node("n1"), node("n2"),
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "ci"},
         "spec": {"limits": [{"type": "Container", "default": {"cpu": "1", "memory": "8Gi"},
             "defaultRequest": {"cpu": "250m", "memory": "6Gi"}}]}}
    ]});
    let dir = tempfile::tempdir()?;
    let pods = dir.path().join("pods.json");
    let snap = dir.path().join("cluster.json");
    std::fs::write(&pods, serde_json::to_vec(&input)?)?;
    std::fs::write(&snap, serde_json::to_vec(&cluster)?)?;
    let (pods, snap) = (
        pods.to_str().unwrap_or_default(),
        snap.to_str().unwrap_or_default(),
    );

    let out = run(
        &["explain", pods, "--snapshot", snap, "--format", "json"],
        &[],
    )?;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let first = &report["diagnoses"][0];
    assert_eq!(
        first["class"], "scheduling.insufficient_resources",
        "{report:#}"
    );
    let prov = first["details"]["provenance"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        prov.iter().any(|p| p["container"] == "migrate"
            && p["kind"] == "requests"
            && p["resource"] == "memory"
            && p["value"] == "6Gi"
            && p["source"] == json!({"kind": "limit_range_default", "limit_range": "defaults"})),
        "{first:#}"
    );

    let out = run(&["explain", pods, "--snapshot", snap], &[])?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "the pod's values come from LimitRange defaults's defaults: the manifest sets none"
        ),
        "{text}"
    );
    assert!(
        text.contains("$ kubectl edit limitrange defaults -n ci"),
        "{text}"
    );
    Ok(())
}
