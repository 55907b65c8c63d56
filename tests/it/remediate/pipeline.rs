//! From a Job incident to a patched Job, through the real binaries.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use lastmile_events::{CloudEvent, subjects};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher};
use serde_json::Value;

use super::{Executor, setup};

/// The whole path: the watcher's Job incident → `lastmile function workload` (structured
/// remediation, published by the runtime's executor) → `lastmile remediate` → the Job
/// patched in the API server.
#[tokio::test]
async fn remediate_applies_what_the_workload_function_published() -> anyhow::Result<()> {
    let (nats, bus, api) = setup().await?;
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/examples/job-deadline-exceeded.json");
    let bytes = std::fs::read(&example)?;
    api.apply_all(serde_json::from_slice(&bytes)?)?;
    let incident = lastmile_intake::incidents_from_json(&bytes)?
        .into_iter()
        .next()
        .context("no incident in the example")?;
    let family = incident.family;
    let event = CloudEvent::new(
        "evt-db-migrate-1".to_owned(),
        "/lastmile/watcher",
        Some("job/ci/db-migrate".to_owned()),
        incident.last_seen,
        incident,
    );
    let evidence = tempfile::tempdir()?;
    let mut function = Command::new(lastmile_tests::bin::lastmile_bin()?)
        .args([
            "function",
            "workload",
            "--kube",
            "off",
            "--nats-url",
            &nats.url(),
        ])
        .arg("--evidence-dir")
        .arg(evidence.path())
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting lastmile function workload")?;
    let exec = Executor::spawn(&nats, &api, &["ci=job.ttl-seconds-after-finished"]);
    bus.publish(Message {
        subject: subjects::incident(family),
        headers: BTreeMap::from([(MSG_ID_HEADER.to_owned(), event.id.clone())]),
        payload: event.to_vec()?.into(),
    })
    .await?;
    let exec = exec?;
    let audits = exec.wait_audits(1).await;
    let _ = function.kill();
    let _ = function.wait();
    let audits = audits?;
    assert_eq!(audits.len(), 1, "one structured step: {audits:#?}");
    let audit = &audits[0];
    assert_eq!(audit["decision"], "applied", "{audit:#}");
    assert_eq!(audit["target"]["name"], "db-migrate");
    assert_eq!(
        audit["before"]["/spec/ttlSecondsAfterFinished"],
        Value::Null
    );
    assert_eq!(audit["after"]["/spec/ttlSecondsAfterFinished"], 86400);
    let live = api
        .get("batch/v1", "Job", "ci", "db-migrate")
        .context("job gone")?;
    assert_eq!(live["spec"]["ttlSecondsAfterFinished"], 86400);
    assert_eq!(
        live["spec"]["activeDeadlineSeconds"], 300,
        "nothing else changed"
    );
    Ok(())
}
