//! Issue 3 end to end: a recorded storm — 500 pods of one Job pending on a taint, each with
//! its FailedScheduling event — served by the fake API server, watched by the real watcher,
//! published on a real nats-server, diagnosed by the `pending` function hosted on that NATS
//! with evidence in a real S3 server and spans exported to a real OTLP receiver.
//!
//! Expected: ONE incident (every incident message carries the same key, its count grows to
//! 500), ONE diagnosis on the bus, its evidence (pod, events, node groups) in S3, and its
//! spans in one trace rooted at the watcher's publish.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use lastmile_contract::Context;
use lastmile_events::{CloudEvent, Diagnosis, EvidenceRef, IncidentFamily};
use lastmile_runtime::bus::Bus;
use lastmile_runtime::evidence::EvidenceStore;
use lastmile_runtime::executor::Executor;
use lastmile_runtime::host::nats::HostOptions;
use lastmile_runtime::telemetry::{self, OtlpConfig, OtlpProtocol, Telemetry, TelemetryConfig};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::otlp::OtlpReceiver;
use lastmile_tests::s3::S3Server;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::watcher::{bus, config, incidents, start_watcher, stored, wait_for};

const PODS: usize = 500;
const BUCKET: &str = "storm";
const MESSAGE: &str = "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 4 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.";

fn node(name: &str, taint: (&str, &str)) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": format!("uid-{name}"), "resourceVersion": "1",
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux",
                       "node.kubernetes.io/instance-type": "g5.xlarge"}},
        "spec": {"taints": [{"key": taint.0, "value": taint.1, "effect": "NoSchedule"}]},
        "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                   "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "v1.31.2",
                                "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://1.7.22",
                                "kernelVersion": "6.1.0", "machineID": "m", "systemUUID": "s", "bootID": "b", "kubeProxyVersion": ""}}
    })
}

fn pod(i: usize) -> Value {
    let name = format!("e2e-build-{i:05}");
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "ci", "uid": format!("uid-{name}"), "generateName": "e2e-build-",
            "creationTimestamp": "2026-11-26T10:00:00Z",
            "labels": {"batch.kubernetes.io/job-name": "e2e-build", "job-name": "e2e-build"},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "e2e-build", "uid": "uid-e2e-build", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"containers": [{"name": "build", "image": "ghcr.io/acme/build:1.0",
                    "env": [{"name": "NPM_TOKEN", "value": "npm_s3cr3tT0ken"}],
                    "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}}}],
                 "restartPolicy": "Never", "schedulerName": "default-scheduler",
                 "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]},
        "status": {"phase": "Pending", "qosClass": "Burstable",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                            "lastTransitionTime": "2026-11-26T10:00:00Z", "message": MESSAGE}]}
    })
}

fn event(i: usize) -> Value {
    let name = format!("e2e-build-{i:05}");
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.18a7f3c2d1e0b9a8"), "namespace": "ci", "uid": format!("uid-ev-{name}")},
        "involvedObject": {"kind": "Pod", "namespace": "ci", "name": name, "uid": format!("uid-{name}"), "apiVersion": "v1"},
        "reason": "FailedScheduling", "type": "Warning",
        "message": if i.is_multiple_of(3) { format!("(combined from similar events): {MESSAGE}") } else { MESSAGE.to_owned() },
        "source": {"component": "default-scheduler"}, "reportingComponent": "default-scheduler",
        "firstTimestamp": "2026-11-26T10:00:00Z", "lastTimestamp": "2026-11-26T10:04:00Z", "count": 1 + i % 7
    })
}

fn job() -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "e2e-build", "namespace": "ci", "uid": "uid-e2e-build", "creationTimestamp": "2026-11-26T10:00:00Z"},
        "spec": {"parallelism": PODS, "completions": PODS, "backoffLimit": 0,
                 "template": {"spec": {"containers": [{"name": "build", "image": "ghcr.io/acme/build:1.0"}], "restartPolicy": "Never"}}},
        // Started just now: the Job itself is not overdue, only its pods are stuck.
        "status": {"active": PODS, "startTime": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()}
    })
}

