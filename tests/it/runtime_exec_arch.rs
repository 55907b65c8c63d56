//! Issue 12's `exec format error` with the binary's architecture read from the image: the
//! real `lastmile function runtime` binary consumes Runtime incidents from a real
//! nats-server, reads the pod's pull secret by name from the (fake, real-protocol) API
//! server, and asks a real htpasswd-protected docker-registry which platforms the image the
//! pod runs was published for.
//!
//! - an arm64-only image on an amd64 node: said as fact, with the registry's evidence line
//!   (the image config's `architecture`) and both fixes;
//! - a multi-platform index that has amd64: the binary inside the image is the wrong one;
//! - a registry that cannot be reached, and `lastmile explain` (no registry access at all):
//!   the text-only diagnosis, saying the platforms were not checked;
//! - no Node in the cluster state (the watcher's Runtime incidents today): the pod's
//!   `kubernetes.io/arch` nodeSelector gives the node's platform, and without one the
//!   diagnosis says why the single-platform image's config was not read.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt;
use lastmile_events::{CloudEvent, Diagnosis, Incident, IncidentFamily, ObjectRef};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::files::read_tree;

use crate::support::{HostedFunction, publish_incident};
use lastmile_tests::nats::NatsServer;
use lastmile_tests::registry::{Plat, Pusher, Registry, RegistryAuth, linux};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "arch-Pa55word-4e1d";
const CLASS: &str = "image.platform_mismatch";

/// A worker node as `kubectl get node -o json` prints it (trimmed to what is read).
fn amd64_node() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "worker-1", "labels": {
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "worker-1", "kubernetes.io/os": "linux"}},
        "status": {"nodeInfo": {"architecture": "amd64", "bootID": "5d0c4c4e-8a8e-4a57-9c53-0c7c8f1f2b9e",
            "containerRuntimeVersion": "containerd://1.7.22", "kernelVersion": "6.1.0-25-amd64",
            "kubeProxyVersion": "v1.31.2", "kubeletVersion": "v1.31.2", "machineID": "9f0e1d2c3b4a",
            "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)", "systemUUID": "ec2a9f0e"}}
    })
}

/// A pod of Deployment `api` crash-looping on worker-1 after `exec format error`: its status
/// as the kubelet writes it, the last run's termination `message` as given (the log's last
/// lines under `FallbackToLogsOnError`).
fn pod(name: &str, image: &str, image_id: &str, message: Option<&str>) -> Value {
    let mut terminated = json!({"exitCode": 1, "reason": "Error",
        "startedAt": "2026-03-03T09:30:02Z", "finishedAt": "2026-03-03T09:30:02Z",
        "containerID": "containerd://4b1f0c2d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c"});
    if let Some(m) = message {
        terminated["message"] = m.into();
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": "2026-03-03T09:28:40Z",
            "labels": {"app": "api", "pod-template-hash": "7c9b6d8f45"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7c9b6d8f45",
                "uid": "0b9f5c7e-1111-4222-8333-444455556666", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"nodeName": "worker-1", "serviceAccountName": "default",
            "imagePullSecrets": [{"name": "regcred"}],
            "containers": [{"name": "api", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["/app/server"], "terminationMessagePolicy": "FallbackToLogsOnError",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "qosClass": "BestEffort",
            "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
            "containerStatuses": [{"name": "api", "image": image, "imageID": image_id,
                "ready": false, "started": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": format!("back-off 2m40s restarting failed container=api pod={name}_shop(0b9f5c7e-aaaa-4bbb-8ccc-ddddeeeeffff)")}},
                "lastState": {"terminated": terminated}}]}
    })
}

/// The Runtime incident the watcher makes of `pod`, with the node in its cluster state and
/// `log` as the pasted text.
fn incident(pod: Value, log: Option<&str>) -> anyhow::Result<Incident> {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: pod["metadata"]["name"]
            .as_str()
            .context("pod name")?
            .to_owned(),
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "api".into(),
        ..Default::default()
    };
    let mut i = Incident::new(
        IncidentFamily::Runtime,
        subject,
        Some(owner),
        chrono::Utc::now(),
    );
    i.pod = Some(serde_json::from_value(pod)?);
    std::sync::Arc::make_mut(&mut i.snapshot)
        .nodes
        .push(serde_json::from_value(amd64_node())?);
    i.text = log.map(str::to_owned);
    Ok(i)
}

/// `incident` without the Node in its cluster state.
fn without_node(mut incident: Incident) -> Incident {
    std::sync::Arc::make_mut(&mut incident.snapshot)
        .nodes
        .clear();
    incident
}

