//! Deployments, StatefulSets and DaemonSets: ready on the watcher's rollout observation.

use super::*;

fn web(generation: i64, observed: i64, available: i32) -> K8sObservation {
    K8sObservation::Deployment(
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop", "uid": "u-web", "generation": generation},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": {"observedGeneration": observed, "replicas": 2, "updatedReplicas": 2,
                "readyReplicas": available, "availableReplicas": available}
        }))
        .unwrap(),
    )
}

fn at(subject: &str, data: K8sObservation, time: DateTime<Utc>) -> Message {
    let ce = CloudEvent::new("id", "/test", None, time, data);
    Message {
        subject: subject.into(),
        payload: ce.to_vec().unwrap().into(),
        ..Default::default()
    }
}

fn web_incident(status: IncidentStatus) -> Incident {
    let pod = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "web-7d9f8b6c5d-x2k4p".into(),
        ..Default::default()
    };
    let dep = ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "web".into(),
        ..Default::default()
    };
    let mut i = Incident::new(IncidentFamily::Runtime, pod, Some(dep), t0());
    i.status = status;
    i
}

const SUBJECT: &str = "lastmile.k8s.deployment.shop";

fn gate() -> (Gate, DateTime<Utc>) {
    let start = Utc::now();
    (
        Gate::new(cfg(Target::workload("deployment/shop/web").unwrap()), start),
        start,
    )
}

#[test]
fn complete_rollout_exits_ready_with_kubectls_line() {
    let (mut g, start) = gate();
    g.observe(&at(SUBJECT, web(3, 3, 2), start), start);
    let v = g.verdict(start).unwrap();
    assert_eq!(v.exit_code(), EXIT_READY);
    assert!(
        matches!(&v, Verdict::Ready(how) if how == "deployment \"web\" successfully rolled out"),
        "{v:?}"
    );
}

#[test]
fn incomplete_rollout_waits_and_says_what_for() {
    let (mut g, start) = gate();
    g.observe(&at(SUBJECT, web(3, 3, 1), start), start);
    assert!(g.verdict(start).is_none());
    let line = g.progress(start);
    assert!(
        line.contains("1 of 2 updated replicas are available"),
        "{line}"
    );
    // Then it completes.
    g.observe(&at(SUBJECT, web(3, 3, 2), start), start);
    assert_eq!(g.verdict(start).map(|v| v.exit_code()), Some(EXIT_READY));
}

#[test]
fn complete_rollout_with_an_open_incident_waits_until_it_resolves() {
    let (mut g, start) = gate();
    g.observe(
        &msg(
            "lastmile.incident.runtime",
            web_incident(IncidentStatus::Open),
        ),
        start,
    );
    g.observe(&at(SUBJECT, web(3, 3, 2), start), start);
    assert!(g.verdict(start).is_none());
    g.observe(
        &msg(
            "lastmile.incident.runtime",
            web_incident(IncidentStatus::Resolved),
        ),
        start,
    );
    assert_eq!(g.verdict(start).map(|v| v.exit_code()), Some(EXIT_READY));
}

#[test]
fn definitive_diagnosis_fails_even_a_complete_rollout() {
    let (mut g, start) = gate();
    let inc = web_incident(IncidentStatus::Open);
    g.observe(&msg("lastmile.incident.runtime", inc.clone()), start);
    g.observe(&at(SUBJECT, web(3, 3, 2), start), start);
    let mut d = diagnosis(true, &inc.key);
    d.subject.namespace = Some("shop".into());
    d.subject.name = "web-7d9f8b6c5d-x2k4p".into();
    g.observe(&msg("lastmile.diagnosis.runtime.crashloop", d), start);
    assert_eq!(g.verdict(start).map(|v| v.exit_code()), Some(EXIT_FAILED));
}

