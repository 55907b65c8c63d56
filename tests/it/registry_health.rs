//! Registry health over real OTLP: the `lastmile registry probe` binary against a real
//! `docker-registry` (and a port nothing listens on), exporting `registry_health_status` and
//! `registry_latency_seconds` to the test kit's OTLP receiver; once, and as the scheduled
//! probe (`--interval`) that keeps exporting until SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use lastmile_e2e::bin::lastmile_bin;
use lastmile_e2e::otlp::{OtlpReceiver, PointKind, ReceivedPoint};
use lastmile_e2e::registry::{Pusher, Registry, RegistryAuth, linux};
use lastmile_e2e::tools::free_port;
use lastmile_runtime::telemetry::registry_health::{
    HEALTH_STATUS, LATENCY_BUCKETS, LATENCY_SECONDS,
};
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
