//! Issue 9 end to end: recorded objects served by the fake API server (real list/watch
//! protocol) → the watcher (in process) → a real nats-server → the real `lastmile function
//! workload` binary → diagnoses on NATS and evidence in a real S3 server (s3s-fs).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_events::{CloudEvent, Diagnosis, Incident, IncidentFamily, IncidentStatus};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::otlp::OtlpReceiver;
use lastmile_tests::s3::S3Server;
use lastmile_watcher::{TrackerConfig, WatchConfig};

use crate::watcher::{bus, config, fixture, incidents, start_watcher, stored, wait_for};

mod parity;
mod suspended;

const BUCKET: &str = "lastmile-evidence";
const SECRETS: [&str; 3] = ["pt-s3cr3t-1", "pw-s3cr3t-2", "tok-123"];
/// The CI run's span, as the pipeline put it on what it deployed.
const CI_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CI_SPAN: &str = "00f067aa0ba902b7";
const CI_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn live_config() -> WatchConfig {
    let base = config();
    WatchConfig {
        tracker: TrackerConfig {
            init_after: Duration::from_secs(1),
            ..base.tracker.clone()
        },
        ..base
    }
}

/// Collects diagnoses from `sub` until `enough` holds, then for `settle` more (to catch
/// duplicates), bounded by a minute.
async fn diagnoses(
    sub: &mut async_nats::Subscriber,
    enough: impl Fn(&[(String, Diagnosis)]) -> bool,
    settle: Duration,
) -> anyhow::Result<Vec<(String, Diagnosis)>> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut settled_at = None;
    loop {
        let until = settled_at.unwrap_or(deadline).min(deadline);
        match tokio::time::timeout_at(until, sub.next()).await {
            Ok(Some(msg)) => {
                let d = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
                out.push((msg.subject.to_string(), d));
                if settled_at.is_none() && enough(&out) {
                    settled_at = Some(tokio::time::Instant::now() + settle);
                }
            }
            Ok(None) => anyhow::bail!("diagnosis subscription ended"),
            Err(_) if settled_at.is_some() => return Ok(out),
            Err(_) => {
                let got: Vec<(&str, &str)> = out
                    .iter()
                    .map(|(_, d)| (d.class.as_str(), d.summary.as_str()))
                    .collect();
                anyhow::bail!("timed out waiting for diagnoses; got {got:#?}")
            }
        }
    }
}

