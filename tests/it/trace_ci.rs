//! Issue 9, one trace from the CI run: the real `lastmile webhook`, `lastmile watch`,
//! `lastmile function workload` and `lastmile gate` binaries, a real nats-server, the fake
//! API server and the test kit's OTLP receiver. A CI deploy event enters through the
//! webhook; the Job it deploys misses its deadline; the watcher's incident, the function's
//! diagnosis and the gate's verdict all land in the trace the webhook's server span started,
//! and no exported span names a parent the receiver does not have.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context as _;
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::otlp::OtlpReceiver;
use lastmile_webhook::verify::sign;
use tokio::process::{Child, Command};

use crate::watcher::{bus, fixture};

const SECRET: &str = "generic-hook-secret-5d1e";
const RUN: &str = "jenkins-report-4411";
const RUN_URL: &str = "https://ci.example.com/job/report/4411/";
const COMMIT: &str = "9fceb02d0ae598e95dc970b74767f19372d61af8";

/// `lastmile ARGS` exporting spans to `otlp`, logs discarded.
fn lastmile(otlp: &OtlpReceiver, service: &str, args: &[&str]) -> anyhow::Result<Command> {
    let mut cmd = Command::new(lastmile_bin()?);
    cmd.args(args)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.endpoint())
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_SERVICE_NAME", service)
        .env("LASTMILE_LOG", "warn")
        .env_remove("NATS_URL")
        .env_remove("TRACEPARENT")
        .kill_on_drop(true);
    Ok(cmd)
}

