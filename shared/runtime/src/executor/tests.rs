use chrono::{TimeZone, Utc};
use lastmile_events::{IncidentFamily, ObjectRef};

use super::*;

fn incident(pod: &str, count: u32, first_seen_min: u32) -> Incident {
    let t0 = Utc
        .with_ymd_and_hms(2026, 3, 3, 10, first_seen_min, 0)
        .single()
        .unwrap_or_default();
    let job = ObjectRef {
        kind: "Job".into(),
        namespace: Some("ci".into()),
        name: "e2e".into(),
        ..Default::default()
    };
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: pod.into(),
        ..Default::default()
    };
    let mut i = Incident::new(IncidentFamily::Pending, pod, Some(job), t0);
    i.count = count;
    i
}

#[test]
fn storm_updates_of_one_incident_keep_the_diagnosis_id() {
    let first = diagnosis_id(
        "pending",
        &incident("e2e-a", 1, 0),
        "scheduling.untolerated_taint",
        1,
    );
    let grown = diagnosis_id(
        "pending",
        &incident("e2e-b", 500, 0),
        "scheduling.untolerated_taint",
        1,
    );
    assert_eq!(first, grown);
}

#[test]
fn another_cause_or_a_reopened_incident_gets_a_new_id() {
    let base = diagnosis_id(
        "pending",
        &incident("a", 1, 0),
        "scheduling.untolerated_taint",
        1,
    );
    assert_ne!(
        base,
        diagnosis_id(
            "pending",
            &incident("a", 1, 0),
            "scheduling.node_affinity",
            1
        )
    );
    assert_ne!(
        base,
        diagnosis_id(
            "pending",
            &incident("a", 1, 0),
            "scheduling.untolerated_taint",
            2
        )
    );
    assert_ne!(
        base,
        diagnosis_id(
            "pending",
            &incident("a", 1, 30),
            "scheduling.untolerated_taint",
            1
        )
    );
    assert_ne!(
        base,
        diagnosis_id(
            "image-pull",
            &incident("a", 1, 0),
            "scheduling.untolerated_taint",
            1
        )
    );
}

static TWO_CAUSES_SPEC: lastmile_contract::FunctionSpec = lastmile_contract::FunctionSpec {
    name: "two-causes",
    description: "test: one outcome with two diagnoses",
    families: &[IncidentFamily::Pending],
    deadline: std::time::Duration::from_secs(5),
    max_evidence_bytes: 64 * 1024,
};

/// Two diagnoses of the incident's pod, and two evidence items.
fn two_causes<'a>(
    incident: &'a Incident,
    _ctx: &'a Context,
) -> lastmile_contract::HandleFuture<'a> {
    Box::pin(async move {
        let subject = lastmile_events::Subject {
            kind: "Pod".into(),
            namespace: incident.subject.namespace.clone(),
            name: incident.subject.name.clone(),
            container: None,
        };
        Ok(lastmile_contract::Outcome {
            diagnoses: vec![
                Diagnosis::new(
                    "scheduling.untolerated_taint",
                    0.9,
                    "tainted",
                    subject.clone(),
                ),
                Diagnosis::new("scheduling.node_affinity", 0.5, "selector", subject),
            ],
            evidence: vec![
                lastmile_contract::EvidenceItem::text("events.txt", "0/3 nodes are available"),
                lastmile_contract::EvidenceItem::text("nodes.txt", "gpu-1 dedicated=gpu"),
            ],
        })
    })
}

#[tokio::test]
async fn an_outcomes_diagnoses_share_one_manifest_named_after_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let bus = Arc::new(crate::bus::memory::MemoryBus::new());
    let executor = Executor::new(
        Function {
            spec: &TWO_CAUSES_SPEC,
            handle: two_causes,
        },
        Context::offline(),
        Arc::new(crate::evidence::local::LocalStore::new(dir.path()).unwrap()),
        bus,
    );
    let event = CloudEvent::new("e1", "/test", None, Utc::now(), incident("e2e-a", 1, 0));
    let message = Message {
        subject: "lastmile.incident.pending".into(),
        headers: BTreeMap::new(),
        payload: Bytes::from(event.to_vec().unwrap()),
    };
    let processed = executor.process(&message).await.unwrap();

    let [first, second] = processed.diagnoses.as_slice() else {
        panic!("two diagnoses: {:?}", processed.diagnoses)
    };
    let (a, b) = (
        first.evidence_ref.as_ref().unwrap(),
        second.evidence_ref.as_ref().unwrap(),
    );
    assert_eq!(a, b, "both diagnoses name the same manifest");
    assert_eq!(
        a.manifest_key,
        format!("manifests/two-causes/{}.json", first.id.as_deref().unwrap())
    );
    assert_eq!(a.objects.len(), 2);
    let manifests: Vec<_> = std::fs::read_dir(dir.path().join("manifests/two-causes"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(manifests.len(), 1, "one manifest written: {manifests:?}");
    let stored: lastmile_events::EvidenceRef =
        serde_json::from_slice(&std::fs::read(dir.path().join(&a.manifest_key)).unwrap()).unwrap();
    assert_eq!(&stored, a);
}