#[tokio::test]
async fn init_deadlock_across_two_deployments_is_one_diagnosis_naming_both_and_a_job_past_its_deadline_is_deadline_exceeded()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let s3 = S3Server::start().await?;
    s3.create_bucket(BUCKET)?;
    let otlp = OtlpReceiver::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let client = async_nats::connect(nats.url()).await?;
    let mut sub = client.subscribe("lastmile.diagnosis.>").await?;

    let mut function = tokio::process::Command::new(lastmile_bin()?)
        .args(["function", "workload", "--nats-url", &nats.url()])
        .args(["--s3-bucket", BUCKET, "--s3-endpoint", &s3.endpoint()])
        .args(["--s3-force-path-style", "--s3-region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", s3.access_key())
        .env("AWS_SECRET_ACCESS_KEY", s3.secret_key())
        .env_remove("AWS_PROFILE")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("LASTMILE_KUBE", "off")
        .env("LASTMILE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;

    let api = FakeApiServer::start().await?;
    for f in [
        "nodes.json",
        "job-report-deadline.json",
        "pod-report-failed.json",
    ] {
        api.apply_all(fixture(f)).with_context(|| f.to_owned())?;
    }
    // The pipeline that deployed both Deployments annotated their pods with its run's trace.
    let mut deadlock = fixture("init-deadlock-services.json");
    for item in deadlock["items"].as_array_mut().into_iter().flatten() {
        if let Some(a) = item["metadata"]["annotations"].as_object_mut()
            && a.contains_key("lastmile.dev/ci-run")
        {
            a.insert("lastmile.dev/traceparent".into(), CI_TRACEPARENT.into());
        }
    }
    api.apply_all(deadlock)?;
    let w = start_watcher(&api, bus, live_config()).await?;

    let got = diagnoses(
        &mut sub,
        |ds| {
            ds.iter().any(|(_, d)| d.class.as_str() == "init.deadlock")
                && ds.iter().any(|(_, d)| d.class.as_str() == "init.blocked")
                && ds
                    .iter()
                    .any(|(_, d)| d.class.as_str() == "job.deadline_exceeded")
        },
        Duration::from_secs(3),
    )
    .await?;
    let deadlocks: Vec<&Diagnosis> = got
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d.class.as_str() == "init.deadlock")
        .collect();
    assert_eq!(deadlocks.len(), 1, "exactly one deadlock: {got:#?}");
    let d = deadlocks[0];
    assert!(
        d.summary.contains("deployment/shop/orders")
            && d.summary.contains("deployment/shop/payments"),
        "{}",
        d.summary
    );
    assert!(
        d.summary.contains("(Service shop/payments)")
            && d.summary.contains("(Service shop/orders)"),
        "resolved through the Services: {}",
        d.summary
    );
    assert!(d.definitive);
    assert_eq!(
        d.ci.as_ref().map(|c| c.run_id.as_str()),
        Some("7301"),
        "linked to the CI run that deployed it"
    );

    // The Init incidents carried the live state: the other pod, the Services, the slices.
    let stored_incidents = incidents(&stored(&js, "LASTMILE_INCIDENTS").await?);
    let init = stored_incidents
        .iter()
        .find(|i| i.family == IncidentFamily::Init && i.status == IncidentStatus::Open)
        .context("init incident")?;
    assert_eq!(init.snapshot.pods.len(), 2, "both pods waiting in init");
    assert_eq!(init.snapshot.services.len(), 3);
    assert_eq!(init.snapshot.endpoint_slices.len(), 3);
    let env_names: Vec<&str> = init
        .snapshot
        .pods
        .iter()
        .flat_map(|p| {
            p.spec
                .iter()
                .flat_map(|s| s.init_containers.iter().flatten())
        })
        .flat_map(|c| c.env.iter().flatten())
        .map(|e| e.name.as_str())
        .collect();
    assert!(env_names.contains(&"PAYMENTS_TOKEN") && env_names.contains(&"DB_PASSWORD"));

    // The Job incident: the Job, its failed pod's terminated state, the diagnosis.
    let job = stored_incidents
        .iter()
        .find(|i| i.family == IncidentFamily::Job)
        .context("job incident")?;
    assert!(job.job.is_some());
    let exit = job
        .snapshot
        .pods
        .iter()
        .flat_map(|p| {
            p.status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
        })
        .find_map(|c| c.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code));
    assert_eq!(exit, Some(137), "the pod's terminated state rides along");
    let deadline = got
        .iter()
        .map(|(_, d)| d)
        .find(|d| d.class.as_str() == "job.deadline_exceeded")
        .context("deadline diagnosis")?;
    assert_eq!(deadline.subject.name, "report");

    // Evidence for the deadlock in S3, with no secret anywhere in the bucket.
    let evidence = d
        .evidence_ref
        .as_ref()
        .context("deadlock without evidence")?;
    let files = s3.stored_files()?;
    assert!(
        files
            .iter()
            .any(|(p, _)| p.to_string_lossy().ends_with(&evidence.manifest_key)),
        "manifest {} stored: {:?}",
        evidence.manifest_key,
        files.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()
    );
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} in {}", path.display());
        }
    }
    for (_, _, payload) in stored(&js, "LASTMILE_INCIDENTS").await? {
        let text = String::from_utf8_lossy(&payload);
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} on the bus");
        }
    }

    // One trace: the CI run's, continued by the incident and the function's spans.
    assert_eq!(
        d.trace_id.as_deref(),
        Some(CI_TRACE),
        "the deadlock's trace"
    );
    let spans = otlp
        .wait_for_trace(
            CI_TRACE,
            &[
                "diagnose workload",
                "lastmile.evidence.store",
                "lastmile.diagnosis.publish",
            ],
            Duration::from_secs(30),
        )
        .await?;
    let ids: std::collections::BTreeSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    for s in &spans {
        assert!(
            s.parent_span_id == CI_SPAN || ids.contains(s.parent_span_id.as_str()),
            "span {} has a parent outside the CI run's trace: {spans:#?}",
            s.name
        );
    }
    let elsewhere: Vec<String> = otlp
        .spans()
        .into_iter()
        .filter(|s| s.name == "diagnose workload" && s.trace_id != CI_TRACE)
        .filter(|s| s.attr("k8s.namespace.name") == Some("shop"))
        .map(|s| s.trace_id)
        .collect();
    assert!(
        elsewhere.is_empty(),
        "every diagnosis of the deadlocked pods is in the CI run's trace: {elsewhere:?}"
    );

    w.stop.cancel();
    w.task.await?;
    function.kill().await?;
    Ok(())
}

