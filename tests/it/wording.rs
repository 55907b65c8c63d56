//! The `wording` function on the live path: recorded pod objects served by the fake API
//! server (real list/watch protocol) → the watcher (in process) → a real nats-server → the
//! real `lastmile function wording` binary consuming from JetStream → its evidence in a real
//! S3 server (s3s-fs) and its diagnosis on `lastmile.diagnosis.<class>`.
//!
//! The pod is the recorded Pending Job pod of `pods-job-pending.json`, with the scheduler's
//! condition left out (its fit error is one the pending function settles) and a Warning
//! Event from a storage operator that says in prose what holds it. No rule reads that
//! sentence; the model reads `scheduling.volume_binding` in it (`lastmile explain` on the
//! same pod and Event leads with the wording function's lead). And an Event whose words
//! weigh toward nothing: no wording diagnosis, the incident acknowledged, nothing
//! dead-lettered. And `lastmile gate` on the pod's Job, when a rule's definitive finding
//! without conviction names another class: the lead is the cause it prints, the finding
//! what failed (`lastmile_events::ranking`, as `explain` ranks them).

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use lastmile_events::{CloudEvent, Diagnosis, EvidenceRef, IncidentFamily, subjects};
use lastmile_runtime::bus::{MSG_ID_HEADER, Message, Publisher};
use lastmile_runtime::evidence::EvidenceStore;
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::s3::S3Server;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{HostedFunction, s3_store, stored_manifest};
use crate::watcher::{Stored, bus, config, fixture, incidents, start_watcher, stored, wait_for};

const WAIT: Duration = Duration::from_secs(60);
const BUCKET: &str = "lastmile-evidence";
const PREFIX: &str = "e2e-wording";
/// An env value planted in the pod; no stored object, published diagnosis or log may hold it.
const PLANTED_SECRET: &str = "e2e-Wording-Pa55-9d2f";
/// What the storage operator says about the pod: no rule's words, the model's.
const UNBOUND: &str = "the persistent volume claim is still unbound; the provisioner of storage class fast-ssd has not created a volume";
/// A Warning from an unrelated controller: words that weigh toward no class.
const UNRELATED: &str = "nightly snapshot skipped: the next window opens at 02:00";

/// The recorded Pending pod `ci/migrate-x7k2p` without the scheduler's condition, with
/// `DB_PASSWORD` planted in its env, and one Warning Event about it.
fn pod_and_event(reason: &str, message: &str) -> anyhow::Result<(Value, Value)> {
    let mut pod = fixture("pods-job-pending.json")["items"][0].clone();
    anyhow::ensure!(pod["metadata"]["name"] == "migrate-x7k2p", "{pod:#}");
    pod["status"] = json!({"phase": "Pending", "qosClass": "Burstable"});
    pod["spec"]["containers"][0]["env"]
        .as_array_mut()
        .context("the recorded pod has an env")?
        .push(json!({"name": "DB_PASSWORD", "value": PLANTED_SECRET}));
    let now = chrono::Utc::now().to_rfc3339();
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": "migrate-x7k2p.18a2c4e6f8b0d1e3",
            "namespace": "ci",
            "uid": "uid-ev-migrate-x7k2p-operator",
            "creationTimestamp": now,
        },
        "involvedObject": {
            "kind": "Pod",
            "namespace": "ci",
            "name": "migrate-x7k2p",
            "uid": "uid-migrate-x7k2p",
            "apiVersion": "v1",
        },
        "reason": reason,
        "message": message,
        "source": {"component": "storage-operator"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 3,
        "type": "Warning",
        "reportingComponent": "storage-operator",
        "reportingInstance": "",
    });
    Ok((pod, event))
}

/// `lastmile function wording` on `nats`, its evidence in `s3`; stderr collected.
fn start_wording(nats: &NatsServer, s3: &S3Server) -> anyhow::Result<HostedFunction> {
    let mut command = tokio::process::Command::new(lastmile_bin()?);
    command
        .args(["function", "wording", "--nats-url", &nats.url()])
        .args(["--s3-bucket", BUCKET, "--s3-prefix", PREFIX])
        .args(["--s3-endpoint", &s3.endpoint(), "--s3-force-path-style"])
        .args(["--s3-region", "us-east-1", "--kube", "off"])
        .env("AWS_ACCESS_KEY_ID", s3.access_key())
        .env("AWS_SECRET_ACCESS_KEY", s3.secret_key())
        .env_remove("AWS_PROFILE")
        .env_remove("NATS_URL")
        .env_remove("LASTMILE_EVIDENCE_DIR")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("LASTMILE_LOG", "info");
    HostedFunction::spawn(command)
}

/// The first diagnosis the wording function publishes on `sub` (bounded by [`WAIT`]), with
/// its subject and raw payload.
async fn wording_diagnosis(
    sub: &mut async_nats::Subscriber,
) -> anyhow::Result<(String, Vec<u8>, Diagnosis)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, sub.next())
            .await
            .context("no wording diagnosis within a minute")?
            .context("diagnosis subscription ended")?;
        let d = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
        if d.function.as_deref() == Some("wording") {
            return Ok((msg.subject.to_string(), msg.payload.to_vec(), d));
        }
    }
}

