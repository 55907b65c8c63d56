#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lastmile_events::{
    CiProvider, CiRunRef, Diagnosis, Incident, IncidentFamily, ObjectRef, Remediation, Subject,
};
use lastmile_redact::samples;

use super::*;

const SPEC: FunctionSpec = FunctionSpec {
    name: "workload",
    description: "test",
    families: &[IncidentFamily::Init],
    deadline: Duration::from_secs(1),
    max_evidence_bytes: 4096,
};

fn incident() -> Incident {
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "orders-0".into(),
        ..Default::default()
    };
    let mut i = Incident::new(
        IncidentFamily::Init,
        pod,
        None,
        chrono::DateTime::UNIX_EPOCH,
    );
    i.ci = Some(CiRunRef {
        provider: CiProvider::Github,
        run_id: "42".into(),
        pipeline: None,
        url: Some("https://x-access-token:ghs_0123456789abcdefghijABCDEFGHIJ012345@github.com/o/r/actions/runs/42".into()),
        commit: None,
        traceparent: None,
    });
    i
}

fn leaky(text: &str) -> Diagnosis {
    let mut d = Diagnosis::new(
        "init.blocked",
        0.9,
        format!("init container waits: {text}"),
        Subject::default(),
    );
    d.evidence.push(format!("\"{text}\""));
    d.remediation.push(Remediation {
        description: format!("check {text}"),
        command: Some(format!("kubectl logs pod/x # {text}")),
    });
    d.details = serde_json::json!({"log": text, "env": [{"name": "X", "value": "plain"}]});
    d
}

#[test]
fn provenance_is_stamped_once_for_every_host() {
    let inc = incident();
    let mut d = Diagnosis::new("init.blocked", 0.5, "s", Subject::default());
    d.function = Some("someone-else".into());
    let out = outcome(
        &SPEC,
        &inc,
        Outcome {
            diagnoses: vec![d],
            evidence: Vec::new(),
        },
    );
    let d = &out.diagnoses[0];
    assert_eq!(d.function.as_deref(), Some("workload"));
    assert_eq!(d.incident.as_deref(), Some(inc.key.as_str()));
    assert_eq!(d.ci.as_ref().map(|c| c.run_id.as_str()), Some("42"));
    // The CI link's credentials do not ride along.
    let url = d.ci.as_ref().and_then(|c| c.url.as_deref()).unwrap();
    assert!(!url.contains("ghs_0123"), "{url}");
    assert!(url.ends_with("@github.com/o/r/actions/runs/42"), "{url}");
}

#[test]
fn every_secret_shape_leaves_no_field_of_a_finalized_outcome() {
    for seed in 0..16 {
        for sample in samples::all(seed) {
            let evidence = vec![
                EvidenceItem::text("input.txt", sample.text.clone()),
                EvidenceItem::json("facts.json", &serde_json::json!({"line": sample.text}))
                    .unwrap(),
                EvidenceItem::json_document("doc.json", document_with(&sample.text)).unwrap(),
            ];
            let out = outcome(
                &SPEC,
                &incident(),
                Outcome {
                    diagnoses: vec![leaky(&sample.text)],
                    evidence,
                },
            );
            let all = format!(
                "{} {}",
                serde_json::to_string(&out.diagnoses).unwrap(),
                out.evidence
                    .iter()
                    .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            for s in &sample.secrets {
                assert!(
                    !all.contains(s.as_str()),
                    "{:?}: {s:?} in {all}",
                    sample.shape
                );
            }
        }
    }
}

/// A pod-like document carrying `text` in a free string, an env value, an annotation and a
/// secret-named key.
fn document_with(text: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "Pod",
        "metadata": {"name": "orders-0", "annotations": {"note": text}},
        "spec": {"containers": [{
            "name": "app",
            "args": ["--verbose", text],
            "env": [{"name": "DB_URL", "value": text}, {"name": "MODE", "value": "fast"}],
        }]},
        "apiToken": text,
        "status": {"message": text},
    })
}

#[test]
fn a_kept_document_is_redacted_to_the_bytes_the_policy_gives_its_serialisation() {
    for seed in 0..8 {
        for sample in samples::all(seed) {
            let document = document_with(&sample.text);
            let mut kept = EvidenceItem::json_document("pod.json", document.clone()).unwrap();
            let mut parsed = EvidenceItem::json("pod.json", &document).unwrap();
            assert_eq!(kept.bytes, parsed.bytes, "same bytes before the boundary");
            evidence_item(&mut kept);
            evidence_item(&mut parsed);
            assert_eq!(
                String::from_utf8_lossy(&kept.bytes),
                String::from_utf8_lossy(&parsed.bytes),
                "{:?}",
                sample.shape
            );
            for s in &sample.secrets {
                assert!(!String::from_utf8_lossy(&kept.bytes).contains(s.as_str()));
            }
        }
    }
}

