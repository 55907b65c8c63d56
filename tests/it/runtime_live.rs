//! Issue 12 end to end: a Deployment whose new ReplicaSet's pod crash-loops, served as
//! recorded objects by the fake API server (real list/watch protocol) → the watcher (in
//! process) → a real nats-server → the real `lastmile function runtime` binary → one
//! `runtime.crashloop` diagnosis → `lastmile gate --workload deployment/shop/checkout` exits 1
//! with the cause.
//!
//! The fake API server serves Pods and Events, not Deployments or ReplicaSets (the watcher
//! does not watch them either): the pod's owner reference to the new ReplicaSet
//! `checkout-6d9f7b8c5` is what names the Deployment.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_events::{CloudEvent, Diagnosis, IncidentFamily, IncidentStatus};
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
    let _function = tokio::process::Command::new(lastmile_bin()?)
        .args(["function", "runtime", "--nats-url", &nats.url()])
        .env("LASTMILE_EVIDENCE_DIR", evidence.path())
        .env("LASTMILE_KUBE", "off")
        .env("LASTMILE_LOG", "warn")
        .env_remove("NATS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let gate = tokio::process::Command::new(lastmile_bin()?)
        .args(["gate", "--workload", "deployment/shop/checkout"])
        .args([
            "--timeout",
            "90s",
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
        .spawn()?;

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
    let out = tokio::time::timeout(Duration::from_secs(60), gate.wait_with_output())
        .await
        .context("the gate did not exit")??;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains("runtime.crashloop"), "{printed}");
    assert!(printed.contains("PAYMENTS_API_URL"), "{printed}");

    w.stop.cancel();
    w.task.await?;
    Ok(())
}