#[test]
fn rollout_of_an_unobserved_generation_waits() {
    let (mut g, start) = gate();
    // Counts all fine, but the controller has not looked at generation 4 yet.
    g.observe(&at(SUBJECT, web(4, 3, 2), start), start);
    assert!(g.verdict(start).is_none());
    assert!(g.progress(start).contains("spec update to be observed"));
}

#[test]
fn late_observation_of_an_older_generation_is_ignored() {
    let (mut g, start) = gate();
    g.observe(&at(SUBJECT, web(4, 4, 1), start), start);
    // A redelivered "complete" of generation 3 must not pass generation 4.
    g.observe(&at(SUBJECT, web(3, 3, 2), start), start);
    assert!(g.verdict(start).is_none());
}

#[test]
fn previous_generations_complete_read_through_lookback_needs_the_catch_up() {
    let (mut g, start) = gate();
    let before = start - chrono::Duration::seconds(30);
    // Read through lookback: generation 3 was complete before the apply.
    g.observe(&at(SUBJECT, web(3, 3, 2), before), start);
    assert!(g.verdict(start).is_none(), "not at once");
    // The apply's generation 4 follows it: waiting, whatever the time.
    g.observe(&at(SUBJECT, web(4, 3, 2), before), start);
    assert!(g.verdict(start + chrono::Duration::seconds(5)).is_none());
    // With no newer observation, an old "complete" stands after the catch-up.
    let (mut g, start) = gate();
    g.observe(&at(SUBJECT, web(3, 3, 2), before), start);
    assert!(g.verdict(start + chrono::Duration::seconds(1)).is_none());
    assert_eq!(
        g.verdict(start + chrono::Duration::seconds(2))
            .map(|v| v.exit_code()),
        Some(EXIT_READY)
    );
}

#[test]
fn other_workloads_rollouts_are_ignored() {
    let (mut g, start) = gate();
    let K8sObservation::Deployment(mut other) = web(3, 3, 2) else {
        unreachable!()
    };
    other.metadata.name = Some("api".into());
    g.observe(
        &at(SUBJECT, K8sObservation::Deployment(other), start),
        start,
    );
    assert!(g.verdict(start).is_none());
}

#[test]
fn ci_run_waits_for_its_deployments_rollout() {
    let mut g = Gate::new(cfg(Target::ci_run("github/77").unwrap()), t0());
    let deploy = CiEvent {
        kind: CiEventKind::DeployRequested,
        run: run_ref("77"),
        job: None,
        workloads: vec![lastmile_events::DeployedWorkload {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
            images: vec![],
        }],
        at: t0(),
    };
    g.observe(&msg("lastmile.ci.github.deploy_requested", deploy), t0());
    g.observe(&msg(SUBJECT, web(3, 3, 1)), t0());
    assert!(g.verdict(t0()).is_none());
    g.observe(&msg(SUBJECT, web(3, 3, 2)), t0());
    assert_eq!(g.verdict(t0()).map(|v| v.exit_code()), Some(EXIT_READY));
}

#[test]
fn ci_run_learns_a_statefulset_from_its_annotation() {
    let mut g = Gate::new(cfg(Target::ci_run("github/77").unwrap()), t0());
    let sts = |ready: i32| {
        K8sObservation::StatefulSet(
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "db", "namespace": "shop", "generation": 2,
                    "annotations": {"lastmile.dev/ci-run": "github/77"}},
                "spec": {"replicas": 3, "selector": {}, "template": {}},
                "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": ready,
                    "updatedReplicas": 3, "currentRevision": "db-2", "updateRevision": "db-2"}
            }))
            .unwrap(),
        )
    };
    g.observe(&msg("lastmile.k8s.statefulset.shop", sts(2)), t0());
    assert!(g.verdict(t0()).is_none());
    assert!(g.progress(t0()).contains("statefulset/shop/db"));
    g.observe(&msg("lastmile.k8s.statefulset.shop", sts(3)), t0());
    assert_eq!(g.verdict(t0()).map(|v| v.exit_code()), Some(EXIT_READY));
}
