//! The Lambda host behind a Lambda Runtime API emulator.
//!
//! `lambda_runtime` reads `AWS_LAMBDA_RUNTIME_API` and friends from the process environment,
//! which a test cannot set for itself alone (and `set_var` is unsafe). So each test
//! re-executes this test binary as a child running only [`lambda_host_child`], with the
//! emulator's environment given to that child: the real runtime client, the real host, the
//! real `pending` function, talking HTTP to the emulator.
//!
//! [`lean`] runs the lean per-function binary (`lastmile-lambda --features pending`) the same
//! way, as a packaged Lambda would run.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{TimeZone, Utc};
use lastmile_contract::{Context, Function, HandleFuture};
use lastmile_events::{CloudEvent, Diagnosis, Incident, IncidentFamily, KubeEvent, ObjectRef};
use lastmile_runtime::bus::Message;
use lastmile_runtime::bus::memory::MemoryBus;
use lastmile_runtime::evidence::local::LocalStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::telemetry::{self, TelemetryConfig};
use lastmile_tests::lambda_api::{InvocationResult, LambdaApi};
use lastmile_tests::otlp::OtlpReceiver;

mod lean;

/// Set (to the evidence directory) only in the child process.
const CHILD_ENV: &str = "LASTMILE_TEST_LAMBDA_CHILD_EVIDENCE";
/// Set in the child to host [`PANICKY`] instead of `pending`.
const PANICKY_ENV: &str = "LASTMILE_TEST_LAMBDA_CHILD_PANICKY";
const WAIT: Duration = Duration::from_secs(60);

/// `pending`, with a bug: it panics on the pods of Job `panic`.
const PANICKY: Function = Function {
    spec: &lastmile_fn_pending::SPEC,
    handle: panicky,
};

fn panicky<'a>(incident: &'a Incident, ctx: &'a Context) -> HandleFuture<'a> {
    if incident.subject.name.starts_with("panic-") {
        panic!("no node fits (probed https://ci:hunter2@registry.example.com)");
    }
    lastmile_fn_pending::FUNCTION.call(incident, ctx)
}

fn executor(evidence: &Path) -> anyhow::Result<Executor> {
    executor_for(lastmile_fn_pending::FUNCTION, evidence)
}

fn executor_for(function: Function, evidence: &Path) -> anyhow::Result<Executor> {
    Ok(Executor::new(
        function,
        Context::offline(),
        Arc::new(LocalStore::new(evidence)?),
        Arc::new(MemoryBus::new()),
    ))
}

/// The Lambda host, run only as a child of the tests below.
#[tokio::test]
#[ignore = "runs only as the child process of the lambda tests"]
async fn lambda_host_child() -> anyhow::Result<()> {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return Ok(());
    };
    let function = match std::env::var_os(PANICKY_ENV) {
        Some(_) => PANICKY,
        None => lastmile_fn_pending::FUNCTION,
    };
    let executor = executor_for(function, Path::new(&dir))?;
    // As `lastmile function` does: telemetry from the OTEL_* environment.
    let telemetry = telemetry::init(&TelemetryConfig::from_env("lastmile-lambda-test")?)?;
    lastmile_runtime::host::lambda::run(executor, telemetry).await?;
    Ok(())
}

