//! Gate verdicts on recorded message sequences.

use super::*;
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lastmile_events::{
    CiEvent, CiEventKind, CloudEvent, Diagnosis, Incident, IncidentStatus, K8sObservation,
};
use lastmile_events::{CiProvider, CiRunRef, IncidentFamily, ObjectRef, Remediation, Subject};
use lastmile_runtime::bus::Message;

fn t0() -> DateTime<Utc> {
    Utc::now()
}

fn cfg(target: Target) -> GateConfig {
    GateConfig {
        target,
        timeout: Duration::from_secs(600),
        grace: Duration::from_secs(20),
        settle: None,
        progress_every: Duration::from_secs(15),
        traceparent: None,
    }
}

fn run_ref(id: &str) -> CiRunRef {
    CiRunRef {
        provider: CiProvider::Github,
        run_id: id.into(),
        pipeline: None,
        url: None,
        commit: None,
        traceparent: None,
    }
}

fn incident(status: IncidentStatus, run: Option<&str>) -> Incident {
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "migrate-x7k2p".into(),
        ..Default::default()
    };
    let job = ObjectRef {
        kind: "Job".into(),
        namespace: Some("ci".into()),
        name: "migrate".into(),
        ..Default::default()
    };
    let mut i = Incident::new(IncidentFamily::ImagePull, pod, Some(job), t0());
    i.status = status;
    i.ci = run.map(run_ref);
    i
}

fn msg<T: lastmile_events::EventType>(subject: &str, data: T) -> Message {
    let ce = CloudEvent::new("id", "/test", None, Utc::now(), data);
    Message {
        subject: subject.into(),
        payload: ce.to_vec().unwrap().into(),
        ..Default::default()
    }
}

fn diagnosis(definitive: bool, incident_key: &str) -> Diagnosis {
    let mut d = Diagnosis::new(
        "image.not_found",
        0.95,
        "The tag 1.4.3 of ghcr.io/acme/migrate does not exist.",
        Subject {
            kind: "Pod".into(),
            namespace: Some("ci".into()),
            name: "migrate-x7k2p".into(),
            container: Some("migrate".into()),
        },
    );
    d.definitive = definitive;
    d.incident = Some(incident_key.into());
    d.trace_id = Some("4bf92f3577b34da6a3ce929d0e0e4736".into());
    d.evidence
        .push("Failed to pull image \"ghcr.io/acme/migrate:1.4.3\": not found".into());
    d.remediation.push(Remediation {
        description: "Deploy a tag that exists".into(),
        command: Some(
            "kubectl -n ci set image job/migrate migrate=ghcr.io/acme/migrate:1.4.2".into(),
        ),
    });
    d
}

fn job(complete: bool) -> K8sObservation {
    let cond = if complete { "Complete" } else { "Failed" };
    K8sObservation::Job(
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "migrate", "namespace": "ci", "annotations": {"lastmile.dev/ci-run": "github/77"}},
            "status": {"conditions": [{"type": cond, "status": "True", "reason": if complete { "CompletionsReached" } else { "BackoffLimitExceeded" }}]}
        }))
        .unwrap(),
    )
}

#[test]
fn definitive_diagnosis_for_the_workload_fails_at_once() {
    let mut g = Gate::new(cfg(Target::workload("job/ci/migrate").unwrap()), t0());
    let inc = incident(IncidentStatus::Open, None);
    g.observe(&msg("lastmile.incident.image-pull", inc.clone()), t0());
    assert!(g.verdict(t0()).is_none());
    g.observe(
        &msg(
            "lastmile.diagnosis.image.not_found",
            diagnosis(true, &inc.key),
        ),
        t0(),
    );
    let v = g.verdict(t0()).unwrap();
    assert_eq!(v.exit_code(), EXIT_FAILED);
    let Verdict::Failed {
        diagnosis: Some(d), ..
    } = v
    else {
        panic!("{v:?}")
    };
    assert_eq!(d.class.as_str(), "image.not_found");
}

