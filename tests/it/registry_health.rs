//! Registry health over real OTLP: the `lastmile registry probe` binary against a real
//! `docker-registry` (and a port nothing listens on), exporting `registry_health_status` and
//! `registry_latency_seconds` to the test kit's OTLP receiver; once, and as the scheduled
//! probe (`--interval`) that keeps exporting until SIGTERM, and on AWS Lambda (the Runtime
//! API emulator) where each scheduled invocation runs one round and flushes before answering.

use std::process::Stdio;
use std::time::Duration;

use lastmile_runtime::telemetry::registry_health::{
    HEALTH_STATUS, LATENCY_BUCKETS, LATENCY_SECONDS,
};
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::lambda_api::{InvocationResult, LambdaApi};
use lastmile_tests::otlp::{OtlpReceiver, PointKind, ReceivedPoint};
use lastmile_tests::registry::{Pusher, Registry, RegistryAuth, linux};
use lastmile_tests::tools::free_port;
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(30);

/// The probe binary with the OTLP environment pointing at `endpoint` (and nothing inherited
/// that could redirect it).
fn probe(endpoint: &str, protocol: &str, args: &[&str]) -> anyhow::Result<Command> {
    let mut cmd = Command::new(lastmile_bin()?);
    cmd.args(["registry", "probe"])
        .args(args)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("LASTMILE_LOG", "warn")
        .kill_on_drop(true);
    for var in [
        "OTEL_METRICS_EXPORTER",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "LASTMILE_PROBE_INTERVAL",
        "LASTMILE_PROBE_REGISTRIES",
        "LASTMILE_PROBE_MANIFESTS",
        "OTEL_METRIC_EXPORT_INTERVAL",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        cmd.env_remove(var);
    }
    Ok(cmd)
}

/// A registry with `team/app:1.0` pushed.
async fn registry_with_app() -> anyhow::Result<Registry> {
    let reg = Registry::start(RegistryAuth::None, None).await?;
    Pusher::new(&reg.base_url(), None, None)?
        .image("team/app", Some("1.0"), linux("amd64"), true)
        .await?;
    Ok(reg)
}

/// The most recent point of `name` whose attributes include all of `attrs`.
fn latest<'a>(
    points: &'a [ReceivedPoint],
    name: &str,
    attrs: &[(&str, &str)],
) -> Option<&'a ReceivedPoint> {
    points
        .iter()
        .filter(|p| p.name == name && attrs.iter().all(|(k, v)| p.attr(k) == Some(*v)))
        .max_by_key(|p| p.time_unix_nano)
}

fn health(points: &[ReceivedPoint], attrs: &[(&str, &str)]) -> Option<f64> {
    latest(points, HEALTH_STATUS, attrs).and_then(|p| p.value)
}

#[tokio::test]
async fn one_shot_probe_exports_health_1_for_a_healthy_registry_and_0_for_a_missing_manifest_or_a_dead_one()
-> anyhow::Result<()> {
    let reg = registry_with_app().await?;
    let host = reg.host();
    let dead = format!("127.0.0.1:{}", free_port()?);
    let receiver = OtlpReceiver::start().await?;
    let good = format!("{host}/team/app:1.0");
    let missing = format!("{host}/team/app:9");

    let out = probe(
        &receiver.endpoint(),
        "grpc",
        &[
            &host,
            &dead,
            "--plain-http",
            "--manifest",
            &good,
            "--manifest",
            &missing,
            "--timeout",
            "3",
            "--format",
            "json",
        ],
    )?
    .output()
    .await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed check fails the run: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout)?;
    assert_eq!(doc["registries"], serde_json::json!([host, dead]));

    // The binary flushed before it exited: everything is here already.
    let points = receiver.metrics();
    for (endpoint, operation, manifest, want) in [
        (host.as_str(), "api_version", None, 1.0),
        (host.as_str(), "manifest", Some("team/app:1.0"), 1.0),
        (host.as_str(), "manifest", Some("team/app:9"), 0.0),
        (host.as_str(), "catalog", None, 1.0),
        (dead.as_str(), "api_version", None, 0.0),
        (dead.as_str(), "catalog", None, 0.0),
    ] {
        let mut attrs = vec![("endpoint", endpoint), ("operation", operation)];
        if let Some(m) = manifest {
            attrs.push(("manifest", m));
        }
        let gauge = latest(&points, HEALTH_STATUS, &attrs)
            .unwrap_or_else(|| panic!("no {HEALTH_STATUS} for {attrs:?} in {points:#?}"));
        assert_eq!(gauge.kind, PointKind::Gauge);
        assert_eq!(gauge.value, Some(want), "{attrs:?}");
        assert_eq!(gauge.scope, "lastmile.registry");
        assert_eq!(
            gauge.resource.get("service.name").map(String::as_str),
            Some("lastmile-registry-probe")
        );
        // The gauge's series is keyed by what was checked, never by the answer.
        assert!(
            gauge.attr("http.response.status_code").is_none(),
            "{gauge:?}"
        );

        let hist = latest(&points, LATENCY_SECONDS, &attrs)
            .unwrap_or_else(|| panic!("no {LATENCY_SECONDS} for {attrs:?}"));
        assert_eq!(hist.kind, PointKind::Histogram);
        assert_eq!(hist.unit, "s");
        assert!(hist.count >= 1, "{hist:?}");
        assert!(hist.sum.is_some_and(|s| s > 0.0), "{hist:?}");
        assert_eq!(hist.bounds, LATENCY_BUCKETS);
    }
    let ok = latest(
        &points,
        LATENCY_SECONDS,
        &[("endpoint", &host), ("operation", "api_version")],
    )
    .unwrap();
    assert_eq!(ok.attr("http.response.status_code"), Some("200"));
    assert_eq!(ok.attr("error.type"), None);
    let not_found = latest(&points, LATENCY_SECONDS, &[("manifest", "team/app:9")]).unwrap();
    assert_eq!(not_found.attr("error.type"), Some("image.not_found"));
    assert_eq!(not_found.attr("http.response.status_code"), Some("404"));
    let refused = latest(
        &points,
        LATENCY_SECONDS,
        &[("endpoint", &dead), ("operation", "api_version")],
    )
    .unwrap();
    assert_eq!(refused.attr("error.type"), Some("image.network"));
    assert_eq!(refused.attr("http.response.status_code"), None);
    Ok(())
}