#[tokio::test(flavor = "current_thread")]
async fn storm_of_failed_scheduling_is_one_incident_one_diagnosis_with_evidence_and_a_trace()
-> anyhow::Result<()> {
    // Telemetry for everything in this test (watcher and function run as tasks on this thread).
    let receiver = OtlpReceiver::start().await?;
    let Telemetry { dispatch, guard } = telemetry::build(&TelemetryConfig {
        service_name: "lastmile-storm".into(),
        otlp: Some(OtlpConfig {
            protocol: OtlpProtocol::Grpc,
            endpoint: Some(receiver.endpoint()),
            tls: Default::default(),
        }),
        log_filter: "off".into(),
        json_logs: false,
    })?;
    let _installed = tracing::dispatcher::set_default(&dispatch);

    let nats = NatsServer::start().await?;
    let s3 = S3Server::start().await?;
    s3.create_bucket(BUCKET)?;
    let api = FakeApiServer::start().await?;
    api.apply(node(
        "control-plane",
        ("node-role.kubernetes.io/control-plane", ""),
    ))?;
    for n in 0..4 {
        api.apply(node(&format!("gpu-{n}"), ("dedicated", "gpu")))?;
    }
    api.apply(job())?;
    for i in 0..PODS {
        api.apply(pod(i))?;
        api.apply(event(i))?;
    }

    // The pending function on NATS, writing evidence to S3.
    let bus = bus(&nats).await?;
    let store = Arc::new(crate::support::s3_store(&s3, BUCKET, "")?);
    let executor = Executor::new(
        lastmile_fn_pending::FUNCTION,
        Context::offline(),
        store.clone(),
        bus.clone(),
    );
    let stop_host = CancellationToken::new();
    let host = tokio::spawn(lastmile_runtime::host::nats::run(
        executor,
        bus.clone() as Arc<dyn Bus>,
        HostOptions::default(),
        stop_host.clone().cancelled_owned(),
    ));

    let watcher = start_watcher(&api, bus.clone(), config()).await?;
    let js = bus.jetstream().clone();
    let all = wait_for(
        &js,
        "LASTMILE_INCIDENTS",
        "the incident to count all 500 pods",
        |s| {
            incidents(s)
                .iter()
                .any(|i| i.family == IncidentFamily::Pending && i.count as usize == PODS)
        },
    )
    .await?;
    let keys: BTreeSet<String> = incidents(&all).iter().map(|i| i.key.clone()).collect();
    assert_eq!(keys.len(), 1, "one incident for the whole storm: {keys:?}");
    let published_updates = all.len();
    assert!(
        published_updates < PODS / 5,
        "updates are throttled, not one per pod: {published_updates}"
    );

    // Let the function catch up with every update, then count diagnoses on the bus.
    wait_for(&js, "LASTMILE_DIAGNOSES", "a diagnosis", |s| !s.is_empty()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stored_diagnoses = stored(&js, "LASTMILE_DIAGNOSES").await?;
    let diagnoses: Vec<Diagnosis> = stored_diagnoses
        .iter()
        .filter(|(_, subject, _)| subject.starts_with("lastmile.diagnosis."))
        .map(|(_, _, p)| CloudEvent::<Diagnosis>::from_slice(p).map(|c| c.data))
        .collect::<Result<_, _>>()?;
    assert_eq!(
        diagnoses.len(),
        1,
        "one diagnosis for the storm: {:?}",
        diagnoses.iter().map(|d| &d.class).collect::<Vec<_>>()
    );
    let diagnosis = &diagnoses[0];
    assert_eq!(diagnosis.class.as_str(), "scheduling.untolerated_taint");
    assert_eq!(
        diagnosis.incident.as_deref(),
        keys.iter().next().map(String::as_str)
    );
    assert!(
        diagnosis.remediation.iter().any(|r| r
            .command
            .as_deref()
            .is_some_and(|c| c.contains("dedicated"))),
        "the fix names the taint: {:?}",
        diagnosis.remediation
    );

    // Evidence in S3: the pod, the events and the node groups; no env value leaked.
    let manifest: EvidenceRef = serde_json::from_slice(
        &store
            .get(
                &diagnosis
                    .evidence_ref
                    .as_ref()
                    .context("no evidence ref")?
                    .manifest_key,
            )
            .await?
            .context("manifest missing")?,
    )?;
    let mut texts = String::new();
    for object in &manifest.objects {
        let bytes = store
            .get(&object.key)
            .await?
            .with_context(|| format!("{} missing", object.name))?;
        texts.push_str(&String::from_utf8_lossy(&bytes));
    }
    let names: Vec<&str> = manifest.objects.iter().map(|o| o.name.as_str()).collect();
    assert!(names.iter().any(|n| n.contains("pod")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("event")), "{names:?}");
    assert!(names.iter().any(|n| n.contains("node")), "{names:?}");
    assert!(
        texts.contains("FailedScheduling") && texts.contains("gpu-"),
        "events and node groups stored"
    );
    assert!(
        !texts.contains("npm_s3cr3tT0ken"),
        "env values are redacted before storage"
    );

    // One trace: watcher publish (root) → function → evidence → diagnosis publish.
    let trace_id = diagnosis
        .trace_id
        .clone()
        .context("diagnosis without trace id")?;
    guard.flush().await?;
    let spans = receiver
        .wait_for_trace(
            &trace_id,
            &[
                "incident.publish",
                "diagnose pending",
                "lastmile.evidence.store",
                "lastmile.diagnosis.publish",
            ],
            Duration::from_secs(30),
        )
        .await?;
    let root = spans
        .iter()
        .find(|s| s.name == "incident.publish")
        .context("no root")?;
    let function = spans
        .iter()
        .find(|s| s.name == "diagnose pending")
        .context("no function span")?;
    assert_eq!(root.parent_span_id, "", "the watcher's publish is the root");
    assert_eq!(function.parent_span_id, root.span_id);
    assert_eq!(function.attr("k8s.job.name"), Some("e2e-build"));

    watcher.stop.cancel();
    stop_host.cancel();
    let _ = watcher.task.await;
    host.await??;
    Ok(())
}