/// The objects a stored manifest lists, each read back and checked to be content-addressed.
async fn stored_objects(
    s3: &S3Server,
    evidence: &EvidenceRef,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let store = s3_store(s3, BUCKET, PREFIX)?;
    let manifest = stored_manifest(&store, evidence).await?;
    let mut out = Vec::new();
    for object in &manifest.objects {
        let bytes = store
            .get(&object.key)
            .await?
            .with_context(|| format!("{} missing", object.key))?;
        assert_eq!(hex::encode(Sha256::digest(&bytes)), object.sha256);
        assert_eq!(object.key, format!("objects/sha256/{}", object.sha256));
        out.push((object.name.clone(), bytes));
    }
    Ok(out)
}

/// A running live path: the servers, the function, the watcher, a subscription to diagnoses.
struct Live {
    nats: NatsServer,
    s3: S3Server,
    _api: FakeApiServer,
    function: HostedFunction,
    watcher: crate::watcher::Running,
    js: async_nats::jetstream::Context,
    diagnoses: async_nats::Subscriber,
}

/// Starts the servers, the function and the watcher on the pod with a Warning Event
/// `reason`: `message`.
async fn live(reason: &str, message: &str) -> anyhow::Result<Live> {
    let nats = NatsServer::start().await?;
    let s3 = S3Server::start().await?;
    s3.create_bucket(BUCKET)?;
    let bus = bus(&nats).await?;
    let js = bus.jetstream().clone();
    let client = async_nats::connect(nats.url()).await?;
    let diagnoses = client.subscribe("lastmile.diagnosis.>").await?;
    let function = start_wording(&nats, &s3)?;

    let api = FakeApiServer::start().await?;
    api.apply_all(fixture("nodes.json"))?;
    let (pod, event) = pod_and_event(reason, message)?;
    api.apply(pod)?;
    api.apply(event)?;
    let watcher = start_watcher(&api, bus, config()).await?;
    Ok(Live {
        nats,
        s3,
        _api: api,
        function,
        watcher,
        js,
        diagnoses,
    })
}

/// Waits for the watcher's Pending incident about the pod, carrying the operator's Event.
async fn pending_incident(js: &async_nats::jetstream::Context) -> anyhow::Result<Vec<Stored>> {
    wait_for(
        js,
        "LASTMILE_INCIDENTS",
        "the pending incident with its event",
        |s| {
            incidents(s).iter().any(|i| {
                i.family == IncidentFamily::Pending
                    && i.subject.name == "migrate-x7k2p"
                    && !i.events.is_empty()
            })
        },
    )
    .await
}

#[tokio::test]
async fn an_operators_prose_no_rule_reads_is_a_wording_lead_through_nats_and_s3()
-> anyhow::Result<()> {
    let mut live = live("VolumeNotReady", UNBOUND).await?;
    let (subject, payload, d) = wording_diagnosis(&mut live.diagnoses).await?;
    let stream = pending_incident(&live.js).await?;
    let keys: BTreeSet<String> = incidents(&stream).into_iter().map(|i| i.key).collect();

    // A lead, not a finding: the class the words read, ranked below what a rule says.
    assert_eq!(subject, "lastmile.diagnosis.scheduling.volume_binding");
    assert_eq!(d.class.as_str(), "scheduling.volume_binding", "{d:#?}");
    assert!(d.confidence > 0.0 && d.confidence <= 0.55, "{d:#?}");
    assert!(!d.definitive, "{d:#?}");
    assert!(
        d.incident.as_ref().is_some_and(|k| keys.contains(k)),
        "{:?} not in {keys:?}",
        d.incident
    );
    assert_eq!(d.subject.name, "migrate-x7k2p");
    assert!(
        d.summary
            .starts_with("The report reads like `scheduling.volume_binding`")
            && d.summary.contains("a lead to confirm, not a finding"),
        "{}",
        d.summary
    );
    // The words that weighed most, in the evidence and in the details.
    let weighed = d
        .evidence
        .iter()
        .find(|e| e.starts_with("words that weighed most:"))
        .with_context(|| format!("no weighed words in {:#?}", d.evidence))?;
    for word in ["\"unbound\"", "\"volume\""] {
        assert!(weighed.contains(word), "{weighed}");
    }
    let terms = &d.details["wording"]["terms"];
    assert!(
        terms
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "unbound")),
        "{terms}"
    );

    // Its evidence in S3: the manifest the diagnosis names, `wording.json` in it.
    let evidence = d
        .evidence_ref
        .as_ref()
        .context("diagnosis without evidence")?;
    assert!(
        evidence
            .store
            .starts_with(&format!("s3://{BUCKET}/{PREFIX}")),
        "{}",
        evidence.store
    );
    let objects = stored_objects(&live.s3, evidence).await?;
    let wording = objects
        .iter()
        .find(|(name, _)| name == "wording.json")
        .with_context(|| format!("no wording.json in {:?}", evidence.objects))?;
    let stored: Value = serde_json::from_slice(&wording.1)?;
    assert_eq!(stored["wording"]["class"], "scheduling.volume_binding");
    assert_eq!(stored["wording"]["terms"], *terms);

    // The planted secret reached nothing: no byte the S3 server stored, not the published
    // diagnosis, not the function's log.
    let files = live.s3.stored_files()?;
    assert!(!files.is_empty());
    for (path, bytes) in &files {
        assert!(
            !String::from_utf8_lossy(bytes).contains(PLANTED_SECRET),
            "{} holds the pod's env value",
            path.display()
        );
    }
    assert!(!String::from_utf8_lossy(&payload).contains(PLANTED_SECRET));

    live.watcher.stop.cancel();
    live.watcher.task.await?;
    let log = live.function.stop(WAIT).await?;
    assert!(!log.contains(PLANTED_SECRET), "{log}");
    Ok(())
}

