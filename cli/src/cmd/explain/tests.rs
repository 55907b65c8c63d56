//! `lastmile explain` end to end in-process: recorded inputs in, diagnoses out.

#![allow(clippy::unwrap_used)]

use lastmile_events::{Class, DiagnosisReport};

use super::*;

fn example(name: &str) -> Vec<u8> {
    let path = format!("{}/../events/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn first_class(explanations: &[Explanation]) -> &str {
    explanations[0].diagnoses[0].class.as_str()
}

/// Every recorded example gets its own cause first: the rules read the objects, and the
/// `wording` lead (relearned whenever the corpus's tune split grows) must not move a
/// finding of the objects aside.
#[tokio::test]
async fn every_example_gets_its_cause_first() {
    for (name, class) in [
        (
            "pending-job-insufficient-cpu.json",
            Class::INSUFFICIENT_RESOURCES,
        ),
        ("imagepull-auth-401.json", Class::IMAGE_AUTH),
        ("init-waiting-for-postgres.json", Class::INIT_BLOCKED),
        ("job-deadline-exceeded.json", Class::JOB_DEADLINE_EXCEEDED),
        ("quota-failedcreate-job.json", Class::QUOTA_EXCEEDED),
        ("init-deadlock-two-services.json", Class::INIT_DEADLOCK),
        ("job-suspended-kueue.json", Class::JOB_STUCK_ACTIVE),
    ] {
        let ex = explain(&example(name), None).await.unwrap();
        assert!(!ex.is_empty(), "{name}");
        assert!(
            ex.iter().any(|e| e.diagnoses[0].class.as_str() == class),
            "{name}: {:#?}",
            ex[0].diagnoses
        );
        let ds = &ex[0].diagnoses;
        assert!(
            ds.windows(2).all(|w| w[0].confidence >= w[1].confidence),
            "{name}: not sorted"
        );
    }
}

/// A suspended Job pasted alone is diagnosed, and says what it cannot tell (for how long)
/// and what would tell it; with its Kueue Workload's events beside it, Kueue's verdict leads.
#[tokio::test]
async fn a_suspended_job_alone_or_with_its_workloads_events() {
    let doc: serde_json::Value =
        serde_json::from_slice(&example("job-suspended-kueue.json")).unwrap();
    let alone = serde_json::to_vec(&doc["items"][0]).unwrap();
    let ex = explain(&alone, None).await.unwrap();
    let d = &ex[0].diagnoses[0];
    assert_eq!(d.class.as_str(), Class::JOB_STUCK_ACTIVE);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("the input holds nothing newer")
                && e.contains("kubectl get events -n ml")),
        "{:#?}",
        d.evidence
    );
    let ex = explain(&example("job-suspended-kueue.json"), None)
        .await
        .unwrap();
    let d = &ex[0].diagnoses[0];
    assert!(
        d.summary.contains("insufficient unused quota for cpu"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence.iter().any(|e| e.contains("(1h42m as of")),
        "{:#?}",
        d.evidence
    );
}

#[tokio::test]
async fn init_and_job_examples_name_their_class() {
    let init = explain(&example("init-waiting-for-postgres.json"), None)
        .await
        .unwrap();
    assert_eq!(first_class(&init), Class::INIT_BLOCKED);
    let job = explain(&example("job-deadline-exceeded.json"), None)
        .await
        .unwrap();
    assert_eq!(first_class(&job), Class::JOB_DEADLINE_EXCEEDED);
    assert_eq!(job[0].diagnoses[0].function.as_deref(), Some("workload"));
    // Each pod of the cycle: the one reporting it is the deadlock (a wording lead does not
    // contest a cycle read from the pods' specs), the other waits on it.
    let cycle = explain(&example("init-deadlock-two-services.json"), None)
        .await
        .unwrap();
    let firsts: Vec<&str> = cycle
        .iter()
        .map(|e| e.diagnoses[0].class.as_str())
        .collect();
    assert!(firsts.contains(&Class::INIT_DEADLOCK), "{firsts:?}");
    assert!(
        firsts
            .iter()
            .all(|c| [Class::INIT_DEADLOCK, Class::INIT_BLOCKED].contains(c)),
        "{firsts:?}"
    );
}

