//! A Job left suspended, end to end: the recorded Job (Kueue's queue label, `spec.suspend:
//! true`, its `Suspended` condition, no pod) served by the fake API server → the watcher (in
//! process, Job patience 1 s) → a real nats-server → the real `lastmile function workload`
//! binary → a `job.stuck_active` diagnosis that says the Job is suspended, why Kueue has not
//! admitted it (the Warning event on its Workload) and how to resume it. No pod exists, so
//! only the Job's own watch can raise it.

use std::process::Stdio;
use std::time::Duration;

use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use lastmile_watcher::{TrackerConfig, WatchConfig};

use super::diagnoses;
use crate::watcher::{bus, config, fixture, start_watcher};

#[tokio::test]
async fn a_job_left_suspended_is_diagnosed_live_with_the_resume_patch() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let client = async_nats::connect(nats.url()).await?;
    let mut sub = client.subscribe("lastmile.diagnosis.>").await?;
    let evidence = tempfile::tempdir()?;
    let mut function = tokio::process::Command::new(lastmile_bin()?)
        .args(["function", "workload", "--nats-url", &nats.url()])
        .arg("--evidence-dir")
        .arg(evidence.path())
        .env("LASTMILE_KUBE", "off")
        .env("LASTMILE_LOG", "warn")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;

    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("job-train-suspended.json"))?;
    api.apply_all(fixture("workload-train-pending.json"))?;
    let base = config();
    let cfg = WatchConfig {
        tracker: TrackerConfig {
            job_stuck_after: Duration::from_secs(1),
            ..base.tracker.clone()
        },
        ..base
    };
    let w = start_watcher(&api, bus, cfg).await?;

    let got = diagnoses(
        &mut sub,
        |ds| {
            ds.iter()
                .any(|(_, d)| d.class.as_str() == "job.stuck_active")
        },
        Duration::from_secs(1),
    )
    .await?;
    let d = got
        .iter()
        .map(|(_, d)| d)
        .find(|d| d.class.as_str() == "job.stuck_active")
        .expect("collected above");
    assert_eq!(d.subject.name, "train");
    assert!(d.summary.contains("suspended"), "{}", d.summary);
    assert!(d.summary.contains("Kueue"), "{}", d.summary);
    // Kueue's own verdict on the Job's Workload, carried from its Warning event.
    assert!(
        d.summary
            .contains("has not admitted its Workload `job-train-5c1e7`")
            && d.summary.contains("insufficient unused quota for cpu"),
        "{}",
        d.summary
    );
    assert!(
        d.remediation.iter().any(
            |r| r.command.as_deref() == Some("kubectl describe workload -n ml job-train-5c1e7")
        ),
        "{:#?}",
        d.remediation
    );
    assert!(
        d.remediation.iter().any(|r| r.command.as_deref()
            == Some(
                "kubectl patch job -n ml train --type=merge -p '{\"spec\":{\"suspend\":false}}'"
            )),
        "{:#?}",
        d.remediation
    );
    w.stop.cancel();
    w.task.await?;
    function.kill().await?;
    Ok(())
}