/// `pod` with a `kubernetes.io/arch: amd64` nodeSelector.
fn pinned_to_amd64(mut pod: Value) -> Value {
    pod["spec"]["nodeSelector"] = json!({"kubernetes.io/arch": "amd64"});
    pod
}

fn commands(d: &Diagnosis) -> Vec<&str> {
    d.remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect()
}

#[tokio::test]
async fn exec_format_error_names_the_images_platforms_read_from_the_registry() -> anyhow::Result<()>
{
    // The registry: htpasswd, so only the pod's pull secret gets the platforms. An arm64-only
    // image, and a multi-platform index that has amd64.
    let reg = Registry::start(
        RegistryAuth::Htpasswd(vec![("shop".into(), PASSWORD.into())]),
        None,
    )
    .await?;
    let basic = format!("Basic {}", STANDARD.encode(format!("shop:{PASSWORD}")));
    let push = Pusher::new(&reg.base_url(), Some(basic), None)?;
    let arm64 = Plat {
        os: "linux",
        arch: "arm64",
        variant: None,
    };
    let (arm_digest, _, _) = push.image("acme/api", Some("2.14.0"), arm64, true).await?;
    let index_digest = push
        .index("acme/multi", "3.0", &[linux("amd64"), arm64], true)
        .await?;
    let host = reg.host();

    // The cluster: the pod's dockerconfigjson pull secret.
    let api = FakeApiServer::start().await?;
    let auth = STANDARD.encode(format!("shop:{PASSWORD}"));
    let docker_config = json!({"auths": {&host: {"auth": &auth}}});
    api.apply(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "regcred", "namespace": "shop"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": STANDARD.encode(docker_config.to_string())}
    }))?;
    let kubeconfig = api.kubeconfig()?;

    let nats = NatsServer::start().await?;
    let evidence = tempfile::tempdir()?;
    let function = HostedFunction::start(
        "runtime",
        &nats.url(),
        evidence.path(),
        &kubeconfig,
        &["--probe", "true"],
    )?;

    let client = async_nats::connect(nats.url()).await?;
    let mut diagnoses = client.subscribe("lastmile.diagnosis.>").await?;
    let bus = NatsBus::connect(&NatsConfig::with_url(nats.url())).await?;
    bus.ensure_streams().await?;
    let arm_ref = format!("{host}/acme/api@{arm_digest}");
    let incidents = [
        // runc 1.1+: the exec fails inside the container, its log says so.
        incident(
            pod(
                "api-arm",
                &format!("{host}/acme/api:2.14.0"),
                &arm_ref,
                None,
            ),
            Some("exec /app/server: exec format error"),
        )?,
        // Older runc, in the termination message; the node ran the index.
        incident(
            pod(
                "api-multi",
                &format!("{host}/acme/multi:3.0"),
                &format!("{host}/acme/multi@{index_digest}"),
                Some("standard_init_linux.go:228: exec user process caused: exec format error"),
            ),
            None,
        )?,
        // Nothing listens on port 1: the registry cannot be reached.
        incident(
            pod(
                "api-down",
                "127.0.0.1:1/acme/api:2.14.0",
                "",
                Some("exec /app/server: exec format error"),
            ),
            None,
        )?,
        // No Node in the cluster state (as the watcher sends Runtime incidents today), but
        // the pod asks for amd64 nodes: the scheduler's answer is the node's platform.
        without_node(incident(
            pinned_to_amd64(pod(
                "api-pinned",
                &format!("{host}/acme/api:2.14.0"),
                &arm_ref,
                None,
            )),
            Some("exec /app/server: exec format error"),
        )?),
        // No Node and no nodeSelector: a single-platform image's config is not read.
        without_node(incident(
            pod(
                "api-nonode",
                &format!("{host}/acme/api:2.14.0"),
                &arm_ref,
                None,
            ),
            Some("exec /app/server: exec format error"),
        )?),
    ];
    for (n, inc) in incidents.into_iter().enumerate() {
        publish_incident(&bus, format!("exec-arch-{n}"), inc).await?;
    }

    let mut found: BTreeMap<String, Diagnosis> = BTreeMap::new();
    let mut published = String::new();
    while found.len() < 5 {
        let msg = tokio::time::timeout(WAIT, diagnoses.next())
            .await
            .context("waiting for the five platform diagnoses")?
            .context("subscription ended")?;
        published.push_str(&String::from_utf8_lossy(&msg.payload));
        let d = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
        if d.class.as_str() == CLASS {
            found.insert(d.subject.name.clone(), d);
        }
    }

    // arm64 only, on an amd64 node: said as fact, read from the image config.
    let d = &found["api-arm"];
    assert_eq!(
        d.summary,
        format!(
            "Container `api` cannot start: `exec format error`: image {arm_ref} is built for linux/arm64/v8 only; node worker-1 is linux/amd64."
        ),
        "{d:#?}"
    );
    assert!(
        d.evidence.iter().any(|e| e
            == &format!(
                "read from the registry (secret shop/regcred, entry \"{host}\"): the image config of {arm_ref} says \"architecture\": \"arm64\", \"os\": \"linux\", \"variant\": \"v8\""
            )),
        "{:#?}",
        d.evidence
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e == "node worker-1 is linux/amd64 (the Node's status.nodeInfo and labels)"),
        "{:#?}",
        d.evidence
    );
    assert_eq!(
        commands(d),
        [
            format!(
                "docker buildx build --platform linux/amd64,linux/arm64 -t {host}/acme/api:2.14.0 --push ."
            )
            .as_str(),
            "kubectl patch -n shop deployment/api -p '{\"spec\":{\"template\":{\"spec\":{\"nodeSelector\":{\"kubernetes.io/arch\":\"arm64\"}}}}}'",
        ],
        "{:#?}",
        d.remediation
    );
    assert!(d.definitive && d.confidence >= 0.97, "{d:#?}");
    assert_eq!(d.details["platform_check"]["from"], "config");
    assert_eq!(d.details["executable"], "/app/server");

    // The index has amd64: the binary inside is the wrong one.
    let d = &found["api-multi"];
    let multi_ref = format!("{host}/acme/multi@{index_digest}");
    assert!(
        d.summary.contains(&format!(
            "although image {multi_ref}'s index has linux/amd64 (node worker-1's platform): the binary inside the image is built for another CPU architecture"
        )),
        "{}",
        d.summary
    );
    assert!(
        d.evidence.iter().any(|e| e
            == &format!(
                "read from the registry (secret shop/regcred, entry \"{host}\"): the image index of {multi_ref} lists linux/amd64, linux/arm64/v8"
            )),
        "{:#?}",
        d.evidence
    );
    assert!(
        commands(d)[0].contains(&format!("docker create --platform linux/amd64 {multi_ref}")),
        "{:#?}",
        d.remediation
    );

    // The registry cannot be reached: the text-only diagnosis, not checked, still definitive.
    let d = &found["api-down"];
    assert!(
        d.summary
            .contains("built for another CPU architecture than the node's")
            && d.summary
                .ends_with("The image's platforms were not checked against the registry."),
        "{}",
        d.summary
    );
    assert!(
        d.evidence.iter().any(|e| e.starts_with(
            "image platforms not checked: the registry check of 127.0.0.1:1/acme/api:2.14.0 failed (image.network)"
        )),
        "{:#?}",
        d.evidence
    );
    assert!(
        commands(d)
            .iter()
            .any(|c| c.contains("kubectl get nodes -L kubernetes.io/arch")),
        "{:#?}",
        d.remediation
    );
    assert!(d.definitive, "{d:#?}");

    // The nodeSelector told the node's platform.
    let d = &found["api-pinned"];
    assert_eq!(
        d.summary,
        format!(
            "Container `api` cannot start: `exec format error`: image {arm_ref} is built for linux/arm64/v8 only; node worker-1 is linux/amd64."
        ),
        "{d:#?}"
    );
    assert!(
        d.evidence.iter().any(
            |e| e == "node worker-1 is linux/amd64 (the pod's nodeSelector kubernetes.io/arch)"
        ),
        "{:#?}",
        d.evidence
    );

    // Nothing told it: said, not guessed.
    let d = &found["api-nonode"];
    assert!(
        d.evidence.iter().any(|e| e
            == &format!(
                "image platforms not checked: {arm_ref} is a single-platform image and the node's platform is not in the cluster state, so its config was not read"
            )),
        "{:#?}",
        d.evidence
    );

    // SIGTERM: drains and exits 0.
    let log = function.stop(WAIT).await?;

    // The probe's transcript is stored as evidence, and no secret value is anywhere.
    let mut stored = String::new();
    assert!(
        read_tree(evidence.path(), &mut stored)? > 0,
        "evidence was written"
    );
    assert!(
        stored.contains("platform-check.json"),
        "the transcript is listed"
    );
    assert!(
        stored.contains(r#""authorization": "[REDACTED]""#),
        "the transcript shows the pull secret's login was sent, redacted"
    );
    for (what, text) in [
        ("diagnoses", &published),
        ("evidence", &stored),
        ("stderr", &log),
    ] {
        for secret in [PASSWORD, auth.as_str()] {
            assert!(!text.contains(secret), "a secret value leaked into {what}");
        }
    }
    Ok(())
}

