//! Helpers several end-to-end tests share.

use std::collections::BTreeMap;

use lastmile_events::{CloudEvent, Incident, subjects};
use lastmile_runtime::bus::nats::NatsBus;
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher};

/// Publishes `incident` on its family's subject in a CloudEvents envelope with event id
/// `id`, as a producer (the watcher, intake) would.
pub async fn publish_incident(bus: &NatsBus, id: String, incident: Incident) -> anyhow::Result<()> {
    let subject = subjects::incident(incident.family);
    let envelope = CloudEvent::new(
        id,
        "/e2e/producer",
        Some(incident.subject.to_string()),
        incident.last_seen,
        incident,
    );
    bus.publish(Message {
        subject,
        headers: BTreeMap::from([(MSG_ID_HEADER.to_owned(), envelope.id.clone())]),
        payload: envelope.to_vec()?.into(),
    })
    .await?;
    Ok(())
}

/// An S3 store on the test server `s3` (path-style, its bucket and key prefix), as a
/// function host would open it: for hosting a function in process or reading back what a
/// hosted one stored.
pub fn s3_store(
    s3: &lastmile_tests::s3::S3Server,
    bucket: &str,
    prefix: &str,
) -> anyhow::Result<lastmile_runtime::evidence::s3::S3Store> {
    use lastmile_runtime::evidence::s3::{S3Config, S3Store};
    Ok(S3Store::from_sdk_config(
        &S3Config {
            bucket: Some(bucket.into()),
            prefix: prefix.into(),
            endpoint: Some(s3.endpoint()),
            force_path_style: true,
            region: Some("us-east-1".into()),
            ..S3Config::default()
        },
        &s3.sdk_config(),
    )?)
}

/// The manifest stored under `evidence`'s key, checked to be the one the diagnosis carries.
pub async fn stored_manifest(
    store: &lastmile_runtime::evidence::s3::S3Store,
    evidence: &lastmile_events::EvidenceRef,
) -> anyhow::Result<lastmile_events::EvidenceRef> {
    use anyhow::Context as _;
    use lastmile_runtime::evidence::EvidenceStore as _;
    let manifest: lastmile_events::EvidenceRef = serde_json::from_slice(
        &store
            .get(&evidence.manifest_key)
            .await?
            .context("manifest missing in S3")?,
    )?;
    anyhow::ensure!(
        &manifest == evidence,
        "the stored manifest is not the one the diagnosis carries"
    );
    Ok(manifest)
}

/// A real `lastmile function NAME` process with the cluster view on (`--kube on`, the fake
/// API server's kubeconfig) and a local evidence directory; its stderr (a debug log) is
/// collected for the no-secret checks.
pub struct HostedFunction {
    child: tokio::process::Child,
    log: tokio::task::JoinHandle<String>,
}

impl HostedFunction {
    /// Starts `lastmile function {name}` with `extra` arguments.
    pub fn start(
        name: &str,
        nats_url: &str,
        evidence: &std::path::Path,
        kubeconfig: &std::path::Path,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let mut command = tokio::process::Command::new(lastmile_tests::bin::lastmile_bin()?);
        command
            .args(["function", name, "--nats-url", nats_url])
            .arg("--evidence-dir")
            .arg(evidence)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--kube", "on"])
            .args(extra)
            .env_remove("KUBECONFIG")
            .env_remove("LASTMILE_S3_BUCKET")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env("LASTMILE_LOG", "debug");
        Self::spawn(command)
    }

    /// Starts a prepared `lastmile function …` command (any flags), collecting its stderr.
    pub fn spawn(mut command: tokio::process::Command) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let mut child = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut stderr = child.stderr.take().context("no stderr")?;
        let log = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s).await;
            s
        });
        Ok(Self { child, log })
    }

    /// SIGTERM: the host drains and must exit 0 within `wait`; returns its log.
    pub async fn stop(mut self, wait: std::time::Duration) -> anyhow::Result<String> {
        use anyhow::Context as _;
        let pid = self.child.id().context("function already exited")?;
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(killed.success(), "kill -TERM failed");
        let status = tokio::time::timeout(wait, self.child.wait()).await??;
        let log = self.log.await?;
        anyhow::ensure!(status.success(), "exit {status}; log:\n{log}");
        Ok(log)
    }
}