#[tokio::test]
async fn scheduled_probe_exports_every_round_follows_the_registry_down_and_exits_0_on_sigterm()
-> anyhow::Result<()> {
    let reg = registry_with_app().await?;
    let host = reg.host();
    let receiver = OtlpReceiver::start().await?;
    let child = probe(
        &receiver.endpoint(),
        "grpc",
        &[
            &host,
            "--plain-http",
            "--manifest",
            "team/app:1.0",
            "--interval",
            "1s",
            "--timeout",
            "2",
            "--format",
            "json",
        ],
    )?
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()?;

    // Cumulative latency counts grow by one per round.
    let api = [("endpoint", host.as_str()), ("operation", "api_version")];
    let points = receiver
        .wait_for_metrics(WAIT, "two rounds", |p| {
            latest(p, LATENCY_SECONDS, &api).is_some_and(|h| h.count >= 2)
        })
        .await?;
    assert_eq!(health(&points, &api), Some(1.0));
    assert_eq!(
        health(
            &points,
            &[("operation", "manifest"), ("manifest", "team/app:1.0")]
        ),
        Some(1.0)
    );

    // The registry goes away: a later round says so.
    drop(reg);
    receiver
        .wait_for_metrics(WAIT, "api_version health 0", |p| {
            health(p, &api) == Some(0.0)
        })
        .await?;

    let before = receiver.metric_requests();
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("probe exited early"))?;
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await?;
    assert!(killed.success());
    let out = tokio::time::timeout(WAIT, child.wait_with_output()).await??;
    assert_eq!(
        out.status.code(),
        Some(0),
        "SIGTERM is a clean stop: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        receiver.metric_requests() > before,
        "metrics flushed at exit"
    );
    let rounds: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(rounds.len() >= 3, "one JSON line per round: {rounds:?}");
    assert_eq!(rounds[0]["healthy"], true);
    assert_eq!(rounds.last().unwrap()["healthy"], false);
    Ok(())
}

#[tokio::test]
async fn metrics_follow_the_otlp_protocol_setting_and_can_be_turned_off() -> anyhow::Result<()> {
    let reg = registry_with_app().await?;
    let host = reg.host();
    let receiver = OtlpReceiver::start().await?;
    let args = [host.as_str(), "--plain-http", "--timeout", "3"];

    let out = probe(&receiver.http_endpoint(), "http/protobuf", &args)?
        .output()
        .await?;
    assert_eq!(out.status.code(), Some(0));
    let points = receiver.metrics();
    assert_eq!(
        health(&points, &[("endpoint", &host), ("operation", "catalog")]),
        Some(1.0),
        "{points:#?}"
    );

    let before = receiver.metric_requests();
    let out = probe(&receiver.http_endpoint(), "http/protobuf", &args)?
        .env("OTEL_METRICS_EXPORTER", "none")
        .output()
        .await?;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(receiver.metric_requests(), before, "nothing exported");

    let out = probe(&receiver.endpoint(), "grpc", &args)?
        .env("OTEL_METRICS_EXPORTER", "prometheus")
        .output()
        .await?;
    assert_eq!(out.status.code(), Some(2), "bad configuration exits 2");
    assert!(String::from_utf8_lossy(&out.stderr).contains("OTEL_METRICS_EXPORTER"));
    Ok(())
}

