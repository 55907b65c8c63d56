//! Issue 12 end to end: a Deployment whose new ReplicaSet's pod crash-loops, served as
//! recorded objects by the fake API server (real list/watch protocol) → the watcher (in
//! process) → a real nats-server → the real `lastmile function runtime` binary → one
//! `runtime.crashloop` diagnosis → `lastmile gate --workload deployment/shop/checkout` exits 1
//! with the cause.
//!
//! The fake API server serves the Deployment (past its progress deadline), its ReplicaSet,
//! the pod and its Event: the pod's owner reference to the new ReplicaSet
//! `checkout-6d9f7b8c5` is what names the Deployment. Also: the stuck rollout's incident stays
//! open when its crash-looping pod is deleted and replaced, and the same flow for a
//! StatefulSet mid-rollout (`lastmile gate --workload statefulset/shop/ledger`).

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_events::{CloudEvent, Diagnosis, Incident, IncidentFamily, IncidentStatus};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;

use crate::watcher::{bus, config, fixture, incidents, start_watcher, wait_for};

/// The first `runtime.*` diagnosis on `sub`, then any other arriving within `settle`
/// (to catch duplicates), bounded by a minute.
async fn runtime_diagnoses(
    sub: &mut async_nats::Subscriber,
    settle: Duration,
) -> anyhow::Result<Vec<Diagnosis>> {
    let mut out: Vec<Diagnosis> = Vec::new();
    let mut deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, sub.next()).await {
            Ok(Some(msg)) => {
                let d = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
                if d.class.as_str().starts_with("runtime.") {
                    if out.is_empty() {
                        deadline = tokio::time::Instant::now() + settle;
                    }
                    out.push(d);
                }
            }
            Ok(None) => anyhow::bail!("diagnosis subscription ended"),
            Err(_) if !out.is_empty() => return Ok(out),
            Err(_) => anyhow::bail!("no runtime diagnosis within a minute"),
        }
    }
}

/// Every incident published on `sub` until one satisfies `last` (included), bounded by
/// `patience`.
async fn incidents_until(
    sub: &mut async_nats::Subscriber,
    patience: Duration,
    last: impl Fn(&Incident) -> bool,
) -> anyhow::Result<Vec<Incident>> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, sub.next()).await {
            Ok(Some(msg)) => {
                let i = CloudEvent::<Incident>::from_slice(&msg.payload)?.data;
                let done = last(&i);
                out.push(i);
                if done {
                    return Ok(out);
                }
            }
            Ok(None) => anyhow::bail!("incident subscription ended"),
            Err(_) => anyhow::bail!("no such incident within {patience:?}: saw {out:#?}"),
        }
    }
}

