//! `lastmile explain` on runtime failures (issue 12), through the real binary with every
//! function registered: pasted describe text and a `kubectl get -o json` recording become
//! Runtime incidents, the runtime function answers first, and a Secret's value in the
//! recording never reaches the output. Also the real reports of the runtime cases through
//! the whole binary, where every other function competes for the first place.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use lastmile_tests::bin::lastmile_bin;
use serde_json::{Value, json};

fn explain(input: &[u8]) -> anyhow::Result<(Output, Value)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("input");
    std::fs::write(&path, input)?;
    let out = Command::new(lastmile_bin()?)
        .args(["explain", &path.to_string_lossy(), "--format", "json"])
        .env_remove("NATS_URL")
        .output()?;
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Ok((out, json))
}

fn first(report: &Value) -> &Value {
    &report["diagnoses"][0]
}

const DESCRIBE: &str = "Name:             api-7c9b6d8f45-p2xnq
Namespace:        shop
Node:             ip-10-0-3-41.eu-west-1.compute.internal/10.0.3.41
Status:           Running
Controlled By:  ReplicaSet/api-7c9b6d8f45
Containers:
  api:
    Image:          ghcr.io/acme/api:2.14.0
    Port:           8080/TCP
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
      Started:      Tue, 03 Mar 2026 09:30:02 +0000
      Finished:     Tue, 03 Mar 2026 09:30:03 +0000
    Ready:          False
    Restart Count:  7
Conditions:
  Type              Status
  Ready             False
Events:
  Type     Reason     Age                  From     Message
  ----     ------     ----                 ----     -------
  Warning  BackOff    2m (x31 over 9m)     kubelet  Back-off restarting failed container api in pod api-7c9b6d8f45-p2xnq_shop(0b9f5c7e)
---- kubectl logs --previous ----
2026-03-03T09:30:02Z INFO starting api 2.14.0
2026-03-03T09:30:03Z ERROR migrate: Dirty database version 12. Fix and force version.
";

#[test]
fn explain_describe_text_and_logs_of_a_crash_loop() -> anyhow::Result<()> {
    let (out, report) = explain(DESCRIBE.as_bytes())?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = first(&report);
    assert_eq!(d["class"], "runtime.crashloop", "{report:#}");
    assert_eq!(d["function"], "runtime");
    let summary = d["summary"].as_str().unwrap();
    assert!(
        summary.contains("exit code 1") && summary.contains("failed migration"),
        "{summary}"
    );
    assert!(
        d["incident"].as_str().unwrap().starts_with("runtime.shop."),
        "{report:#}"
    );
    let commands: Vec<&str> = d["remediation"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["command"].as_str())
        .collect();
    assert!(
        commands
            .contains(&"kubectl logs -n shop pod/api-7c9b6d8f45-p2xnq -c api --previous --tail=50"),
        "{commands:?}"
    );
    assert!(
        commands.contains(&"kubectl rollout undo -n shop deployment/api"),
        "{commands:?}"
    );
    Ok(())
}

#[test]
fn explain_pod_json_recording_checks_config_against_the_cluster_and_prints_no_secret()
-> anyhow::Result<()> {
    let secret_value = "c3VwZXItc2VjcmV0LXRva2VuLTQyNDI="; // base64 of a token
    let doc = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "api-7c9b6d8f45-p2xnq", "namespace": "shop", "creationTimestamp": "2026-03-03T09:00:00Z",
            "labels": {"app": "api", "pod-template-hash": "7c9b6d8f45"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7c9b6d8f45", "uid": "rs-1", "controller": true}]},
         "spec": {"nodeName": "node-b", "containers": [{"name": "api", "image": "ghcr.io/acme/api:2.14.0",
            "env": [{"name": "REGISTRY_TOKEN", "valueFrom": {"secretKeyRef": {"name": "registry-token", "key": "token"}}}]}]},
         "status": {"phase": "Pending", "containerStatuses": [{"name": "api", "image": "ghcr.io/acme/api:2.14.0", "imageID": "",
            "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"registry-token\" not found"}}}]}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
         "metadata": {"name": "registry-token", "namespace": "platform", "creationTimestamp": "2026-02-01T00:00:00Z"},
         "data": {"token": secret_value}},
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "api.1", "namespace": "shop"},
         "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "api-7c9b6d8f45-p2xnq"},
         "reason": "Failed", "type": "Warning", "count": 9, "source": {"component": "kubelet"},
         "message": "Error: secret \"registry-token\" not found", "lastTimestamp": "2026-03-03T09:10:00Z"}
    ]});
    let (out, report) = explain(&serde_json::to_vec(&doc)?)?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = first(&report);
    assert_eq!(d["class"], "runtime.config_missing", "{report:#}");
    assert!(
        d["summary"].as_str().unwrap().contains(
            "Secret shop/registry-token does not exist in namespace shop; it exists in platform"
        ),
        "{report:#}"
    );
    assert!(
        d["remediation"][0]["command"]
            .as_str()
            .unwrap()
            .starts_with("kubectl get secret registry-token -n platform -o json"),
        "{report:#}"
    );
    assert_eq!(
        d["incident"]
            .as_str()
            .unwrap()
            .split('.')
            .take(4)
            .collect::<Vec<_>>(),
        ["runtime", "shop", "deployment", "api"]
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains(secret_value), "{printed}");
    Ok(())
}

#[test]
fn every_host_knows_the_runtime_function() -> anyhow::Result<()> {
    let out = Command::new(lastmile_bin()?)
        .args(["function", "no-such-function"])
        .env_remove("NATS_URL")
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("runtime"), "{err}");
    Ok(())
}

/// The 75 real reports through `lastmile explain` with every function: the first
/// diagnosis among all of them must be one the thread accepts. Prints the figures by class.
#[test]
fn explain_real_runtime_reports_first_diagnosis_accuracy() -> anyhow::Result<()> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../functions/runtime/tests/cases/real-failures-runtime.jsonl"
    );
    let mut by_class: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    for line in std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let case: Value = serde_json::from_str(line)?;
        let accept: Vec<&str> = case["accept"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let (_, report) = explain(case["input"].as_str().unwrap().as_bytes())?;
        let got = first(&report)["class"]
            .as_str()
            .unwrap_or("(none)")
            .to_owned();
        let entry = by_class.entry(accept[0].to_owned()).or_default();
        entry.1 += 1;
        if accept.contains(&got.as_str()) {
            entry.0 += 1;
        } else {
            misses.push(format!("{}: got {got}, accept {accept:?}", case["id"]));
        }
    }
    let (hits, total) = by_class
        .values()
        .fold((0, 0), |(h, t), (ch, ct)| (h + ch, t + ct));
    eprintln!(
        "lastmile explain, first diagnosis over {total} real runtime reports: {hits}/{total}"
    );
    for (class, (h, t)) in &by_class {
        eprintln!("  {class:<28} {h:>2}/{t:<2}");
    }
    eprintln!("misses: {misses:#?}");
    assert!(hits * 100 >= total * 90, "{hits}/{total}: {misses:#?}");
    Ok(())
}