#[tokio::test]
async fn text_input_is_detected() {
    let text = b"Events:\n  Type     Reason            Age   From            Message\n  ----     ------            ----  ----            -------\n  Warning  DeadlineExceeded  2m    job-controller  Job was active longer than specified deadline\n";
    let ex = explain(text, None).await.unwrap();
    assert_eq!(first_class(&ex), Class::JOB_DEADLINE_EXCEEDED);
    assert!(ex[0].incident.text.is_some());
}

#[tokio::test]
async fn unrecognised_text_is_unknown_with_what_was_seen() {
    let ex = explain(b"the deploy is slow today\nno idea why\n", None)
        .await
        .unwrap();
    let d = &ex[0].diagnoses[0];
    assert_eq!(d.class.as_str(), Class::UNKNOWN);
    assert_eq!(ex[0].diagnoses.len(), 1);
    // What was seen comes first; what was searched and what would settle it follow.
    assert_eq!(
        d.evidence[..2],
        [
            "\"the deploy is slow today\"".to_owned(),
            "\"no idea why\"".to_owned()
        ]
    );
    assert!(
        d.evidence[2..].iter().all(|e| e.starts_with("input: ")
            || e.starts_with("searched ")
            || e.starts_with("to settle it: ")),
        "{:#?}",
        d.evidence
    );
}

#[tokio::test]
async fn a_document_with_nothing_stuck_says_so() {
    let doc = br#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"ok","namespace":"ci"},"status":{"phase":"Running"}}]}"#;
    let ex = explain(doc, None).await.unwrap();
    assert_eq!(first_class(&ex), Class::UNKNOWN);
    assert!(
        ex[0].diagnoses[0]
            .summary
            .starts_with("Nothing in the input is stuck")
    );
}

#[tokio::test]
async fn snapshot_objects_are_merged_into_incidents() {
    // The cluster state is shared by the incidents through the context's view (one copy
    // per document), not copied into each incident: ask the view what a function sees.
    use lastmile_contract::ClusterView as _;
    let doc = example("quota-failedcreate-job.json");
    let seen = |snapshot: Option<&[u8]>| {
        let recording = intake(&doc).unwrap();
        let extra = snapshot.map(|b| lastmile_intake::snapshot_from_json(b).unwrap());
        let mut view = RecordedCluster::default();
        let incidents = view.add(recording, extra.as_ref());
        (view, incidents)
    };
    let (view, incidents) = seen(None);
    let without = view.snapshot(&incidents[0]).await;
    assert_eq!(without.map_or(0, |s| s.nodes.len()), 0);
    let cpu = example("pending-job-insufficient-cpu.json");
    let (view, incidents) = seen(Some(&cpu));
    let with = view.snapshot(&incidents[0]).await.expect("a snapshot");
    assert_eq!(with.nodes.len(), 3);
    assert_eq!(with.resource_quotas.len(), 1);
}