/// `lastmile function runtime` on `nats`, its evidence in `evidence` (a temp dir).
fn runtime_function(
    nats: &NatsServer,
    evidence: &std::path::Path,
) -> anyhow::Result<tokio::process::Child> {
    Ok(tokio::process::Command::new(lastmile_bin()?)
        .args(["function", "runtime", "--nats-url", &nats.url()])
        .env("LASTMILE_EVIDENCE_DIR", evidence)
        .env("LASTMILE_KUBE", "off")
        .env("LASTMILE_LOG", "warn")
        .env_remove("NATS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?)
}

/// `lastmile gate --workload WORKLOAD` on `nats`.
fn gate(nats: &NatsServer, workload: &str) -> anyhow::Result<tokio::process::Child> {
    Ok(tokio::process::Command::new(lastmile_bin()?)
        .args(["gate", "--workload", workload])
        .args([
            "--timeout",
            "45s",
            "--progress",
            "1s",
            "--nats-url",
            &nats.url(),
        ])
        .env_remove("NATS_URL")
        .env_remove("GITHUB_ACTIONS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?)
}

/// The gate's exit code and everything it printed (it times out on its own after 45 s).
async fn gate_result(gate: tokio::process::Child) -> anyhow::Result<(Option<i32>, String)> {
    let out = tokio::time::timeout(Duration::from_secs(60), gate.wait_with_output())
        .await
        .context("the gate did not exit")??;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.code(), printed))
}

#[tokio::test]
async fn crash_looping_rollout_is_one_crashloop_diagnosis_and_the_workload_gate_fails_with_it()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let client = async_nats::connect(nats.url()).await?;
    let mut sub = client.subscribe("lastmile.diagnosis.>").await?;

    // Evidence goes to a temp dir, never into the working directory.
    let evidence = tempfile::tempdir()?;
    let _function = runtime_function(&nats, evidence.path())?;
    let gate = gate(&nats, "deployment/shop/checkout")?;

    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("nodes.json"))?;
    // The Deployment (Progressing=False), its new ReplicaSet, the crash-looping pod, its Event.
    api.apply_all(fixture("deployment-crashloop.json"))?;
    let w = start_watcher(&api, bus, config()).await?;

    // The watcher's incident: Runtime, on the pod, owned by the Deployment.
    let stored = wait_for(&js, "LASTMILE_INCIDENTS", "the runtime incident", |s| {
        incidents(s)
            .iter()
            .any(|i| i.family == IncidentFamily::Runtime && i.status == IncidentStatus::Open)
    })
    .await?;
    let incident = incidents(&stored)
        .into_iter()
        .find(|i| i.family == IncidentFamily::Runtime)
        .context("incident")?;
    let owner = incident.owner.as_ref().context("owner")?;
    assert_eq!(
        (
            owner.kind.as_str(),
            owner.namespace.as_deref(),
            owner.name.as_str()
        ),
        ("Deployment", Some("shop"), "checkout")
    );
    assert_eq!(incident.subject.name, "checkout-6d9f7b8c5-7xk2q");

    // The function's diagnosis: one crash loop, naming the container and how it exits.
    let got = runtime_diagnoses(&mut sub, Duration::from_secs(3)).await?;
    // Read the stream again once the diagnoses settled, so a later publish is seen too.
    let after = wait_for(&js, "LASTMILE_INCIDENTS", "the incidents", |_| true).await?;
    // The Deployment is served too, past its progress deadline (Progressing=False): the
    // stalled rollout is the same incident as its crash-looping pod's, not a second one.
    let keys: std::collections::BTreeSet<String> = incidents(&after)
        .into_iter()
        .filter(|i| i.family == IncidentFamily::Runtime)
        .map(|i| i.key)
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let classes: Vec<&str> = got.iter().map(|d| d.class.as_str()).collect();
    assert_eq!(classes, ["runtime.crashloop"], "{got:#?}");
    let d = &got[0];
    assert_eq!(d.incident.as_deref(), Some(incident.key.as_str()));
    assert_eq!(d.subject.container.as_deref(), Some("checkout"), "{d:#?}");
    let text = format!("{} {}", d.summary, d.evidence.join("\n"));
    assert!(text.contains("exit code 1"), "{text}");
    assert!(text.contains("PAYMENTS_API_URL"), "{text}");

    // The gate on the Deployment fails with that cause.
    let (code, printed) = gate_result(gate).await?;
    assert_eq!(code, Some(1), "{printed}");
    assert!(printed.contains("runtime.crashloop"), "{printed}");
    assert!(printed.contains("PAYMENTS_API_URL"), "{printed}");

    w.stop.cancel();
    w.task.await?;
    Ok(())
}

/// The fixture's crash-looping pod, renamed as the ReplicaSet's replacement for it, waiting
/// in `ContainerCreating` (not a suspect of its own).
fn replacement_pod(name: &str) -> anyhow::Result<serde_json::Value> {
    let list = fixture("deployment-crashloop.json");
    let mut pod = list["items"]
        .as_array()
        .context("items")?
        .iter()
        .find(|i| i["kind"] == "Pod")
        .context("the fixture's pod")?
        .clone();
    pod["metadata"]["name"] = name.into();
    pod["metadata"]["uid"] = format!("uid-{name}").into();
    pod["metadata"]["creationTimestamp"] = chrono::Utc::now().to_rfc3339().into();
    pod["status"]["containerStatuses"][0]["restartCount"] = 0.into();
    pod["status"]["containerStatuses"][0]["lastState"] = serde_json::json!({});
    pod["status"]["containerStatuses"][0]["state"] =
        serde_json::json!({"waiting": {"reason": "ContainerCreating"}});
    Ok(pod)
}

