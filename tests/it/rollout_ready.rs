//! Issue 12, the happy path: `lastmile gate --workload deployment/NS/NAME` exits 0 when the
//! rollout completes, as `kubectl rollout status` would.
//!
//! The fake API server serves a Deployment mid-rollout (1 of 2 updated replicas available);
//! the real `lastmile watch` binary watches it and publishes its rollout state on
//! `lastmile.k8s.deployment.shop` through a real nats-server; the real `lastmile gate`
//! reads it and keeps waiting. Then the Deployment's status reaches complete: the watcher
//! publishes that, and the gate exits 0 with kubectl's line.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_events::rollout::Rollout;
use lastmile_events::{CloudEvent, K8sObservation};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use serde_json::{Value, json};

/// The Deployment `shop/web` at generation 2 with `available` of its 2 updated replicas
/// available (and, like a real one, a pod template the observation must not carry).
fn web(available: i32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "5f0c1a2e-web",
            "generation": 2, "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate"},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "ghcr.io/acme/web:2.1.0"}]}}},
        "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": available, "availableReplicas": available,
            "conditions": [{"type": "Progressing", "status": "True",
                "reason": if available == 2 { "NewReplicaSetAvailable" } else { "ReplicaSetUpdated" }}]}
    })
}

/// The next rollout decision published on `sub` (bounded).
async fn next_rollout(sub: &mut async_nats::Subscriber) -> anyhow::Result<Rollout> {
    let msg = tokio::time::timeout(Duration::from_secs(30), sub.next())
        .await
        .context("no rollout observation within 30 s")?
        .context("subscription ended")?;
    let ce = CloudEvent::<K8sObservation>::from_slice(&msg.payload)?;
    assert_eq!(ce.subject.as_deref(), Some("deployment/shop/web"));
    let text = String::from_utf8_lossy(&msg.payload);
    assert!(!text.contains("ghcr.io/acme/web"), "compact: {text}");
    let (_, rollout) = ce.data.rollout().context("not a rollout observation")?;
    Ok(rollout)
}

#[tokio::test]
async fn deployment_whose_rollout_completes_passes_the_workload_gate() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    crate::watcher::bus(&nats).await?;
    let client = async_nats::connect(nats.url()).await?;
    let mut rollouts = client.subscribe("lastmile.k8s.deployment.>").await?;

    let api = FakeApiServer::start().await?;
    api.apply(web(1))?;
    let kubeconfig = api.kubeconfig()?;
    let bin = lastmile_bin()?;
    let _watch = tokio::process::Command::new(&bin)
        .arg("watch")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--nats-url", &nats.url()])
        .env("LASTMILE_LOG", "warn")
        .env_remove("NATS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut gate = tokio::process::Command::new(&bin)
        .args(["gate", "--workload", "deployment/shop/web"])
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
        .env_remove("TRACEPARENT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;

    // Mid-rollout: published as waiting, and the gate waits.
    let first = next_rollout(&mut rollouts).await?;
    assert_eq!(
        first.text(),
        "Waiting for deployment \"web\" rollout to finish: 1 of 2 updated replicas are available..."
    );
    // Past the gate's catch-up for observations it read through its lookback.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        gate.try_wait()?.is_none(),
        "the gate exited on an incomplete rollout"
    );

    // The second replica becomes available: complete.
    api.apply(web(2))?;
    let second = next_rollout(&mut rollouts).await?;
    let published = Instant::now();
    assert!(second.is_complete(), "{second:?}");

    let out = tokio::time::timeout(Duration::from_secs(60), gate.wait_with_output())
        .await
        .context("the gate did not exit")??;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "rollout complete published -> gate exited: {} ms",
        published.elapsed().as_millis()
    );
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("deployment \"web\" successfully rolled out"),
        "{printed}"
    );
    Ok(())
}
