//! The lean per-function Lambda binary (`lastmile-lambda`, built here in the dev profile with
//! `--features pending`) under the Runtime API emulator: a real invocation end to end with
//! NATS and S3 servers from the test kit, and the init errors it reports when it cannot start.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use lastmile_tests::lambda_api::{LambdaApi, lean_lambda_bin};

use super::{Host, WAIT, incident_event, response_diagnoses};

/// Starts the Lambda host `bin args…` with NATS, S3 and the emulator, and checks one
/// invocation end to end: the diagnosis answered, its evidence in S3 (none locally), the
/// diagnosis and its remediation published on NATS in the envelope's trace.
pub(super) async fn serves_one_invocation_with_s3_evidence_and_nats(
    bin: &Path,
    args: &[&str],
) -> anyhow::Result<()> {
    use lastmile_tests::nats::NatsServer;
    use lastmile_tests::s3::S3Server;

    let nats = NatsServer::start().await?;
    let s3 = S3Server::start().await?;
    s3.create_bucket("evidence")?;
    let api = LambdaApi::start().await?;
    let evidence = tempfile::tempdir()?;

    let mut command = Command::new(bin);
    command
        .args(args)
        .args(["--nats-url", &nats.url(), "--s3-bucket", "evidence"])
        .args([
            "--s3-endpoint",
            &s3.endpoint(),
            "--s3-force-path-style",
            "--s3-region",
            "us-east-1",
        ])
        .arg("--evidence-dir")
        .arg(evidence.path())
        .envs(api.runtime_env())
        .env("AWS_ACCESS_KEY_ID", s3.access_key())
        .env("AWS_SECRET_ACCESS_KEY", s3.secret_key())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _host = Host(command.spawn().context("starting the Lambda host")?);

    let event = incident_event();
    let id = api.invoke(event.to_vec()?);
    let (incident, diagnoses) = response_diagnoses(api.wait_result(&id, WAIT).await?)?;
    assert_eq!(incident, event.data.key);
    assert_eq!(
        diagnoses[0].class.as_str(),
        "scheduling.insufficient_resources"
    );

    // Evidence went to S3, not to the local directory.
    let evidence_ref = diagnoses[0]
        .evidence_ref
        .as_ref()
        .context("no evidence ref")?;
    assert_eq!(evidence_ref.store, "s3://evidence");
    let stored: Vec<String> = s3
        .stored_files()?
        .into_iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(
        stored
            .iter()
            .any(|p| p.ends_with(&evidence_ref.manifest_key)),
        "{stored:?}"
    );
    for object in &evidence_ref.objects {
        assert!(
            stored.iter().any(|p| p.ends_with(&object.key)),
            "{} not in {stored:?}",
            object.key
        );
    }
    assert_eq!(
        std::fs::read_dir(evidence.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );

    // The diagnosis and its remediation were published on NATS, in the envelope's trace.
    let bus = crate::host::connect(&nats).await?;
    let published =
        crate::host::wait_stored(&bus, "LASTMILE_DIAGNOSES", "lastmile.diagnosis.>", 1).await?;
    let body: serde_json::Value = serde_json::from_slice(&published[0].payload)?;
    assert_eq!(body["data"]["id"], serde_json::json!(diagnoses[0].id));
    let traceparent = body["traceparent"]
        .as_str()
        .context("no traceparent on the diagnosis")?;
    assert!(
        traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{traceparent}"
    );
    crate::host::wait_stored(&bus, "LASTMILE_DIAGNOSES", "lastmile.remediation.>", 1).await?;
    Ok(())
}

#[tokio::test]
async fn lean_lambda_binary_stores_evidence_in_s3_and_publishes_on_nats() -> anyhow::Result<()> {
    let bin = lean_lambda_bin("pending")?;
    serves_one_invocation_with_s3_evidence_and_nats(&bin, &[]).await
}

/// Runs the lean `pending` binary under the emulator with `env` until it exits; returns its
/// exit code and stderr.
async fn start_failing(api: &LambdaApi, env: &[(&str, &str)]) -> anyhow::Result<(i32, String)> {
    let bin = lean_lambda_bin("pending")?;
    let evidence = tempfile::tempdir()?;
    let mut command = Command::new(bin);
    command
        .envs(api.runtime_env())
        .envs(env.iter().copied())
        .env("LASTMILE_EVIDENCE_DIR", evidence.path())
        .env("NATS_CONNECT_TIMEOUT", "1s")
        .env_remove("LASTMILE_S3_BUCKET")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null());
    let out = tokio::time::timeout(WAIT, tokio::task::spawn_blocking(move || command.output()))
        .await
        .context("the lean binary did not exit")???;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[tokio::test]
async fn lean_lambda_binary_reports_unreachable_nats_as_a_retryable_init_error_and_exits_2()
-> anyhow::Result<()> {
    let api = LambdaApi::start().await?;
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let (code, stderr) = start_failing(&api, &[("NATS_URL", &url)]).await?;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot connect to NATS"), "{stderr}");
    let report = api.init_error().context("no init error reported")?;
    assert_eq!(report.error_type, "lastmile.Retryable", "{report:?}");
    assert_eq!(report.header_type.as_deref(), Some("lastmile.Retryable"));
    assert!(
        report.error_message.starts_with("cannot connect to NATS: "),
        "the cause chain, outermost first: {report:?}"
    );
    Ok(())
}

#[tokio::test]
async fn lean_lambda_binary_built_for_another_function_refuses_to_start() -> anyhow::Result<()> {
    let api = LambdaApi::start().await?;
    let (code, stderr) = start_failing(&api, &[("LASTMILE_FUNCTION", "image-pull")]).await?;
    assert_eq!(code, 2, "{stderr}");
    let report = api.init_error().context("no init error reported")?;
    assert_eq!(report.error_type, "lastmile.Permanent", "{report:?}");
    assert!(
        report.error_message.contains("hosts only pending")
            && report.error_message.contains("--features image-pull"),
        "{report:?}"
    );
    Ok(())
}

#[test]
fn lean_lambda_binary_links_no_kube_client_http_server_lambda_sdk_or_other_binary() {
    // Every function at once: what one function's package links is a subset of this.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&workspace)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "lastmile-lambda",
            "--all-features",
        ])
        .args(["-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let linked: std::collections::BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        linked.contains("lastmile-runtime") && linked.contains("async-nats"),
        "cargo tree was not read: {tree}"
    );
    for heavy in [
        "kube",
        "kube-client",
        "axum",
        "aws-sdk-lambda",
        "lastmile",
        "lastmile-kube-view",
        "lastmile-watcher",
        "lastmile-webhook",
        "lastmile-gate",
        "lastmile-dispatch",
        "lastmile-remediate",
        "lastmile-lint",
        "lastmile-intake",
    ] {
        assert!(!linked.contains(heavy), "the lean binary links {heavy}");
    }
}
