//! The webhook receiver over real HTTP on loopback, publishing to a real nats-server.

use std::sync::Arc;
use std::time::Duration;

use lastmile_events::{CiEvent, CiEventKind, CloudEvent};
use lastmile_runtime::bus::Publisher;
use lastmile_tests::nats::NatsServer;
use lastmile_webhook::WebhookConfig;
use lastmile_webhook::verify::sign;
use reqwest::StatusCode;
use serde_json::Value;

use super::watcher::{bus, stored};

const SECRET: &[u8] = b"gh-webhook-secret-7f3a";
const TOKEN: &str = "glwh-token-91b2";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../events/webhook/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Receiver {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receiver(publisher: Arc<dyn Publisher>, max_body: usize) -> anyhow::Result<Receiver> {
    let cfg = WebhookConfig {
        github_secret: Some(SECRET.to_vec()),
        gitlab_token: Some(TOKEN.as_bytes().to_vec()),
        generic_secret: Some(SECRET.to_vec()),
        max_body,
        publish_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = lastmile_webhook::router(cfg, publisher);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Receiver { url, task })
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn github(
    r: &Receiver,
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: Option<String>,
) -> (StatusCode, Value) {
    let mut req = http()
        .post(format!("{}/webhook/github", r.url))
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .header("Content-Type", "application/json")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
    if let Some(s) = signature {
        req = req.header("X-Hub-Signature-256", s);
    }
    let resp = req.body(body.to_vec()).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn github_deliveries_valid_forged_unsigned_replayed_and_oversized() -> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let r = receiver(bus.clone(), 64 * 1024).await?;
    let body = fixture("github-workflow_run-completed-failure.json");

    let (status, reply) = github(&r, "workflow_run", "d-1", &body, Some(sign(SECRET, &body))).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    assert_eq!(reply["subject"], "lastmile.ci.github.run_failed");

    let (status, reply) = github(
        &r,
        "workflow_run",
        "d-2",
        &body,
        Some(sign(b"wrong secret", &body)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or("")
            .contains("does not match"),
        "{reply}"
    );

    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let (status, _) = github(
        &r,
        "workflow_run",
        "d-3",
        &tampered,
        Some(sign(SECRET, &body)),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, reply) = github(&r, "workflow_run", "d-4", &body, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or("")
            .contains("X-Hub-Signature-256")
    );

    let (status, reply) = github(&r, "workflow_run", "d-1", &body, Some(sign(SECRET, &body))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");

    let big = vec![b' '; 70 * 1024];
    let (status, _) = github(&r, "workflow_run", "d-5", &big, Some(sign(SECRET, &big))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let deploy = fixture("github-deployment-created.json");
    let (status, reply) = github(
        &r,
        "deployment",
        "d-6",
        &deploy,
        Some(sign(SECRET, &deploy)),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let (status, reply) = github(&r, "ping", "d-7", b"{}", Some(sign(SECRET, b"{}"))).await;
    assert_eq!(
        (status, reply["ignored"].as_bool()),
        (StatusCode::ACCEPTED, Some(true))
    );

    // Exactly the two accepted deliveries reached the stream.
    let s = stored(&js, "LASTMILE_CI").await?;
    assert_eq!(
        s.len(),
        2,
        "{:?}",
        s.iter().map(|m| &m.1).collect::<Vec<_>>()
    );
    let run = CloudEvent::<CiEvent>::from_slice(&s[0].2)?;
    assert_eq!(run.data.kind, CiEventKind::RunFailed);
    let tp = run.traceparent.clone().unwrap_or_default();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "the pipeline's trace is continued: {tp}"
    );
    assert_eq!(run.data.run.traceparent.as_deref(), Some(tp.as_str()));
    let dep = CloudEvent::<CiEvent>::from_slice(&s[1].2)?;
    assert_eq!(dep.data.kind, CiEventKind::DeployRequested);
    assert_eq!(dep.data.workloads.len(), 2);
    Ok(())
}

#[tokio::test]
async fn gitlab_and_generic_deliveries_and_a_bus_outage() -> anyhow::Result<()> {
    let mut nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let r = receiver(bus.clone(), 1 << 20).await?;
    let body = fixture("gitlab-pipeline-failed.json");
    let post = |token: Option<&'static str>, uuid: &'static str, body: Vec<u8>| {
        let url = format!("{}/webhook/gitlab", r.url);
        async move {
            let mut req = http()
                .post(url)
                .header("X-Gitlab-Event", "Pipeline Hook")
                .header("X-Gitlab-Event-UUID", uuid);
            if let Some(t) = token {
                req = req.header("X-Gitlab-Token", t);
            }
            req.body(body).send().await.unwrap().status()
        }
    };
    assert_eq!(
        post(Some(TOKEN), "u-1", body.clone()).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(Some("glwh-token-91b3"), "u-2", body.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(None, "u-3", body.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(Some(TOKEN), "u-1", body.clone()).await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        post(Some(TOKEN), "u-4", b"{not json".to_vec()).await,
        StatusCode::BAD_REQUEST
    );

    let generic = serde_json::to_vec(&serde_json::json!({
        "kind": "deploy_requested",
        "run": {"provider": "generic", "run_id": "jenkins-deploy-812", "pipeline": "deploy"},
        "workloads": [{"kind": "Job", "namespace": "ci", "name": "migrate", "images": ["ghcr.io/acme/migrate:1.4.2"]}],
        "at": "2026-11-26T10:00:00Z"
    }))?;
    let send_generic = |key: &'static str| {
        let url = format!("{}/webhook/generic", r.url);
        let body = generic.clone();
        async move {
            http()
                .post(url)
                .header("Idempotency-Key", key)
                .header("X-Lastmile-Signature-256", sign(SECRET, &body))
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(send_generic("g-1").await, StatusCode::ACCEPTED);

    // NATS down: 503 and the delivery id is forgotten, so the sender's retry is accepted.
    nats.kill();
    assert_eq!(send_generic("g-2").await, StatusCode::SERVICE_UNAVAILABLE);
    nats.restart().await?;
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..100 {
        status = send_generic("g-2").await;
        if status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::ACCEPTED);

    let subjects: Vec<String> = stored(&js, "LASTMILE_CI")
        .await?
        .into_iter()
        .map(|m| m.1)
        .collect();
    assert_eq!(
        subjects,
        vec![
            "lastmile.ci.gitlab.run_failed",
            "lastmile.ci.generic.deploy_requested",
            "lastmile.ci.generic.deploy_requested"
        ]
    );
    Ok(())
}

/// The watcher reads CI deploy events through a durable JetStream consumer: a deploy event
/// the webhook accepted while no watcher ran links the workload's incident once a watcher
/// starts, and a malformed event on the deploy subject is dead-lettered with its reason.
#[tokio::test]
async fn deploy_events_sent_while_the_watcher_is_down_are_read_when_it_starts_and_malformed_ones_are_dead_lettered()
-> anyhow::Result<()> {
    use lastmile_runtime::bus::{Bus, DLQ_REASON_HEADER, DLQ_SUBJECT_HEADER};
    use lastmile_tests::apiserver::FakeApiServer;
    use lastmile_watcher::CiConsumer;

    use super::watcher::{config, fixture as object, incidents, start_watcher_with_ci, wait_for};

    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let r = receiver(bus.clone(), 1 << 20).await?;
    let deploy = serde_json::to_vec(&serde_json::json!({
        "kind": "deploy_requested",
        "run": {"provider": "generic", "run_id": "jenkins-deploy-901", "pipeline": "deploy"},
        "workloads": [{"kind": "Deployment", "namespace": "shop", "name": "worker",
            "images": ["registry.example.com/team/worker:3.1.0"]}],
        "at": "2026-11-26T10:00:00Z"
    }))?;
    let status = http()
        .post(format!("{}/webhook/generic", r.url))
        .header("Idempotency-Key", "deploy-901")
        .header("X-Lastmile-Signature-256", sign(SECRET, &deploy))
        .body(deploy)
        .send()
        .await?
        .status();
    assert_eq!(status, StatusCode::ACCEPTED);
    // A sender that bypasses the webhook with a truncated body.
    js.publish(
        "lastmile.ci.generic.deploy_requested",
        r#"{"specversion":"1.0","type":"dev.lastmile.ci"#.into(),
    )
    .await?
    .await?;

    // The watcher starts only now: both were sent while it was down.
    let api = FakeApiServer::start().await?;
    api.apply_all(object("nodes.json"))?;
    api.apply_all(object("pod-image-inspect-error.json"))?;
    let stop = tokio_util::sync::CancellationToken::new();
    let consumer = CiConsumer::default();
    let (ci, ci_task) = consumer.start(bus.clone() as Arc<dyn Bus>, stop.clone());
    // The backlog is settled (the deploy event handed over, the bad one dead-lettered)
    // before the watch loop starts, so the incident's first publish can be linked.
    let ci_info = || async {
        let stream = js.get_stream("LASTMILE_CI").await?;
        let mut consumer = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>("watcher")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::Ok(consumer.info().await?.clone())
    };
    let mut settled = false;
    for _ in 0..100 {
        if let Ok(i) = ci_info().await
            && i.delivered.consumer_sequence >= 2
            && i.num_pending == 0
            && i.num_ack_pending == 0
        {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        settled,
        "the CI backlog was not consumed: {:?}",
        ci_info().await
    );
    let w = start_watcher_with_ci(&api, bus.clone(), config(), ci, stop.clone()).await?;

    let s = wait_for(
        &js,
        "LASTMILE_INCIDENTS",
        "the worker's incident linked to the deploy run",
        |s| {
            incidents(s).iter().any(|i| {
                i.owner.as_ref().is_some_and(|o| o.name == "worker")
                    && i.ci
                        .as_ref()
                        .is_some_and(|c| c.run_id == "jenkins-deploy-901")
            })
        },
    )
    .await?;
    let worker: Vec<_> = incidents(&s)
        .into_iter()
        .filter(|i| i.owner.as_ref().is_some_and(|o| o.name == "worker"))
        .collect();
    assert!(
        worker.iter().all(|i| i.ci.is_some()),
        "every publish is linked: {worker:#?}"
    );

    // The malformed one is on lastmile.dlq.watcher with the reason, once.
    let mut dlq = js.get_stream("LASTMILE_DLQ").await?;
    let mut letters = Vec::new();
    for _ in 0..100 {
        let last = dlq.info().await?.state.last_sequence;
        letters.clear();
        for seq in 1..=last {
            letters.push(dlq.get_raw_message(seq).await?);
        }
        if !letters.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(letters.len(), 1, "one dead letter");
    let letter = &letters[0];
    assert_eq!(letter.subject.as_str(), "lastmile.dlq.watcher");
    let header = |name: &str| {
        letter
            .headers
            .get(name)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default()
    };
    assert!(
        header(DLQ_REASON_HEADER).contains("not a CI CloudEvent"),
        "{}",
        header(DLQ_REASON_HEADER)
    );
    assert_eq!(
        header(DLQ_SUBJECT_HEADER),
        "lastmile.ci.generic.deploy_requested"
    );

    stop.cancel();
    w.task.await?;
    let report = ci_task.await??;
    assert_eq!(
        (report.processed, report.dead_lettered),
        (1, 1),
        "{report:?}"
    );
    // Acked and terminated: a restarted consumer reads neither again...
    let info = ci_info().await?;
    assert_eq!((info.num_pending, info.num_ack_pending), (0, 0));
    // ...so a restarted watcher re-reads what its correlator knew from the stream: the
    // deploy event, not the malformed one.
    let known =
        lastmile_watcher::ci::recent(&js, Duration::from_secs(3600), 100, Duration::from_secs(10))
            .await?;
    let runs: Vec<&str> = known.iter().map(|e| e.run.run_id.as_str()).collect();
    assert_eq!(runs, ["jenkins-deploy-901"]);
    Ok(())
}

/// A deploy event read after the workload's incident was first published links it: the
/// incident is published again, now naming the run.
#[tokio::test]
async fn deploy_event_read_after_the_first_publish_links_the_incident() -> anyhow::Result<()> {
    use lastmile_runtime::bus::Bus;
    use lastmile_tests::apiserver::FakeApiServer;
    use lastmile_watcher::CiConsumer;

    use super::watcher::{config, fixture as object, incidents, start_watcher_with_ci, wait_for};

    let nats = NatsServer::start().await?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let r = receiver(bus.clone(), 1 << 20).await?;
    let api = FakeApiServer::start().await?;
    api.apply_all(object("nodes.json"))?;
    api.apply_all(object("pod-image-inspect-error.json"))?;
    let stop = tokio_util::sync::CancellationToken::new();
    let (ci, _ci_task) = CiConsumer::default().start(bus.clone() as Arc<dyn Bus>, stop.clone());
    let w = start_watcher_with_ci(&api, bus.clone(), config(), ci, stop.clone()).await?;
    let worker = |s: &[super::watcher::Stored]| {
        incidents(s)
            .into_iter()
            .filter(|i| i.owner.as_ref().is_some_and(|o| o.name == "worker"))
            .collect::<Vec<_>>()
    };
    let first = wait_for(&js, "LASTMILE_INCIDENTS", "the worker's incident", |s| {
        !worker(s).is_empty()
    })
    .await?;
    assert!(worker(&first).iter().all(|i| i.ci.is_none()), "no run yet");

    let deploy = serde_json::to_vec(&serde_json::json!({
        "kind": "deploy_requested",
        "run": {"provider": "generic", "run_id": "jenkins-deploy-902", "pipeline": "deploy"},
        "workloads": [{"kind": "Deployment", "namespace": "shop", "name": "worker"}],
        "at": "2026-11-26T10:00:00Z"
    }))?;
    let status = http()
        .post(format!("{}/webhook/generic", r.url))
        .header("Idempotency-Key", "deploy-902")
        .header("X-Lastmile-Signature-256", sign(SECRET, &deploy))
        .body(deploy)
        .send()
        .await?
        .status();
    assert_eq!(status, StatusCode::ACCEPTED);
    let s = wait_for(&js, "LASTMILE_INCIDENTS", "the incident linked", |s| {
        worker(s).iter().any(|i| {
            i.ci.as_ref()
                .is_some_and(|c| c.run_id == "jenkins-deploy-902")
        })
    })
    .await?;
    let linked = worker(&s).into_iter().last().expect("linked");
    assert!(
        linked.ci.and_then(|c| c.traceparent).is_some(),
        "with the run's trace context"
    );
    stop.cancel();
    w.task.await?;
    Ok(())
}