#[tokio::test]
async fn words_that_weigh_toward_nothing_are_no_diagnosis_and_the_incident_is_acked()
-> anyhow::Result<()> {
    let mut live = live("BackupSkipped", UNRELATED).await?;
    pending_incident(&live.js).await?;
    // Every incident the watcher will publish is in the stream once it stopped.
    live.watcher.stop.cancel();
    live.watcher.task.await?;
    let last = live
        .js
        .get_stream("LASTMILE_INCIDENTS")
        .await?
        .info()
        .await?
        .state
        .last_sequence;

    // The function's durable consumer acknowledged all of them (bounded wait).
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let info = match live.js.get_stream("LASTMILE_INCIDENTS").await {
            Ok(s) => s.consumer_info("wording").await.ok(),
            Err(_) => None,
        };
        if let Some(i) = &info
            && i.num_pending == 0
            && i.num_ack_pending == 0
            && i.ack_floor.stream_sequence >= last
        {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the wording consumer did not ack the {last} incident(s) within a minute: {info:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Acked after whatever it publishes: so no diagnosis came, none is stored, nothing was
    // dead-lettered and no evidence was written.
    let published = stored(&live.js, "LASTMILE_DIAGNOSES").await?;
    let from_wording: Vec<&Stored> = published
        .iter()
        .filter(|(_, _, p)| {
            CloudEvent::<Diagnosis>::from_slice(p)
                .is_ok_and(|c| c.data.function.as_deref() == Some("wording"))
        })
        .collect();
    assert!(from_wording.is_empty(), "{from_wording:?}");
    if let Ok(Some(msg)) =
        tokio::time::timeout(Duration::from_millis(200), live.diagnoses.next()).await
    {
        let d = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
        assert_ne!(d.function.as_deref(), Some("wording"), "{d:#?}");
    }
    let dead: Vec<String> = stored(&live.js, "LASTMILE_DLQ")
        .await?
        .into_iter()
        .map(|(_, subject, _)| subject)
        .collect();
    assert!(dead.is_empty(), "dead-lettered: {dead:?}");
    assert!(live.s3.stored_files()?.is_empty(), "evidence was written");

    let log = live.function.stop(WAIT).await?;
    assert!(!log.contains(PLANTED_SECRET), "{log}");
    Ok(())
}

#[tokio::test]
async fn the_gate_prints_a_lead_that_contests_a_finding_without_conviction_as_the_cause()
-> anyhow::Result<()> {
    let mut live = live("VolumeNotReady", UNBOUND).await?;
    let (_, _, lead) = wording_diagnosis(&mut live.diagnoses).await?;
    let dir = tempfile::tempdir()?;
    let summary = dir.path().join("summary.md");
    let gate = crate::gate::gate(
        &live.nats,
        &["--workload", "job/ci/migrate", "--timeout", "90s"],
        &summary,
    )?;

    // A rule's definitive finding for the same incident, without conviction, naming
    // another class: what a function publishes for it.
    let mut finding = Diagnosis::new(
        "scheduling.node_affinity",
        0.7,
        "The pod's nodeSelector matches no node.",
        lead.subject.clone(),
    );
    finding.definitive = true;
    finding.function = Some("pending".into());
    finding.incident = lead.incident.clone();
    let id = lastmile_events::envelope::stable_id(&["diag", "contested", &lead.subject.name]);
    let ce = CloudEvent::new(
        id.clone(),
        "/lastmile/function/pending",
        None,
        chrono::Utc::now(),
        finding,
    );
    let mut msg = Message {
        subject: subjects::diagnosis("scheduling.node_affinity"),
        payload: ce.to_vec()?.into(),
        ..Default::default()
    };
    msg.headers.insert(MSG_ID_HEADER.into(), id);
    bus(&live.nats).await?.publish(msg).await?;

    let (code, out) = crate::gate::finish(gate).await?;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("will not become ready: The pod's nodeSelector matches no node."),
        "{out}"
    );
    assert!(
        out.contains("cause:      scheduling.volume_binding"),
        "{out}"
    );
    assert!(
        out.contains("ranked above `scheduling.node_affinity` (70%, function pending)"),
        "{out}"
    );
    assert!(!out.contains(PLANTED_SECRET), "{out}");

    live.watcher.stop.cancel();
    live.watcher.task.await?;
    live.function.stop(WAIT).await?;
    Ok(())
}
