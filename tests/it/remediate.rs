//! `lastmile remediate` end to end: the real binary on a real nats-server, patching through
//! the fake API server, with audit entries in a local evidence directory.

mod apply;
mod conflict;
mod infra;
mod pipeline;
mod refuse;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use lastmile_events::diagnosis::{PatchSpec, PatchTarget, PatchType, Preconditions};
use lastmile_events::envelope::stable_id;
use lastmile_events::{CloudEvent, Remediation, RemediationCommand, Subject, subjects};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher, TRACEPARENT_HEADER};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::nats::NatsServer;
use serde_json::{Value, json};

const JOB_PATH: &str = "/apis/batch/v1/namespaces/ci/jobs/migrate";
const IDENTITY: &str = "system:serviceaccount:lastmile:lastmile-remediate";
/// What a remediation's text and a forbidden patch carry, and must never come out again.
const SECRET: &str = "hunter2-s3cr3t-value";

/// `lastmile remediate` against `nats` and `api`; stderr kept for the log checks; killed on
/// drop.
struct Executor {
    child: Child,
    dir: tempfile::TempDir,
}

impl Executor {
    fn spawn(nats: &NatsServer, api: &FakeApiServer, allow: &[&str]) -> anyhow::Result<Self> {
        Self::spawn_traced(nats, api, allow, None)
    }

    /// [`Self::spawn`], exporting spans to `otlp` when given.
    fn spawn_traced(
        nats: &NatsServer,
        api: &FakeApiServer,
        allow: &[&str],
        otlp: Option<&str>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let log = std::fs::File::create(dir.path().join("stderr.log"))?;
        let mut command = Command::new(lastmile_tests::bin::lastmile_bin()?);
        command
            .args(["remediate", "--nats-url", &nats.url()])
            .arg("--kubeconfig")
            .arg(api.kubeconfig()?)
            .arg("--evidence-dir")
            .arg(dir.path().join("evidence"))
            .args(["--identity", IDENTITY, "--kube-timeout", "5s"])
            .args(["--retry-backoff", "100ms", "--retry-backoff-max", "400ms"]);
        for entry in allow {
            command.args(["--allow", entry]);
        }
        match otlp {
            Some(endpoint) => command
                .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
                .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
                .env("OTEL_BSP_SCHEDULE_DELAY", "500"),
            None => command.env_remove("OTEL_EXPORTER_OTLP_ENDPOINT"),
        };
        let child = command
            .env_remove("LASTMILE_REMEDIATE_ALLOW")
            .env_remove("LASTMILE_REMEDIATE_CONFIG")
            .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting lastmile remediate")?;
        Ok(Self { child, dir })
    }