fn spawn_quiet(mut cmd: Command) -> anyhow::Result<Child> {
    Ok(cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Polls `url` until it answers 200 (bounded).
async fn ready(http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if let Ok(r) = http.get(url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("{url} never answered")
}

/// True once the watcher's durable CI consumer has acknowledged `n` deploy events.
async fn ci_acked(js: &async_nats::jetstream::Context, n: u64) -> bool {
    let Ok(stream) = js.get_stream("LASTMILE_CI").await else {
        return false;
    };
    let Ok(mut c) = stream
        .get_consumer::<async_nats::jetstream::consumer::pull::Config>("watcher")
        .await
    else {
        return false;
    };
    c.info()
        .await
        .is_ok_and(|i| i.ack_floor.consumer_sequence >= n)
}

#[tokio::test]
async fn ci_webhook_watcher_function_and_gate_are_one_trace_without_orphan_parents()
-> anyhow::Result<()> {
    let nats = NatsServer::start().await?;
    let js = bus(&nats).await?.jetstream().clone();
    let otlp = OtlpReceiver::start().await?;
    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("nodes.json"))?;
    let evidence = tempfile::tempdir()?;
    let kubeconfig = api.kubeconfig()?;
    let kubeconfig = kubeconfig.to_str().context("kubeconfig path")?;
    let nats_url = nats.url();
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");

    let mut webhook = lastmile(&otlp, "lastmile-webhook", &["webhook"])?;
    webhook
        .args(["--listen", &listen, "--nats-url", &nats_url])
        .env("LASTMILE_GENERIC_SECRET", SECRET);
    let _webhook = spawn_quiet(webhook)?;
    let mut watch = lastmile(&otlp, "lastmile-watcher", &["watch"])?;
    watch.args(["--kubeconfig", kubeconfig, "--nats-url", &nats_url]);
    let _watch = spawn_quiet(watch)?;
    let mut function = lastmile(&otlp, "lastmile-workload", &["function", "workload"])?;
    function
        .args(["--nats-url", &nats_url])
        .env("LASTMILE_EVIDENCE_DIR", evidence.path())
        .env("LASTMILE_KUBE", "off");
    let _function = spawn_quiet(function)?;

    // The pipeline announces its deploy (no traceparent of its own: the webhook's server
    // span is the root of the run's trace).
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    ready(&http, &format!("http://{listen}/healthz")).await?;
    let deploy = serde_json::to_vec(&serde_json::json!({
        "kind": "deploy_requested",
        "run": {"provider": "generic", "run_id": RUN, "pipeline": "report",
            "url": RUN_URL, "commit": COMMIT},
        "workloads": [{"kind": "Job", "namespace": "ci", "name": "report"}],
        "at": "2026-11-26T10:00:00Z"
    }))?;
    let answer: serde_json::Value = http
        .post(format!("http://{listen}/webhook/generic"))
        .header("Idempotency-Key", "report-4411-deploy")
        .header("X-Lastmile-Signature-256", sign(SECRET.as_bytes(), &deploy))
        .body(deploy)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let traceparent = answer["traceparent"].as_str().context("traceparent")?;
    let trace = traceparent
        .split('-')
        .nth(1)
        .context("trace id")?
        .to_owned();

    // The watcher has read the deploy event before the Job shows up (the pipeline applies
    // after it announced), so the incident is linked from its first publish.
    let mut acked = false;
    for _ in 0..300 {
        if ci_acked(&js, 1).await {
            acked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::ensure!(acked, "the watcher never consumed the deploy event");
    api.apply_all(fixture("job-report-deadline.json"))?;
    api.apply_all(fixture("pod-report-failed.json"))?;

    let mut gate = lastmile(&otlp, "lastmile-gate", &["gate"])?;
    gate.args([
        "--ci-run",
        &format!("generic/{RUN}"),
        "--nats-url",
        &nats_url,
    ])
    .args(["--timeout", "90s", "--grace", "60s"])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let out = tokio::time::timeout(Duration::from_secs(120), gate.spawn()?.wait_with_output())
        .await
        .context("the gate did not exit")??;
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains("job.deadline_exceeded"), "{printed}");
    assert!(
        printed.contains(&trace),
        "the gate prints the run's trace: {printed}"
    );

    let spans = otlp
        .wait_for_trace(
            &trace,
            &[
                "POST /webhook/generic",
                "incident.publish",
                "diagnose workload",
                "lastmile gate",
            ],
            Duration::from_secs(60),
        )
        .await?;
    let server = spans
        .iter()
        .find(|s| s.name == "POST /webhook/generic")
        .context("server span")?;
    assert_eq!(server.kind, 2, "a server span");
    assert!(
        server.parent_span_id.is_empty(),
        "the root of the run's trace"
    );
    for (key, value) in [
        ("http.request.method", "POST"),
        ("url.path", "/webhook/generic"),
        ("http.response.status_code", "202"),
        ("cicd.pipeline.run.url.full", RUN_URL),
        ("vcs.ref.head.revision", COMMIT),
    ] {
        assert_eq!(server.attr(key), Some(value), "{key}: {server:#?}");
    }
    let services: BTreeSet<&str> = spans
        .iter()
        .filter_map(|s| s.resource.get("service.name").map(String::as_str))
        .collect();
    for service in [
        "lastmile-webhook",
        "lastmile-watcher",
        "lastmile-workload",
        "lastmile-gate",
    ] {
        assert!(services.contains(service), "{service} in {services:?}");
    }
    let gate_span = spans
        .iter()
        .find(|s| s.name == "lastmile gate")
        .context("gate span")?;
    assert_eq!(gate_span.attr("lastmile.gate.verdict"), Some("failed"));

    // No orphans: every parent any process exported is itself in the receiver, and every
    // span about this run is in its one trace.
    let all = otlp.spans();
    let ids: BTreeSet<&str> = all.iter().map(|s| s.span_id.as_str()).collect();
    for s in &all {
        assert!(
            s.parent_span_id.is_empty() || ids.contains(s.parent_span_id.as_str()),
            "span {:?} of {:?} has a parent nobody exported",
            s.name,
            s.resource.get("service.name")
        );
    }
    let elsewhere: Vec<&str> = all
        .iter()
        .filter(|s| s.trace_id != trace)
        .filter(|s| {
            s.name == "diagnose workload" || s.name == "lastmile gate" || s.name.starts_with("POST")
        })
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        elsewhere.is_empty(),
        "outside the run's trace: {elsewhere:?}"
    );
    Ok(())
}