#[tokio::test]
async fn a_malformed_cloud_event_is_an_error() {
    let err = explain(br#"{"specversion":"1.0","id":"1","source":"/x","type":"dev.lastmile.ci.v1","time":"2026-01-01T00:00:00Z","data":{}}"#, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("CloudEvent"), "{err}");
}

#[tokio::test]
async fn json_output_is_the_taxonomy_document() {
    let ex = explain(&example("job-deadline-exceeded.json"), None)
        .await
        .unwrap();
    let json = render::json(&ex).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let first = &value["diagnoses"][0];
    assert_eq!(first["class"], "job.deadline_exceeded");
    assert_eq!(first["subject"]["kind"], "Job");
    assert_eq!(first["subject"]["name"], "db-migrate");
    assert!(first["evidence"].as_array().is_some_and(|e| !e.is_empty()));
    assert!(
        first["remediation"][0]["command"]
            .as_str()
            .is_some_and(|c| c.starts_with("kubectl "))
    );
    let report: DiagnosisReport = serde_json::from_str(&json).unwrap();
    assert!(
        report
            .diagnoses
            .windows(2)
            .all(|w| w[0].confidence >= w[1].confidence)
    );
}

#[tokio::test]
async fn human_output_shows_class_evidence_and_commands() {
    let ex = explain(&example("init-waiting-for-postgres.json"), None)
        .await
        .unwrap();
    let text = render::human(&ex);
    assert!(
        text.starts_with(
            "pod/shop/orders-5c7d9f8b6-7wq4j (owned by deployment/shop/orders) [init]"
        ),
        "{text}"
    );
    assert!(
        text.contains("1. init.blocked  (confidence 0.88)"),
        "{text}"
    );
    assert!(
        text.contains(
            "evidence:\n       - init container `wait-for-postgres` has been running since"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "$ kubectl logs -n shop pod/orders-5c7d9f8b6-7wq4j -c wait-for-postgres --tail=50"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn prose_no_rule_settles_gets_a_wording_lead_that_says_what_would_settle_it() {
    let text = b"The export step of our pipeline is stuck forever and we never get any result \
        back, have to cancel it by hand every morning.";
    let ex = explain(text, None).await.unwrap();
    let lead = &ex[0].diagnoses[0];
    assert_eq!(lead.function.as_deref(), Some("wording"), "{lead:#?}");
    assert_eq!(lead.class.family(), "job", "{lead:#?}");
    assert!(lead.confidence <= lastmile_fn_wording::confidence::HIGHEST);
    assert!(
        lead.evidence.iter().any(|e| e.starts_with("to settle it:")),
        "{:#?}",
        lead.evidence
    );
    assert!(lead.details.get("searched").is_some() && lead.details.get("wording").is_some());
}

#[tokio::test]
async fn a_lead_contests_a_pull_denial_that_reads_like_a_missing_repository() {
    // bovf/pangolin-operator#7 (corpus tune): a locally built image name that normalises to
    // docker.io/library/…, which does not exist; the registry answers with its access-denied
    // wording, which the image-pull rule reads as `image.auth` without conviction.
    let text = br#"Failed to pull image "pangolin-operator:dev": failed to pull and unpack image "docker.io/library/pangolin-operator:dev": failed to resolve reference "docker.io/library/pangolin-operator:dev": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"#;
    let ex = explain(text, None).await.unwrap();
    let ds = &ex[0].diagnoses;
    assert_eq!(ds[0].class.as_str(), Class::IMAGE_NOT_FOUND, "{ds:#?}");
    assert!(
        ds[0].evidence[0].starts_with("ranked above `image.auth` (70%, function image-pull)"),
        "{:#?}",
        ds[0].evidence
    );
    // The finding it contests is kept, next, as the rule said it.
    assert_eq!(ds[1].class.as_str(), Class::IMAGE_AUTH);
    assert_eq!(ds[1].function.as_deref(), Some("image-pull"));
    // The image-pull rule's own weaker `image.not_found` took the lead's place and rank:
    // its facts and remediation, saying the words agree (and the reading as data).
    assert_eq!(ds[0].function.as_deref(), Some("image-pull"));
    assert!(
        ds[0]
            .evidence
            .iter()
            .any(|e| e.contains("weigh toward `image.not_found` too")),
        "{:#?}",
        ds[0].evidence
    );
    assert!(ds[0].details.get("wording_agrees").is_some());
    // Built into the JSON report (ordered again), the rank holds and is told once.
    let report = lastmile_events::DiagnosisReport::new(ds.clone()).diagnoses;
    assert_eq!(report[0].class.as_str(), Class::IMAGE_NOT_FOUND);
    assert_eq!(
        report[0]
            .evidence
            .iter()
            .filter(|e| e.starts_with("ranked above"))
            .count(),
        1
    );
}
