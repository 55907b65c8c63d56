//! `lastmile gate` end to end: the real binary, a real nats-server, the watcher against the
//! fake API server. A recorded deploy becomes an incident, a diagnosis is published for it,
//! and the gate exits non-zero with the cause; a healthy deploy exits 0.

use std::time::Duration;

use anyhow::Context;
use lastmile_events::envelope::stable_id;
use lastmile_events::{
    CloudEvent, Diagnosis, IncidentFamily, IncidentStatus, Remediation, Subject, subjects,
};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;

use super::watcher::{bus, config, fixture, incidents, start_watcher, wait_for};

pub(crate) fn gate(
    nats: &NatsServer,
    args: &[&str],
    summary: &std::path::Path,
) -> anyhow::Result<tokio::process::Child> {
    Ok(tokio::process::Command::new(lastmile_bin()?)
        .arg("gate")
        .args(args)
        .args(["--nats-url", &nats.url(), "--progress", "1s"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary)
        .env_remove("NATS_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?)
}

pub(crate) async fn finish(child: tokio::process::Child) -> anyhow::Result<(i32, String)> {
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .context("the gate did not exit")??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.code().unwrap_or(-1), text))
}

#[tokio::test]
async fn gate_exits_non_zero_with_the_cause_when_a_definitive_diagnosis_arrives()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("nodes.json"))?;
    api.apply_all(fixture("events.json"))?;
    let dir = tempfile::tempdir()?;
    let summary = dir.path().join("summary.md");
    let child = gate(
        &nats,
        &["--ci-run", "github/9876543210", "--timeout", "90s"],
        &summary,
    )?;

    // The deploy: a Deployment's pod that cannot pull its image, annotated with the run.
    api.apply(fixture("pod-image-pull-backoff.json"))?;
    let w = start_watcher(&api, bus.clone(), config()).await?;
    let s = wait_for(&js, "LASTMILE_INCIDENTS", "the image-pull incident", |s| {
        incidents(s)
            .iter()
            .any(|i| i.family == IncidentFamily::ImagePull && i.status == IncidentStatus::Open)
    })
    .await?;
    let incident = incidents(&s)
        .into_iter()
        .find(|i| i.family == IncidentFamily::ImagePull)
        .context("incident")?;
    assert_eq!(
        incident.ci.as_ref().map(|c| c.run_id.as_str()),
        Some("9876543210")
    );

    // What the image-pull function publishes for it.
    let mut d = Diagnosis::new(
        "image.not_found",
        0.97,
        "Tag 2.0.1 of ghcr.io/acme/api does not exist in the registry.",
        Subject {
            kind: "Pod".into(),
            namespace: Some("shop".into()),
            name: "api-7d9f8b6c5d-kq2xv".into(),
            container: Some("api".into()),
        },
    );
    d.definitive = true;
    d.incident = Some(incident.key.clone());
    d.ci = incident.ci.clone();
    d.trace_id = Some("0af7651916cd43dd8448eb211c80319c".into());
    d.evidence.push("ghcr.io/acme/api:2.0.1: not found".into());
    d.remediation.push(Remediation {
        description: "Deploy a tag that exists (2.0.0 is the newest pushed).".into(),
        command: Some("kubectl -n shop set image deployment/api api=ghcr.io/acme/api:2.0.0".into()),
    });
    let id = stable_id(&["diag", &incident.key]);
    let ce = CloudEvent::new(
        id.clone(),
        "/lastmile/function/image-pull",
        None,
        chrono::Utc::now(),
        d,
    );
    let mut msg = Message {
        subject: subjects::diagnosis("image.not_found"),
        payload: ce.to_vec()?.into(),
        ..Default::default()
    };
    msg.headers.insert(MSG_ID_HEADER.into(), id);
    bus.publish(msg).await?;

    let (code, out) = finish(child).await?;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("image.not_found") && out.contains("does not exist"),
        "{out}"
    );
    assert!(
        out.contains("$ kubectl -n shop set image deployment/api api=ghcr.io/acme/api:2.0.0"),
        "{out}"
    );
    assert!(
        out.contains("trace:      0af7651916cd43dd8448eb211c80319c"),
        "{out}"
    );
    assert!(
        out.contains("::error title=lastmile%3A image.not_found::"),
        "{out}"
    );
    let md = std::fs::read_to_string(&summary)?;
    assert!(
        md.contains("**image.not_found**")
            && md.contains("Trace ID: `0af7651916cd43dd8448eb211c80319c`"),
        "{md}"
    );
    w.stop.cancel();
    w.task.await?;
    Ok(())
}

#[tokio::test]
async fn gate_exits_zero_when_the_job_completes_and_three_on_timeout() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let api = FakeApiServer::start().await?;
    api.apply(fixture("job-migrate-active.json"))?;
    let w = start_watcher(&api, bus, config()).await?;
    let dir = tempfile::tempdir()?;
    let summary = dir.path().join("summary.md");
    let child = gate(
        &nats,
        &["--workload", "job/ci/migrate", "--timeout", "90s"],
        &summary,
    )?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut done = fixture("job-migrate-complete.json");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for c in done["status"]["conditions"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        c["lastTransitionTime"] = now.clone().into();
    }
    api.apply(done)?;
    let (code, out) = finish(child).await?;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("job/ci/migrate is ready: Job ci/migrate completed"),
        "{out}"
    );
    assert!(!out.contains("::error"), "{out}");

    let child = gate(
        &nats,
        &["--workload", "job/ci/never-deployed", "--timeout", "2s"],
        &summary,
    )?;
    let (code, out) = finish(child).await?;
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains(
            "::error title=lastmile: timeout::job/ci/never-deployed was not ready in time"
        ),
        "{out}"
    );

    let child = gate(&nats, &["--workload", "job/ci"], &summary)?;
    let (code, out) = finish(child).await?;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("expected KIND/NAMESPACE/NAME"), "{out}");
    w.stop.cancel();
    w.task.await?;
    Ok(())
}