#[tokio::test]
async fn running_pod_with_a_native_sidecar_is_no_incident_and_image_inspect_error_is_image_pull()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("nodes.json"))?;
    api.apply(fixture("pod-native-sidecar-running.json"))?;
    api.apply_all(fixture("pod-image-inspect-error.json"))?;
    let w = start_watcher(&api, bus, live_config()).await?;
    let s = wait_for(
        &js,
        "LASTMILE_INCIDENTS",
        "the ImageInspectError incident",
        |s| {
            incidents(s)
                .iter()
                .any(|i| i.family == IncidentFamily::ImagePull)
        },
    )
    .await?;
    let pull = incidents(&s)
        .into_iter()
        .find(|i| i.family == IncidentFamily::ImagePull)
        .context("image pull")?;
    assert_eq!(pull.owner.as_ref().map(|o| o.name.as_str()), Some("worker"));
    assert!(
        pull.events.iter().any(|e| e.reason == "InspectFailed"),
        "the first publish carries the kubelet's Event: {:#?}",
        pull.events
    );
    // Well past --init-after (1 s) and several ticks: the sidecar pod never becomes one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = incidents(&stored(&js, "LASTMILE_INCIDENTS").await?);
    let about_api: Vec<&Incident> = all
        .iter()
        .filter(|i| i.owner.as_ref().is_some_and(|o| o.name == "api"))
        .collect();
    assert!(about_api.is_empty(), "{about_api:#?}");
    assert_eq!(all.len(), 1, "{all:#?}");
    w.stop.cancel();
    w.task.await?;
    Ok(())
}

/// After a (re)start the watcher reads every initial list before it publishes: with the
/// node and Event lists slow, the first Pending publish still carries the nodes and the
/// scheduler's Event, and the first image-pull publish its kubelet Event.
#[tokio::test]
async fn first_publish_after_a_start_already_carries_nodes_and_events() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus1 = bus(&nats).await?;
    let js = bus1.jetstream().clone();
    let api = FakeApiServer::start().await?;
    for f in [
        "nodes.json",
        "job-migrate-active.json",
        "pods-job-pending.json",
        "pod-image-pull-backoff.json",
        "events.json",
    ] {
        api.apply_all(fixture(f)).with_context(|| f.to_owned())?;
    }
    api.slow_lists("/nodes", Duration::from_secs(2));
    api.slow_lists("/events", Duration::from_millis(1500));
    let w = start_watcher(&api, bus1, config()).await?;
    let s = wait_for(&js, "LASTMILE_INCIDENTS", "pending and image-pull", |s| {
        let incs = incidents(s);
        incs.iter().any(|i| i.family == IncidentFamily::Pending)
            && incs.iter().any(|i| i.family == IncidentFamily::ImagePull)
    })
    .await?;
    w.stop.cancel();
    w.task.await?;
    let mut first: BTreeMap<String, Incident> = BTreeMap::new();
    for inc in incidents(&s) {
        first.entry(inc.key.clone()).or_insert(inc);
    }
    let pending = first
        .values()
        .find(|i| {
            i.family == IncidentFamily::Pending
                && i.owner.as_ref().is_some_and(|o| o.name == "migrate")
        })
        .context("pending migrate")?;
    assert_eq!(
        pending.snapshot.nodes.len(),
        3,
        "nodes on the first publish"
    );
    assert!(
        pending
            .events
            .iter()
            .any(|e| e.reason == "FailedScheduling"),
        "{:#?}",
        pending.events
    );
    let pull = first
        .values()
        .find(|i| i.family == IncidentFamily::ImagePull)
        .context("image pull")?;
    assert!(
        !pull.events.is_empty(),
        "events on the first image-pull publish"
    );
    assert!(
        api.requests()
            .iter()
            .any(|r| r.starts_with("/api/v1/nodes") && !r.contains("watch=true")),
        "the node list was read"
    );
    Ok(())
}