#[test]
fn a_lead_that_contests_the_failing_finding_is_the_diagnosis_shown() {
    let mut g = Gate::new(cfg(Target::workload("job/ci/migrate").unwrap()), t0());
    let inc = incident(IncidentStatus::Open, None);
    g.observe(&msg("lastmile.incident.image-pull", inc.clone()), t0());
    let mut lead = diagnosis(false, &inc.key);
    lead.confidence = 0.45;
    lead.summary = "The report reads like `image.not_found`.".into();
    lead.details = serde_json::json!({ lastmile_events::ranking::LEAD_DETAIL: {} });
    g.observe(&msg("lastmile.diagnosis.image.not_found", lead), t0());
    let mut finding = diagnosis(true, &inc.key);
    finding.class = "image.auth".into();
    finding.confidence = 0.7;
    finding.summary = "The registry refused the pull.".into();
    g.observe(&msg("lastmile.diagnosis.image.auth", finding), t0());
    let v = g.verdict(t0()).unwrap();
    assert_eq!(v.exit_code(), EXIT_FAILED);
    let Verdict::Failed {
        diagnosis: Some(d),
        reason,
    } = v
    else {
        panic!("{v:?}")
    };
    // What failed is the definitive finding; the cause shown first is the lead.
    assert_eq!(reason, "The registry refused the pull.");
    assert_eq!(d.class.as_str(), "image.not_found");
    assert!(
        d.evidence[0].starts_with("ranked above `image.auth` (70%"),
        "{d:?}"
    );
}

/// A lead naming the failing finding's own class is folded into the finding, as `explain`
/// folds it: the finding is shown, with the lead's higher confidence and a line saying the
/// words agree, never a lead saying no rule settled it.
#[test]
fn a_lead_agreeing_with_the_failing_finding_is_folded_into_it() {
    let mut g = Gate::new(cfg(Target::workload("job/ci/migrate").unwrap()), t0());
    let inc = incident(IncidentStatus::Open, None);
    g.observe(&msg("lastmile.incident.image-pull", inc.clone()), t0());
    let mut finding = diagnosis(true, &inc.key);
    finding.class = "image.auth".into();
    finding.confidence = 0.5;
    finding.summary = "The registry refused the pull.".into();
    // Published diagnoses carry ids derived from their function: the two are kept apart.
    finding.id = Some("image-pull-auth".into());
    g.observe(&msg("lastmile.diagnosis.image.auth", finding), t0());
    let mut lead = diagnosis(false, &inc.key);
    lead.id = Some("wording-auth".into());
    lead.class = "image.auth".into();
    lead.confidence = 0.55;
    lead.summary = "No rule settled this; the report reads like `image.auth`.".into();
    lead.details = serde_json::json!({ lastmile_events::ranking::LEAD_DETAIL: {} });
    g.observe(&msg("lastmile.diagnosis.image.auth", lead), t0());
    let Some(Verdict::Failed {
        diagnosis: Some(d), ..
    }) = g.verdict(t0())
    else {
        panic!("the finding fails the gate")
    };
    assert_eq!(d.summary, "The registry refused the pull.");
    assert!((d.confidence - 0.55).abs() < 1e-9, "{d:?}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("weigh toward `image.auth` too")),
        "{d:?}"
    );
}

/// A finding a lead could contest waits up to the window for the lead of its incident; a
/// lead arriving within it is shown first, and without one the finding fails the gate.
#[test]
fn a_finding_without_conviction_waits_briefly_for_a_lead() {
    let finding = |key: &str| {
        let mut d = diagnosis(true, key);
        d.class = "image.auth".into();
        d.confidence = 0.7;
        d.summary = "The registry refused the pull.".into();
        d
    };
    for lead_arrives in [true, false] {
        let mut g = Gate::new(cfg(Target::workload("job/ci/migrate").unwrap()), t0());
        let inc = incident(IncidentStatus::Open, None);
        let t = t0();
        g.observe(&msg("lastmile.incident.image-pull", inc.clone()), t);
        g.observe(&msg("lastmile.diagnosis.image.auth", finding(&inc.key)), t);
        assert!(g.verdict(t).is_none(), "a lead may still come");
        let later = t + chrono::Duration::seconds(1);
        if lead_arrives {
            let mut lead = diagnosis(false, &inc.key);
            lead.confidence = 0.45;
            lead.details = serde_json::json!({ lastmile_events::ranking::LEAD_DETAIL: {} });
            g.observe(&msg("lastmile.diagnosis.image.not_found", lead), later);
            let Some(Verdict::Failed {
                diagnosis: Some(d), ..
            }) = g.verdict(later)
            else {
                panic!("the lead arrived: the gate decides")
            };
            assert_eq!(d.class.as_str(), "image.not_found");
        } else {
            assert!(g.verdict(later).is_none());
            let Some(Verdict::Failed {
                diagnosis: Some(d), ..
            }) = g.verdict(t + CONTEST_WINDOW)
            else {
                panic!("the window passed: the finding fails the gate")
            };
            assert_eq!(d.class.as_str(), "image.auth");
        }
    }
}