#[test]
fn bytes_changed_after_the_document_was_attached_are_redacted_themselves() {
    let mut item = EvidenceItem::json_document("pod.json", serde_json::json!({"a": 1})).unwrap();
    let secret = "hunter2-a8f5f167f44f4964e6c998dee827110c";
    item.bytes = format!("{{\"a\": 1, \"password\": \"{secret}\"}}").into_bytes();
    evidence_item(&mut item);
    let text = String::from_utf8_lossy(&item.bytes);
    assert!(!text.contains(secret), "{text}");
    assert!(text.contains("[REDACTED]"), "{text}");
}

#[test]
fn items_compare_by_what_would_be_stored() {
    let value = serde_json::json!({"name": "orders-0"});
    let kept = EvidenceItem::json_document("pod.json", value.clone()).unwrap();
    let plain = EvidenceItem::json("pod.json", &value).unwrap();
    assert_eq!(kept, plain);
    assert_ne!(kept, EvidenceItem::json("job.json", &value).unwrap());
}

#[test]
fn bounds_hold_and_finalizing_twice_changes_nothing() {
    let mut d = leaky(&"é".repeat(2000));
    d.evidence.extend((0..100).map(|i| format!("fact {i}")));
    let out = outcome(
        &SPEC,
        &incident(),
        Outcome {
            diagnoses: vec![d],
            evidence: vec![
                EvidenceItem::text("small.txt", "ok"),
                EvidenceItem::text("big.txt", "x".repeat(10_000)),
            ],
        },
    );
    let d = &out.diagnoses[0];
    assert!(d.summary.len() <= MAX_SUMMARY && d.summary.ends_with('…'));
    assert!(d.evidence.iter().all(|f| f.len() <= MAX_FACT));
    assert_eq!(d.evidence.len(), MAX_FACTS);
    assert_eq!(
        d.evidence.last().unwrap(),
        "(38 more evidence lines not shown)"
    );
    assert_eq!(out.evidence[0].bytes, b"ok");
    assert_eq!(out.evidence[1].name, "big.txt.omitted.txt");
    let mut again = d.clone();
    diagnosis(&mut again);
    assert_eq!(&again, d);
}

#[test]
fn placeholder_commands_stay_copyable() {
    let mut d = Diagnosis::new("image.auth", 0.9, "no pull secret", Subject::default());
    let cmd = "kubectl create secret docker-registry regcred --namespace shop --docker-server=r.example.com --docker-username=<user> --docker-password=<password-or-token>";
    d.remediation.push(Remediation {
        description: "create the pull secret".into(),
        command: Some(cmd.into()),
    });
    diagnosis(&mut d);
    assert_eq!(d.remediation[0].command.as_deref(), Some(cmd));
}

#[test]
fn a_private_key_quoted_line_by_line_by_a_function_does_not_leak() {
    let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
    let mut inc = incident();
    inc.text = Some(format!(
        "step 3 failed\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    ));
    let mut d = Diagnosis::new("unknown", 0.1, "s", Subject::default());
    // What a line-quoting function does: each line alone, without its context.
    d.evidence = inc
        .text
        .as_deref()
        .unwrap()
        .lines()
        .map(|l| format!("\"{l}\""))
        .collect();
    let out = outcome(
        &SPEC,
        &inc,
        Outcome {
            diagnoses: vec![d],
            evidence: vec![EvidenceItem::text("line.txt", body)],
        },
    );
    let all = format!("{:?}", out);
    assert!(!all.contains(body), "{all}");
    assert_eq!(out.diagnoses[0].evidence[0], "\"step 3 failed\"");
}

#[test]
fn structured_patches_pass_the_same_redaction_policy() {
    use lastmile_events::diagnosis::{PatchSpec, PatchTarget, PatchType, StructuredRemediation};
    let mut d = Diagnosis::new("job.deadline_exceeded", 0.9, "s", Subject::default());
    d.remediation.push(Remediation {
        description: "raise the deadline".into(),
        command: None,
    });
    let patch = |step, body| StructuredRemediation {
        step,
        patch: PatchSpec {
            target: PatchTarget {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                namespace: Some("ci".into()),
                name: "migrate".into(),
            },
            patch_type: PatchType::Merge,
            body,
            preconditions: Default::default(),
        },
    };
    d.patches.push(patch(
        0,
        serde_json::json!({"spec": {"activeDeadlineSeconds": 1200}, "metadata": {"annotations": {"password": "hunter2-hunter2"}}}),
    ));
    d.patches
        .push(patch(7, serde_json::json!({"spec": {"suspend": true}})));
    diagnosis(&mut d);
    let body = serde_json::to_string(&d.patches[0].patch.body).unwrap();
    assert!(!body.contains("hunter2"), "{body}");
    assert!(body.contains("1200"), "{body}");
    assert_eq!(
        d.patches.len(),
        1,
        "a patch for a step that does not exist is dropped"
    );
    assert!(d.evidence.iter().any(|e| e.contains("step 7 omitted")));
    let mut again = d.clone();
    diagnosis(&mut again);
    assert_eq!(again, d);
}