/// What EventBridge sends a target on a `rate(...)` schedule.
fn scheduled_event() -> serde_json::Value {
    serde_json::json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-03-03T12:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/lastmile-registry-probe"],
        "detail": {}
    })
}

/// The response body of a successful invocation, as JSON.
fn response_json(result: InvocationResult) -> anyhow::Result<serde_json::Value> {
    match result {
        InvocationResult::Response(body) => Ok(serde_json::from_slice(&body)?),
        InvocationResult::Error(e) => anyhow::bail!("invocation failed: {e:?}"),
    }
}

/// The `healthy` flag of the report's check for `operation` (and `manifest`).
fn reported(doc: &serde_json::Value, operation: &str, manifest: Option<&str>) -> Option<bool> {
    doc["checks"]
        .as_array()?
        .iter()
        .find(|c| c["operation"] == operation && c["manifest"].as_str() == manifest)?["healthy"]
        .as_bool()
}

#[tokio::test]
async fn lambda_probe_runs_one_round_per_scheduled_invocation_and_flushes_metrics_before_answering()
-> anyhow::Result<()> {
    let reg = registry_with_app().await?;
    let host = reg.host();
    let receiver = OtlpReceiver::start().await?;
    let api = LambdaApi::start().await?;
    // Configured the way the SAM template does it: targets from the environment, and no
    // periodic export that could deliver the metrics behind the response's back.
    let mut child = probe(
        &receiver.endpoint(),
        "grpc",
        &["--plain-http", "--timeout", "3"],
    )?
    .envs(api.runtime_env())
    .env("LASTMILE_PROBE_REGISTRIES", &host)
    .env("LASTMILE_PROBE_MANIFESTS", "team/app:1.0,team/app:9")
    .env("OTEL_METRIC_EXPORT_INTERVAL", "3600000")
    .stdout(Stdio::null())
    .stderr(Stdio::inherit())
    .spawn()?;

    let api_version = [("endpoint", host.as_str()), ("operation", "api_version")];
    let present = [("operation", "manifest"), ("manifest", "team/app:1.0")];
    let missing = [("operation", "manifest"), ("manifest", "team/app:9")];
    for round in 1..=2_u64 {
        let before = receiver.metric_requests();
        let id = api.invoke(serde_json::to_vec(&scheduled_event())?);
        let doc = response_json(api.wait_result(&id, WAIT).await?)?;
        assert_eq!(doc["registries"], serde_json::json!([host]), "{doc}");
        assert_eq!(doc["healthy"], false, "a manifest is missing: {doc}");
        assert_eq!(reported(&doc, "api_version", None), Some(true), "{doc}");
        assert_eq!(reported(&doc, "manifest", Some("team/app:1.0")), Some(true));
        assert_eq!(reported(&doc, "manifest", Some("team/app:9")), Some(false));
        assert_eq!(reported(&doc, "catalog", None), Some(true), "{doc}");

        // No waiting: the metrics were exported before the response was posted.
        assert!(
            receiver.metric_requests() > before,
            "round {round}: no export before the response"
        );
        let points = receiver.metrics();
        assert_eq!(health(&points, &api_version), Some(1.0), "round {round}");
        assert_eq!(health(&points, &present), Some(1.0), "round {round}");
        assert_eq!(health(&points, &missing), Some(0.0), "round {round}");
        let hist = latest(&points, LATENCY_SECONDS, &api_version)
            .ok_or_else(|| anyhow::anyhow!("no {LATENCY_SECONDS} for /v2/"))?;
        assert_eq!(
            hist.count, round,
            "one measurement per invocation: {hist:?}"
        );
    }
    assert!(api.init_error().is_none());
    assert!(
        child.try_wait()?.is_none(),
        "the probe keeps serving after a round with a failed check"
    );
    child.kill().await?;
    Ok(())
}

#[tokio::test]
async fn lambda_probe_with_bad_configuration_exits_2_before_serving() -> anyhow::Result<()> {
    let receiver = OtlpReceiver::start().await?;
    let api = LambdaApi::start().await?;
    for (what, args, registries) in [
        (
            "a URL is not a host",
            vec![],
            "https://registry.example.com",
        ),
        (
            "the schedule is Lambda's",
            vec!["--interval", "1m"],
            "registry.example.com",
        ),
    ] {
        let id = api.invoke(serde_json::to_vec(&scheduled_event())?);
        let out = tokio::time::timeout(
            WAIT,
            probe(&receiver.endpoint(), "grpc", &args)?
                .envs(api.runtime_env())
                .env("LASTMILE_PROBE_REGISTRIES", registries)
                .output(),
        )
        .await??;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            api.wait_result(&id, Duration::from_millis(500))
                .await
                .is_err(),
            "{what}: no invocation was served"
        );
    }
    assert_eq!(receiver.metric_requests(), 0);
    Ok(())
}