#[test]
fn non_definitive_diagnosis_keeps_waiting_then_times_out_with_it() {
    let mut c = cfg(Target::workload("job/ci/migrate").unwrap());
    c.timeout = Duration::from_secs(60);
    let mut g = Gate::new(c, t0());
    let inc = incident(IncidentStatus::Open, None);
    g.observe(&msg("lastmile.incident.image-pull", inc.clone()), t0());
    g.observe(
        &msg(
            "lastmile.diagnosis.image.not_found",
            diagnosis(false, &inc.key),
        ),
        t0(),
    );
    assert!(g.verdict(t0()).is_none());
    let v = g.verdict(t0() + chrono::Duration::seconds(61)).unwrap();
    assert_eq!(v.exit_code(), EXIT_TIMEOUT);
    assert!(matches!(v, Verdict::TimedOut { diagnoses } if diagnoses.len() == 1));
}

#[test]
fn diagnosis_of_a_resolved_incident_does_not_fail_the_gate() {
    let mut g = Gate::new(cfg(Target::workload("job/ci/migrate").unwrap()), t0());
    let inc = incident(IncidentStatus::Open, None);
    g.observe(&msg("lastmile.incident.image-pull", inc.clone()), t0());
    g.observe(
        &msg(
            "lastmile.diagnosis.image.not_found",
            diagnosis(true, &inc.key),
        ),
        t0(),
    );
    g.observe(
        &msg(
            "lastmile.incident.image-pull",
            incident(IncidentStatus::Resolved, None),
        ),
        t0(),
    );
    assert!(g.verdict(t0()).is_none());
    g.observe(&msg("lastmile.k8s.job.ci", job(true)), t0());
    assert_eq!(g.verdict(t0()).map(|v| v.exit_code()), Some(EXIT_READY));
}

#[test]
fn ci_run_is_ready_when_every_deployed_workload_is() {
    let mut g = Gate::new(cfg(Target::ci_run("github/77").unwrap()), t0());
    let deploy = CiEvent {
        kind: CiEventKind::DeployRequested,
        run: run_ref("77"),
        job: None,
        workloads: vec![
            lastmile_events::DeployedWorkload {
                kind: "Job".into(),
                namespace: "ci".into(),
                name: "migrate".into(),
                images: vec![],
            },
            lastmile_events::DeployedWorkload {
                kind: "Job".into(),
                namespace: "ci".into(),
                name: "seed".into(),
                images: vec![],
            },
        ],
        at: t0(),
    };
    g.observe(&msg("lastmile.ci.github.deploy_requested", deploy), t0());
    g.observe(&msg("lastmile.k8s.job.ci", job(true)), t0());
    assert!(g.verdict(t0()).is_none(), "seed is not done yet");
    let mut seed = job(true);
    if let K8sObservation::Job(j) = &mut seed {
        j.metadata.name = Some("seed".into());
    }
    g.observe(&msg("lastmile.k8s.job.ci", seed), t0());
    assert!(matches!(g.verdict(t0()), Some(Verdict::Ready(_))));
}

#[test]
fn other_runs_and_workloads_are_ignored() {
    let mut g = Gate::new(cfg(Target::ci_run("github/78").unwrap()), t0());
    let inc = incident(IncidentStatus::Open, Some("77"));
    g.observe(&msg("lastmile.incident.image-pull", inc.clone()), t0());
    g.observe(
        &msg(
            "lastmile.diagnosis.image.not_found",
            diagnosis(true, &inc.key),
        ),
        t0(),
    );
    g.observe(&msg("lastmile.k8s.job.ci", job(true)), t0());
    assert!(g.verdict(t0()).is_none());
    g.observe(
        &Message {
            subject: "lastmile.diagnosis.x".into(),
            payload: "not json".into(),
            ..Default::default()
        },
        t0(),
    );
}

#[test]
fn failed_job_waits_for_a_diagnosis_within_the_grace() {
    let mut g = Gate::new(cfg(Target::ci_run("77").unwrap()), t0());
    g.observe(&msg("lastmile.k8s.job.ci", job(false)), t0());
    assert!(g.verdict(t0()).is_none(), "grace for the diagnosis");
    let v = g.verdict(t0() + chrono::Duration::seconds(21)).unwrap();
    assert!(
        matches!(&v, Verdict::Failed { diagnosis: None, reason } if reason.contains("BackoffLimitExceeded")),
        "{v:?}"
    );
}