    fn evidence(&self) -> PathBuf {
        self.dir.path().join("evidence")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Every audit entry written so far, by file name order.
    fn audits(&self) -> Vec<Value> {
        let mut files = Vec::new();
        collect(&self.evidence().join("audit/remediate"), &mut files);
        files.sort();
        files
            .iter()
            .filter_map(|f| std::fs::read(f).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect()
    }

    /// Waits until the executor's log holds `line` and returns the log: the executor logs
    /// its decision just after recording the Event, so a test that saw the Event must wait
    /// for the line too.
    async fn wait_log(&self, line: &str) -> anyhow::Result<String> {
        for _ in 0..100 {
            let log = self.log();
            if log.contains(line) {
                return Ok(log);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("no {line:?} in the log after 10s:\n{}", self.log())
    }

    /// Waits until `n` audit entries exist.
    async fn wait_audits(&self, n: usize) -> anyhow::Result<Vec<Value>> {
        for _ in 0..300 {
            let audits = self.audits();
            if audits.len() >= n {
                return Ok(audits);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "{} audit entries after 30s, wanted {n}; log:\n{}",
            self.audits().len(),
            self.log()
        )
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn job(namespace: &str, name: &str, deadline: i64) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}")},
        "spec": {"activeDeadlineSeconds": deadline, "backoffLimit": 2, "template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "migrate:1"}]}}},
        "status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]}
    })
}

fn target(api_version: &str, kind: &str, namespace: &str, name: &str) -> PatchTarget {
    PatchTarget {
        api_version: api_version.into(),
        kind: kind.into(),
        namespace: Some(namespace.into()),
        name: name.into(),
    }
}

fn merge(target: PatchTarget, body: Value) -> PatchSpec {
    PatchSpec {
        target,
        patch_type: PatchType::Merge,
        body,
        preconditions: Preconditions::default(),
    }
}

/// Publishes `patch` as the executor of a function host does, with a description that
/// quotes a secret.
async fn publish(bus: &NatsBus, n: usize, patch: PatchSpec) -> anyhow::Result<String> {
    let command = RemediationCommand {
        diagnosis_id: format!("diag-{n}"),
        incident: format!("ci/Job/{}", patch.target.name),
        class: "job.deadline_exceeded".into(),
        subject: Subject {
            kind: patch.target.kind.clone(),
            namespace: patch.target.namespace.clone(),
            name: patch.target.name.clone(),
            container: None,
        },
        remediation: Remediation {
            description: format!("Raise the deadline (the job logs showed password={SECRET})."),
            command: Some("kubectl patch job ...".into()),
        },
        patch: Some(patch),
    };
    let id = stable_id(&["remediate-test", &n.to_string()]);
    let event = CloudEvent::new(id.clone(), "test", None, chrono::Utc::now(), command);
    bus.publish(Message {
        subject: subjects::remediation("job.deadline_exceeded"),
        headers: BTreeMap::from([
            (MSG_ID_HEADER.to_owned(), id.clone()),
            (
                TRACEPARENT_HEADER.to_owned(),
                format!("00-{}-00f067aa0ba902b7-01", trace_id(n)),
            ),
        ]),
        payload: event.to_vec()?.into(),
    })
    .await?;
    Ok(id)
}

/// The trace the `n`-th published command belongs to.
fn trace_id(n: usize) -> String {
    format!("{:032x}", 0x7e3e_d1a7_0000_usize + n)
}

async fn setup() -> anyhow::Result<(NatsServer, NatsBus, FakeApiServer)> {
    let nats = NatsServer::start().await?;
    let bus = NatsBus::connect(&NatsConfig::with_url(nats.url())).await?;
    bus.ensure_streams().await?;
    let api = FakeApiServer::start().await?;
    Ok((nats, bus, api))
}

/// The Kubernetes Events in `ns` (all namespaces when empty) that `keep` selects, once
/// there are at least `n` of them: the executor records its Event just after the audit
/// entry, so a test that saw the audit must wait for the Event too.
async fn wait_events(
    api: &FakeApiServer,
    ns: &str,
    n: usize,
    keep: impl Fn(&Value) -> bool,
) -> anyhow::Result<Vec<Value>> {
    let select = || -> Vec<Value> {
        api.list("v1", "Event", ns)
            .into_iter()
            .filter(|e| keep(e))
            .collect()
    };
    for _ in 0..100 {
        let events = select();
        if events.len() >= n {
            return Ok(events);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let events = select();
    bail!(
        "{} matching Events after 10s, wanted {n}: {events:#?}",
        events.len()
    )
}

/// Nothing the executor wrote or logged quotes the secret.
fn assert_no_secret(exec: &Executor, api: &FakeApiServer) {
    let audits = serde_json::to_string(&exec.audits()).unwrap_or_default();
    assert!(!audits.contains(SECRET), "audit leaks: {audits}");
    let events = serde_json::to_string(&api.list("v1", "Event", "")).unwrap_or_default();
    assert!(!events.contains(SECRET), "events leak: {events}");
    let log = exec.log();
    assert!(!log.contains(SECRET), "log leaks: {log}");
}