/// This test binary, set up to run only [`lambda_host_child`] with `env`.
fn host_command(env: &[(String, String)], evidence: &Path) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("locating the test binary")?;
    let mut command = Command::new(exe);
    command
        .args([
            "lambda::lambda_host_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(CHILD_ENV, evidence)
        .env("RUST_LOG", "off")
        .stdin(Stdio::null());
    Ok(command)
}

/// The child process; killed on drop.
struct Host(Child);

impl Host {
    fn spawn(env: &[(String, String)], evidence: &Path) -> anyhow::Result<Self> {
        let child = host_command(env, evidence)?
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the Lambda host child")?;
        Ok(Self(child))
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A pod of Job ci/migrate stuck Pending: the scheduler's FailedScheduling event.
fn incident_event() -> CloudEvent<Incident> {
    pending_incident(
        "migrate",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
}

/// A pod of Job `ci/<job>` stuck Pending (FailedScheduling, insufficient cpu), as the watcher
/// publishes it: event id `evt-<job>-x7k2p-1`, `traceparent` in the envelope.
pub(crate) fn pending_incident(job: &str, traceparent: &str) -> CloudEvent<Incident> {
    let time = Utc
        .with_ymd_and_hms(2026, 3, 3, 10, 2, 11)
        .single()
        .unwrap_or_default();
    let pod = format!("{job}-x7k2p");
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: pod.clone(),
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: "Job".into(),
        namespace: Some("ci".into()),
        name: job.into(),
        ..Default::default()
    };
    let mut incident = Incident::new(IncidentFamily::Pending, subject.clone(), Some(owner), time);
    incident.events = vec![KubeEvent {
        ty: "Warning".into(),
        reason: "FailedScheduling".into(),
        message: "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.".into(),
        regarding: subject,
        count: 4,
        first_time: Some(time),
        last_time: Some(time),
        reporting_controller: "default-scheduler".into(),
    }];
    let mut event = CloudEvent::new(
        format!("evt-{pod}-1"),
        "/lastmile/watcher",
        Some(format!("pod/ci/{pod}")),
        time,
        incident,
    );
    event.traceparent = Some(traceparent.into());
    event
}

fn response_diagnoses(result: InvocationResult) -> anyhow::Result<(String, Vec<Diagnosis>)> {
    let InvocationResult::Response(body) = result else {
        anyhow::bail!("expected a response, got {result:?}")
    };
    let v: serde_json::Value = serde_json::from_slice(&body)?;
    let incident = v["incident"]
        .as_str()
        .context("response without incident")?
        .to_owned();
    Ok((incident, serde_json::from_value(v["diagnoses"].clone())?))
}

#[tokio::test]
async fn lambda_invocation_gives_the_same_diagnosis_as_the_in_process_path() -> anyhow::Result<()> {
    let api = LambdaApi::start().await?;
    let evidence = tempfile::tempdir()?;
    let _host = Host::spawn(&api.runtime_env(), evidence.path())?;
    let event = incident_event();

    let id = api.invoke(event.to_vec()?);
    let (incident, diagnoses) = response_diagnoses(api.wait_result(&id, WAIT).await?)?;

    // The same message through the executor in this process.
    let message = Message {
        payload: event.to_vec()?.into(),
        ..Message::default()
    };
    let expected = executor(evidence.path())?.process(&message).await?;
    assert_eq!(incident, event.data.key);
    // Identical but for the trace id: the child has a tracer (the envelope's trace goes
    // on), this process has none.
    assert!(
        diagnoses
            .iter()
            .all(|d| d.trace_id.as_deref() == Some("4bf92f3577b34da6a3ce929d0e0e4736"))
    );
    let untraced: Vec<Diagnosis> = diagnoses
        .iter()
        .cloned()
        .map(|d| Diagnosis {
            trace_id: None,
            ..d
        })
        .collect();
    assert_eq!(untraced, expected.diagnoses);
    assert_eq!(
        diagnoses[0].class.as_str(),
        "scheduling.insufficient_resources"
    );
    let evidence_ref = diagnoses[0]
        .evidence_ref
        .as_ref()
        .context("no evidence ref")?;
    assert!(
        evidence.path().join(&evidence_ref.manifest_key).is_file(),
        "the Lambda host stored the manifest"
    );

    // A redelivered invocation is idempotent.
    let again = api.invoke(event.to_vec()?);
    let (_, second) = response_diagnoses(api.wait_result(&again, WAIT).await?)?;
    assert_eq!(second, diagnoses);
    Ok(())
}

#[tokio::test]
async fn lambda_malformed_payloads_get_error_responses_and_the_host_keeps_serving()
-> anyhow::Result<()> {
    let api = LambdaApi::start().await?;
    let evidence = tempfile::tempdir()?;
    let _host = Host::spawn(&api.runtime_env(), evidence.path())?;

    // A CloudEvent of the wrong type: never processable.
    let mut wrong = serde_json::to_value(incident_event())?;
    wrong["type"] = "dev.lastmile.diagnosis.v1".into();
    let id = api.invoke(serde_json::to_vec(&wrong)?);
    let InvocationResult::Error(report) = api.wait_result(&id, WAIT).await? else {
        anyhow::bail!("expected an error")
    };
    assert_eq!(report.error_type, "lastmile.BadInput", "{report:?}");
    assert!(
        report.error_message.contains("dev.lastmile.diagnosis.v1"),
        "the reason names the type: {report:?}"
    );

    // Valid JSON, not a CloudEvent.
    let id = api.invoke(br#"{"kind":"Pod","metadata":{"name":"x"}}"#.to_vec());
    let InvocationResult::Error(report) = api.wait_result(&id, WAIT).await? else {
        anyhow::bail!("expected an error")
    };
    assert_eq!(report.error_type, "lastmile.BadInput", "{report:?}");
    assert!(!report.error_message.is_empty());

    // Not JSON at all: the runtime's own deserialisation error.
    let id = api.invoke(b"0/3 nodes are available".to_vec());
    let InvocationResult::Error(report) = api.wait_result(&id, WAIT).await? else {
        anyhow::bail!("expected an error")
    };
    assert!(
        !report.error_type.is_empty() && !report.error_message.is_empty(),
        "{report:?}"
    );

    // Still serving.
    let id = api.invoke(incident_event().to_vec()?);
    let (_, diagnoses) = response_diagnoses(api.wait_result(&id, WAIT).await?)?;
    assert!(!diagnoses.is_empty());
    assert!(api.init_error().is_none());
    Ok(())
}

#[tokio::test]
async fn lambda_host_without_the_lambda_environment_fails_with_a_clear_error() -> anyhow::Result<()>
{
    let evidence = tempfile::tempdir()?;
    let mut command = host_command(&[], evidence.path())?;
    let status = tokio::task::spawn_blocking(move || command.output()).await??;
    assert!(!status.status.success());
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(out.contains("missing AWS_LAMBDA_RUNTIME_API"), "{out}");
    assert!(
        !out.contains("env var"),
        "a config error, not lambda_runtime's panic: {out}"
    );
    Ok(())
}

#[tokio::test]
async fn lambda_spans_are_flushed_after_every_invocation_in_the_incoming_trace()
-> anyhow::Result<()> {
    let api = LambdaApi::start().await?;
    let receiver = OtlpReceiver::start().await?;
    let evidence = tempfile::tempdir()?;
    let mut env = api.runtime_env();
    env.extend(
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_SERVICE_NAME", "lastmile-fn-pending".to_owned()),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=test,cloud.provider=aws".to_owned(),
            ),
            // The batch timer never fires during the test: only the host's flush exports.
            ("OTEL_BSP_SCHEDULE_DELAY", "3600000".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let _host = Host::spawn(&env, evidence.path())?;

    let event = incident_event();
    let id = api.invoke(event.to_vec()?);
    let (_, diagnoses) = response_diagnoses(api.wait_result(&id, WAIT).await?)?;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    assert_eq!(
        diagnoses[0].trace_id.as_deref(),
        Some(trace_id),
        "the envelope's trace continues"
    );

    let spans = receiver
        .wait_for_trace(
            trace_id,
            &["diagnose pending", "lastmile.evidence.store"],
            WAIT,
        )
        .await?;
    let function = spans
        .iter()
        .find(|s| s.name == "diagnose pending")
        .context("no function span")?;
    assert_eq!(
        function.parent_span_id, "00f067aa0ba902b7",
        "child of the producer's span in the envelope"
    );
    assert_eq!(
        function.resource.get("service.name").map(String::as_str),
        Some("lastmile-fn-pending")
    );
    assert_eq!(
        function
            .resource
            .get("deployment.environment.name")
            .map(String::as_str),
        Some("test")
    );
    assert_eq!(function.attr("k8s.pod.name"), Some("migrate-x7k2p"));
    assert_eq!(function.attr("k8s.job.name"), Some("migrate"));
    Ok(())
}

#[tokio::test]
async fn lastmile_function_on_lambda_stores_evidence_in_s3_and_publishes_on_nats()
-> anyhow::Result<()> {
    let bin = lastmile_tests::bin::lastmile_bin()?;
    lean::serves_one_invocation_with_s3_evidence_and_nats(&bin, &["function", "pending"]).await
}

#[tokio::test]
async fn lambda_panicking_function_is_a_permanent_invocation_error_and_the_host_keeps_serving()
-> anyhow::Result<()> {
    let api = LambdaApi::start().await?;
    let evidence = tempfile::tempdir()?;
    let mut env = api.runtime_env();
    env.push((PANICKY_ENV.to_owned(), "1".to_owned()));
    let _host = Host::spawn(&env, evidence.path())?;

    // The function panics on this pod (a bug on one input)...
    let boom = pending_incident(
        "panic",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    );
    let id = api.invoke(boom.to_vec()?);
    let InvocationResult::Error(report) = api.wait_result(&id, WAIT).await? else {
        anyhow::bail!("expected an error for the panicking invocation")
    };
    // ...which is the event's own permanent error (the dispatcher dead-letters it with this
    // reason), redacted, not a dead process.
    assert_eq!(report.error_type, "lastmile.Permanent", "{report:?}");
    assert!(
        report.error_message.contains("the function panicked")
            && report.error_message.contains("no node fits"),
        "{report:?}"
    );
    assert!(!report.error_message.contains("hunter2"), "{report:?}");

    // The same process serves the next event.
    let id = api.invoke(incident_event().to_vec()?);
    let (_, diagnoses) = response_diagnoses(api.wait_result(&id, WAIT).await?)?;
    assert_eq!(
        diagnoses[0].class.as_str(),
        "scheduling.insufficient_resources"
    );
    assert!(api.init_error().is_none());
    Ok(())
}