#[test]
fn github_output_has_an_escaped_error_annotation_and_a_summary() {
    let dir = std::env::temp_dir().join(format!("lastmile-gate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let summary = dir.join("summary.md");
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Output::new(Box::new(W(buf.clone())), true, Some(summary.clone()));
    let d = diagnosis(true, "k");
    let target = Target::workload("job/ci/migrate").unwrap();
    out.verdict(
        &target,
        &Verdict::Failed {
            reason: d.summary.clone(),
            diagnosis: Some(Box::new(d)),
        },
    );
    let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    let ann = text.lines().find(|l| l.starts_with("::error ")).unwrap();
    assert!(
        ann.starts_with("::error title=lastmile%3A image.not_found::"),
        "{ann}"
    );
    assert!(ann.contains("%0Afix: kubectl -n ci set image"), "{ann}");
    assert!(text.contains("trace:      4bf92f3577b34da6a3ce929d0e0e4736"));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("**image.not_found**") && md.contains("```sh\nkubectl -n ci set image"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn target_parsing_rejects_malformed_values() {
    assert!(matches!(
        Target::workload("job/ci"),
        Err(TargetError::BadWorkload { raw }) if raw == "job/ci"
    ));
    assert!(Target::workload("job//x").is_err());
    assert_eq!(
        Target::ci_run("github/").unwrap_err().to_string(),
        r#"--ci-run "github/": empty run id"#
    );
    assert_eq!(
        Target::ci_run("gitlab/1187").unwrap(),
        Target::CiRun {
            provider: Some("gitlab".into()),
            run_id: "1187".into()
        }
    );
}

#[test]
fn printed_lines_annotations_and_summary_carry_no_secret_or_control_character() {
    let dir = std::env::temp_dir().join(format!("lastmile-gate-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let summary = dir.join("summary.md");
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct W(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Output::new(Box::new(W(buf.clone())), true, Some(summary.clone()));
    // A diagnosis as an older or foreign producer might publish it: not finalized.
    let mut d = diagnosis(true, "k");
    d.summary = "pull failed: docker login -u ci -p Gate-Pa55word r.example.com".into();
    d.evidence = vec![
        "\u{1b}[2K\u{1b}[1A::add-mask::x AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIgateK7MDENGbPxRfiCY"
            .into(),
        "curl -H 'Authorization: Bearer gate-tok-123' https://r.example.com/v2/".into(),
    ];
    let target = Target::workload("job/ci/migrate").unwrap();
    out.verdict(
        &target,
        &Verdict::Failed {
            reason: d.summary.clone(),
            diagnosis: Some(Box::new(d)),
        },
    );
    let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    let md = std::fs::read_to_string(&summary).unwrap();
    for secret in [
        "Gate-Pa55word",
        "wJalrXUtnFEMIgateK7MDENGbPxRfiCY",
        "gate-tok-123",
    ] {
        assert!(
            !text.contains(secret) && !md.contains(secret),
            "{secret}:\n{text}\n{md}"
        );
    }
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("evidence:   \\x1b[2K"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("::error ")), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn gate_joins_the_trace_of_its_runs_first_message_that_carries_one() {
    const TP: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let mut g = Gate::new(cfg(Target::ci_run("github/77").unwrap()), t0());
    let mut other = incident(IncidentStatus::Open, Some("78"));
    if let Some(ci) = other.ci.as_mut() {
        ci.traceparent = Some("00-11111111111111111111111111111111-2222222222222222-01".into());
    }
    g.observe(&msg("lastmile.incident.image-pull", other), t0());
    assert_eq!(g.traceparent(), None, "another run's trace");
    let mut deploy = CiEvent {
        kind: CiEventKind::DeployRequested,
        run: run_ref("77"),
        job: None,
        workloads: vec![],
        at: t0(),
    };
    deploy.run.traceparent = Some(TP.into());
    g.observe(&msg("lastmile.ci.github.deploy_requested", deploy), t0());
    assert_eq!(g.traceparent(), Some(TP));
}

#[test]
fn diagnosis_read_before_its_incident_still_fails_the_gate() {
    // A gate started late replays the diagnosis and incident streams through separate
    // consumers: the diagnosis about the pod may come first.
    let mut g = Gate::new(cfg(Target::workload("job/ci/migrate").unwrap()), t0());
    let inc = incident(IncidentStatus::Open, None);
    g.observe(
        &msg(
            "lastmile.diagnosis.image.not_found",
            diagnosis(true, &inc.key),
        ),
        t0(),
    );
    assert!(
        g.verdict(t0()).is_none(),
        "not known to be about the Job yet"
    );
    g.observe(&msg("lastmile.incident.image-pull", inc), t0());
    let v = g.verdict(t0()).unwrap();
    assert_eq!(v.exit_code(), EXIT_FAILED, "{v:?}");
}

mod rollout;
