//! Issue 11 item 4, init-phase tracing end to end: the fake API server serves a pod whose
//! first two init containers finished and whose third is still running (stuck); the real
//! `lastmile watch` binary makes it an Init incident and exports, to the test kit's OTLP/gRPC
//! receiver, one span per init-container run, at the pod status' own times, as children of
//! the span whose `traceparent` the incident's message carries.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use lastmile_events::{CloudEvent, Incident, IncidentFamily};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::otlp::{OtlpReceiver, ReceivedSpan};

use super::{bus, fixture};

const FETCH_START: &str = "2026-11-26T10:00:02Z";
const FETCH_END: &str = "2026-11-26T10:00:09Z";
const MIGRATE_START: &str = "2026-11-26T10:00:10Z";
const MIGRATE_END: &str = "2026-11-26T10:03:40Z";
const WAIT_START: &str = "2026-11-26T10:03:41Z";

fn nanos(rfc3339: &str) -> anyhow::Result<u64> {
    let t = DateTime::parse_from_rfc3339(rfc3339)?.with_timezone(&Utc);
    Ok(u64::try_from(
        t.timestamp_nanos_opt().context("time out of range")?,
    )?)
}

/// The recorded init pod (`wait-db` running since 10:03:41) with two init containers before
/// it that finished.
fn pod_with_three_init_containers() -> anyhow::Result<serde_json::Value> {
    let mut pod = fixture("pod-init-running.json");
    let spec = pod["spec"]["initContainers"]
        .as_array_mut()
        .context("initContainers")?;
    spec.insert(
        0,
        serde_json::json!({"name": "fetch-schema", "image": "ghcr.io/acme/fetch-schema:2.0.1"}),
    );
    spec.insert(
        1,
        serde_json::json!({"name": "migrate-schema", "image": "ghcr.io/acme/migrate:1.4.2"}),
    );
    let statuses = pod["status"]["initContainerStatuses"]
        .as_array_mut()
        .context("initContainerStatuses")?;
    statuses.insert(
        0,
        serde_json::json!({
            "name": "fetch-schema", "image": "ghcr.io/acme/fetch-schema:2.0.1", "imageID": "",
            "ready": true, "restartCount": 0, "lastState": {},
            "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                     "startedAt": FETCH_START, "finishedAt": FETCH_END}}
        }),
    );
    statuses.insert(
        1,
        serde_json::json!({
            "name": "migrate-schema", "image": "ghcr.io/acme/migrate:1.4.2", "imageID": "",
            "ready": true, "restartCount": 1,
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                         "startedAt": "2026-11-26T10:00:09Z", "finishedAt": "2026-11-26T10:00:09Z"}},
            "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                     "startedAt": MIGRATE_START, "finishedAt": MIGRATE_END}}
        }),
    );
    statuses[2]["state"]["running"]["startedAt"] = WAIT_START.into();
    Ok(pod)
}

fn one<'a>(
    spans: &'a [ReceivedSpan],
    name: &str,
    previous: bool,
) -> anyhow::Result<&'a ReceivedSpan> {
    let previous = previous.to_string();
    spans
        .iter()
        .find(|s| s.name == name && s.attr("lastmile.init.previous_run") == Some(&previous))
        .with_context(|| format!("no span {name} (previous run: {previous})"))
}

#[tokio::test]
async fn init_containers_runs_are_spans_in_the_incidents_trace_at_their_status_times()
-> anyhow::Result<()> {
    let otlp = OtlpReceiver::start().await?;
    let nats = NatsServer::start().await?;
    let _bus = bus(&nats).await?;
    let client = async_nats::connect(nats.url()).await?;
    let mut sub = client.subscribe("lastmile.incident.>").await?;
    let api = FakeApiServer::start().await?;
    api.apply(pod_with_three_init_containers()?)?;
    let kubeconfig = api.kubeconfig()?;

    let _watch = tokio::process::Command::new(lastmile_bin()?)
        .args(["watch", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--nats-url", &nats.url(), "--init-after", "1s"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_SERVICE_NAME", "lastmile-watcher")
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .env("LASTMILE_LOG", "warn")
        .env_remove("NATS_URL")
        .env_remove("TRACEPARENT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;

    // The Init incident and the trace context its message carries.
    let msg = tokio::time::timeout(Duration::from_secs(60), sub.next())
        .await
        .context("no incident within a minute")?
        .context("subscription ended")?;
    let incident: Incident = CloudEvent::from_slice(&msg.payload)?.data;
    assert_eq!(incident.family, IncidentFamily::Init, "{incident:#?}");
    let traceparent = msg
        .headers
        .as_ref()
        .and_then(|h| h.get("traceparent"))
        .context("the incident message has no traceparent")?
        .to_string();
    let parts: Vec<&str> = traceparent.split('-').collect();
    let (trace_id, parent_id) = (parts[1].to_owned(), parts[2].to_owned());

    let spans = otlp
        .wait_for_trace(
            &trace_id,
            &["init fetch-schema", "init migrate-schema", "init wait-db"],
            Duration::from_secs(30),
        )
        .await?;
    let init: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.name.starts_with("init "))
        .collect();
    // fetch-schema, migrate-schema's failed first run and its second, wait-db.
    assert_eq!(init.len(), 4, "{init:#?}");
    assert!(
        init.iter()
            .all(|s| s.parent_span_id == parent_id && s.trace_id == trace_id),
        "not children of the incident's span {parent_id}: {init:#?}"
    );

    let fetch = one(&spans, "init fetch-schema", false)?;
    assert_eq!(
        (fetch.start_unix_nano, fetch.end_unix_nano),
        (nanos(FETCH_START)?, nanos(FETCH_END)?)
    );
    assert_eq!(fetch.attr("k8s.container.name"), Some("fetch-schema"));
    assert_eq!(
        fetch.attr("container.image.name"),
        Some("ghcr.io/acme/fetch-schema:2.0.1")
    );
    assert_eq!(fetch.attr("lastmile.init.exit_code"), Some("0"));
    assert_eq!(fetch.attr("lastmile.init.reason"), Some("Completed"));

    let migrate = one(&spans, "init migrate-schema", false)?;
    assert_eq!(
        (migrate.start_unix_nano, migrate.end_unix_nano),
        (nanos(MIGRATE_START)?, nanos(MIGRATE_END)?)
    );
    assert_eq!(migrate.attr("k8s.container.restart_count"), Some("1"));
    let failed = one(&spans, "init migrate-schema", true)?;
    assert_eq!(failed.attr("lastmile.init.exit_code"), Some("1"));
    assert_eq!(failed.attr("lastmile.init.reason"), Some("Error"));

    let wait = one(&spans, "init wait-db", false)?;
    assert_eq!(wait.start_unix_nano, nanos(WAIT_START)?);
    assert_eq!(wait.attr("lastmile.init.state"), Some("running"));
    // Still running: it ends when the watcher published, long after it started.
    assert!(
        wait.end_unix_nano > nanos(MIGRATE_END)? + 3_600_000_000_000,
        "{wait:#?}"
    );

    // Recorded once per incident and trace: later publishes of the same incident do not
    // repeat them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let again = otlp
        .spans()
        .into_iter()
        .filter(|s| s.name == "init fetch-schema")
        .count();
    assert_eq!(again, 1);
    Ok(())
}