#[tokio::test]
async fn stuck_rollout_stays_open_when_its_crash_looping_pod_is_deleted_and_replaced()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let client = async_nats::connect(nats.url()).await?;
    let mut sub = client.subscribe("lastmile.diagnosis.>").await?;
    let mut incidents_sub = client.subscribe("lastmile.incident.>").await?;
    let evidence = tempfile::tempdir()?;
    let _function = runtime_function(&nats, evidence.path())?;

    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("nodes.json"))?;
    // The Deployment past its progress deadline and its crash-looping pod.
    api.apply_all(fixture("deployment-crashloop.json"))?;
    let w = start_watcher(&api, bus, config()).await?;
    let got = runtime_diagnoses(&mut sub, Duration::from_secs(1)).await?;
    assert!(
        got.iter().any(|d| d.class.as_str() == "runtime.crashloop"),
        "{got:#?}"
    );
    let key = got[0]
        .incident
        .clone()
        .context("the diagnosis names its incident")?;

    // Someone deletes the crash-looping pod; the ReplicaSet replaces it with one still
    // creating its container. The Deployment is still past its progress deadline.
    let deleted_at = chrono::Utc::now();
    api.delete("v1", "Pod", "shop", "checkout-6d9f7b8c5-7xk2q")?;
    api.apply(replacement_pod("checkout-6d9f7b8c5-r4m8n")?)?;
    // The watcher re-publishes the incident once the pod left it (last_seen moves on). Read
    // from a plain subscription: the function's consumer may already have taken the
    // messages out of the stream.
    let mine = incidents_until(&mut incidents_sub, Duration::from_secs(30), |i| {
        i.key == key && i.last_seen >= deleted_at
    })
    .await?;
    let mine: Vec<_> = mine.into_iter().filter(|i| i.key == key).collect();
    assert!(
        mine.iter().all(|i| i.status == IncidentStatus::Open),
        "the stuck rollout's incident was resolved: {mine:#?}"
    );

    // A gate started now still fails with the cause: the incident is open, so its
    // diagnosis still counts.
    let (code, printed) = gate_result(gate(&nats, "deployment/shop/checkout")?).await?;
    assert_eq!(code, Some(1), "{printed}");
    assert!(printed.contains("runtime.crashloop"), "{printed}");
    assert!(printed.contains("PAYMENTS_API_URL"), "{printed}");

    w.stop.cancel();
    w.task.await?;
    Ok(())
}

#[tokio::test]
async fn crash_looping_statefulset_rollout_fails_its_gate_with_the_cause() -> anyhow::Result<()> {
    // The StatefulSet mid-rollout (1 of 3 on the update revision), its crash-looping
    // ledger-0 and the kubelet's BackOff Event.
    lagging_rollout_fails_its_gate("statefulset-crashloop.json", "StatefulSet", "ledger").await
}

#[tokio::test]
async fn crash_looping_daemonset_rollout_fails_its_gate_with_the_cause() -> anyhow::Result<()> {
    // The DaemonSet mid-rollout (1 of 3 nodes updated, 2 ready), its crash-looping pod on
    // node-a and the kubelet's BackOff Event.
    lagging_rollout_fails_its_gate("daemonset-crashloop.json", "DaemonSet", "log-shipper").await
}

/// A StatefulSet or DaemonSet (no progress deadline) whose rollout lags past
/// `rollout_after` with a crash-looping pod: one Runtime incident owned by the workload,
/// and `lastmile gate --workload KIND/shop/NAME` exits 1 with the cause.
async fn lagging_rollout_fails_its_gate(
    fixture_name: &str,
    kind: &str,
    name: &str,
) -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let evidence = tempfile::tempdir()?;
    let _function = runtime_function(&nats, evidence.path())?;
    let gate = gate(&nats, &format!("{}/shop/{name}", kind.to_ascii_lowercase()))?;

    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("nodes.json"))?;
    api.apply_all(fixture(fixture_name))?;
    let mut cfg = config();
    cfg.tracker.rollout_after = Duration::from_millis(500);
    let w = start_watcher(&api, bus, cfg).await?;

    let stored = wait_for(&js, "LASTMILE_INCIDENTS", "the runtime incident", |s| {
        incidents(s)
            .iter()
            .any(|i| i.family == IncidentFamily::Runtime && i.status == IncidentStatus::Open)
    })
    .await?;
    let incident = incidents(&stored)
        .into_iter()
        .find(|i| i.family == IncidentFamily::Runtime)
        .context("incident")?;
    let owner = incident.owner.as_ref().context("owner")?;
    assert_eq!((owner.kind.as_str(), owner.name.as_str()), (kind, name));

    let (code, printed) = gate_result(gate).await?;
    assert_eq!(code, Some(1), "{printed}");
    assert!(printed.contains("runtime.crashloop"), "{printed}");
    assert!(printed.contains(name), "{printed}");
    assert!(printed.contains("PAYMENTS_API_URL"), "{printed}");

    // The lagging rollout (past rollout_after) and its pod are one incident.
    let after = wait_for(&js, "LASTMILE_INCIDENTS", "the incidents", |_| true).await?;
    let keys: std::collections::BTreeSet<String> = incidents(&after)
        .into_iter()
        .filter(|i| i.family == IncidentFamily::Runtime)
        .map(|i| i.key)
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");

    w.stop.cancel();
    w.task.await?;
    Ok(())
}