/// `lastmile explain` has no registry access: the text-only diagnosis, saying the platforms
/// were not checked.
#[test]
fn without_registry_access_the_platforms_are_said_not_checked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("pod.json");
    let recording = pod(
        "api-arm",
        "ghcr.io/acme/api:2.14.0",
        "ghcr.io/acme/api@sha256:9b2a4e3f0c1d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f",
        Some("exec /app/server: exec format error"),
    );
    std::fs::write(&path, serde_json::to_vec(&recording)?)?;
    let out = std::process::Command::new(lastmile_bin()?)
        .args(["explain", &path.to_string_lossy(), "--format", "json"])
        .env_remove("NATS_URL")
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout)?;
    let d = &report["diagnoses"][0];
    assert_eq!(d["class"], CLASS, "{report:#}");
    let summary = d["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains("built for another CPU architecture than the node's")
            && summary.ends_with("The image's platforms were not checked against the registry."),
        "{summary}"
    );
    assert!(
        d["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e
                == "image platforms not checked: this host gives the function no registry access"),
        "{report:#}"
    );
    assert_eq!(d["details"]["platform_check"]["checked"], false);
    Ok(())
}

/// The live path: the fake API server serves the amd64 Node, the pull secret and the pod
/// crash-looping on `exec format error` (real list/watch); the watcher (in process) makes the
/// Runtime incident with the pod's Node in its cluster state; the real `lastmile function
/// runtime`, with registry probing on, reads the arm64-only image's platforms through the
/// pod's pull secret and says so.
#[tokio::test]
async fn through_the_watcher_the_live_incident_gets_the_images_platforms() -> anyhow::Result<()> {
    let reg = Registry::start(
        RegistryAuth::Htpasswd(vec![("shop".into(), PASSWORD.into())]),
        None,
    )
    .await?;
    let basic = format!("Basic {}", STANDARD.encode(format!("shop:{PASSWORD}")));
    let push = Pusher::new(&reg.base_url(), Some(basic), None)?;
    let arm64 = Plat {
        os: "linux",
        arch: "arm64",
        variant: None,
    };
    let (arm_digest, _, _) = push.image("acme/api", Some("2.14.0"), arm64, true).await?;
    let host = reg.host();
    let arm_ref = format!("{host}/acme/api@{arm_digest}");

    let api = FakeApiServer::start().await?;
    let auth = STANDARD.encode(format!("shop:{PASSWORD}"));
    let docker_config = json!({"auths": {&host: {"auth": &auth}}});
    api.apply(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "regcred", "namespace": "shop"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": STANDARD.encode(docker_config.to_string())}
    }))?;
    api.apply(amd64_node())?;
    api.apply(pod(
        "api-7c9b6d8f45-k2x9p",
        &format!("{host}/acme/api:2.14.0"),
        &arm_ref,
        Some("exec /app/server: exec format error"),
    ))?;
    let kubeconfig = api.kubeconfig()?;

    let nats = NatsServer::start().await?;
    let evidence = tempfile::tempdir()?;
    let function = HostedFunction::start(
        "runtime",
        &nats.url(),
        evidence.path(),
        &kubeconfig,
        &["--probe", "true"],
    )?;
    let client = async_nats::connect(nats.url()).await?;
    let mut diagnoses = client.subscribe("lastmile.diagnosis.>").await?;
    let watcher = crate::watcher::start_watcher(
        &api,
        crate::watcher::bus(&nats).await?,
        crate::watcher::config(),
    )
    .await?;

    let d = loop {
        let msg = tokio::time::timeout(WAIT, diagnoses.next())
            .await
            .context("no platform diagnosis from the live path")?
            .context("subscription ended")?;
        let d = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
        if d.class.as_str() == CLASS {
            break d;
        }
    };
    assert!(
        d.summary.contains(&format!(
            "image {arm_ref} is built for linux/arm64/v8 only; node worker-1 is linux/amd64"
        )),
        "{d:#?}"
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.starts_with("read from the registry (secret shop/regcred")),
        "{:#?}",
        d.evidence
    );
    assert!(d.definitive, "{d:#?}");

    watcher.stop.cancel();
    watcher.task.await?;
    let log = function.stop(WAIT).await?;
    assert!(
        !log.contains(PASSWORD),
        "the function's log quotes the password"
    );
    Ok(())
}
