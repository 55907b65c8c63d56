//! The workload function against recorded incidents: `events/examples/` (through intake),
//! pasted `kubectl describe` output, and pod pairs built to deadlock.

use lastmile_contract::{Context, compliance};
use lastmile_events::{Class, Diagnosis, Incident, IncidentFamily, ObjectRef};

use super::*;

fn example(name: &str) -> Incident {
    let path = format!(
        "{}/../../events/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lastmile_intake::incidents_from_json(&bytes)
        .unwrap()
        .remove(0)
}

/// What a host publishes: the handler's outcome through the one output boundary.
fn run(incident: &Incident) -> Outcome {
    let ctx = Context::fixed(incident.last_seen);
    let out = futures_lite_block_on(handle(incident, &ctx)).unwrap();
    lastmile_contract::finalize::outcome(&crate::SPEC, incident, out)
}

/// A current-thread runtime per call keeps the tests synchronous and independent.
fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

fn first_class(outcome: &Outcome) -> Class {
    outcome
        .diagnoses
        .first()
        .map_or_else(|| Class::new(""), |d| d.class.clone())
}

#[test]
fn init_waiting_for_postgres_is_blocked_on_that_service() {
    let out = run(&example("init-waiting-for-postgres.json"));
    let d = &out.diagnoses[0];
    assert_eq!(d.class, Class::InitBlocked);
    assert!(d.confidence >= 0.85);
    assert_eq!(d.subject.container.as_deref(), Some("wait-for-postgres"));
    assert!(
        d.summary.contains("postgres.shop.svc.cluster.local"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence.iter().any(|e| e.contains("port 5432")),
        "{:#?}",
        d.evidence
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("containers with incomplete status: [wait-for-postgres]"))
    );
    let cmds: Vec<&str> = d
        .remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect();
    assert!(
        cmds.contains(
            &"kubectl logs -n shop pod/orders-5c7d9f8b6-7wq4j -c wait-for-postgres --tail=50"
        ),
        "{cmds:#?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c.contains("kubectl get service -n shop postgres")),
        "{cmds:#?}"
    );
    assert!(!d.definitive);
    assert_eq!(d.function.as_deref(), Some("workload"));
}

#[test]
fn credentials_in_an_init_command_never_reach_evidence() {
    let mut inc = example("init-waiting-for-postgres.json");
    let pod = inc.pod.as_mut().unwrap();
    let init = &mut pod.spec.as_mut().unwrap().init_containers.as_mut().unwrap()[0];
    init.command = Some(vec![
        "sh".into(),
        "-c".into(),
        "until PGPASSWORD=hunter2 pg_isready -h postgres -p 5432; do sleep 2; done".into(),
    ]);
    let out = run(&inc);
    assert_eq!(first_class(&out), Class::InitBlocked);
    let all = format!(
        "{:?} {:?}",
        out.diagnoses,
        out.evidence
            .iter()
            .map(|e| String::from_utf8_lossy(&e.bytes).into_owned())
            .collect::<Vec<_>>()
    );
    assert!(!all.contains("hunter2"), "{all}");
    assert!(all.contains("PGPASSWORD=[REDACTED]"));
}

#[test]
fn job_deadline_exceeded_from_the_condition() {
    let out = run(&example("job-deadline-exceeded.json"));
    let d = &out.diagnoses[0];
    assert_eq!(d.class, Class::JobDeadlineExceeded);
    assert!(d.definitive);
    assert!(d.confidence >= 0.95);
    assert!(d.summary.contains("5m"), "{}", d.summary);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("spec.activeDeadlineSeconds: 300"))
    );
    assert!(
        d.evidence.iter().any(|e| e.contains("(300 s active)")),
        "{:#?}",
        d.evidence
    );
    assert!(
        d.remediation
            .iter()
            .any(|r| r.command.as_deref() == Some("kubectl get job -n ci db-migrate -o yaml"))
    );
}

#[test]
fn pending_and_image_pull_incidents_get_no_workload_diagnosis() {
    for name in [
        "pending-job-insufficient-cpu.json",
        "imagepull-auth-401.json",
        "quota-failedcreate-job.json",
    ] {
        let out = run(&example(name));
        assert!(out.diagnoses.is_empty(), "{name}: {:#?}", out.diagnoses);
    }
}

#[test]
fn backoff_limit_exceeded_names_the_exit_code_and_a_zero_limit() {
    let mut inc = example("job-deadline-exceeded.json");
    let job = inc.job.as_mut().unwrap();
    job.spec.as_mut().unwrap().backoff_limit = Some(0);
    for c in job.status.as_mut().unwrap().conditions.as_mut().unwrap() {
        c.reason = Some("BackoffLimitExceeded".into());
        c.message = Some("Job has reached the specified backoff limit".into());
    }
    inc.events.retain(|e| e.reason != "DeadlineExceeded");
    let out = run(&inc);
    let d = &out.diagnoses[0];
    assert_eq!(d.class, Class::JobBackoffLimit);
    assert!(
        d.evidence.iter().any(|e| e.contains("backoffLimit: 0")),
        "{:#?}",
        d.evidence
    );
}

#[test]
fn pod_failure_policy_message_is_parsed() {
    let mut inc = example("job-deadline-exceeded.json");
    inc.job = None;
    inc.events.retain(|e| e.reason != "DeadlineExceeded");
    inc.events.push(lastmile_events::KubeEvent {
        ty: "Warning".into(),
        reason: "PodFailurePolicy".into(),
        message: "Container migrate for pod ci/db-migrate-8kq2n failed with exit code 42 matching FailJob rule at index 0".into(),
        regarding: inc.subject.clone(),
        ..Default::default()
    });
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::JobBackoffLimit);
    assert!(d.summary.contains("code 42"), "{}", d.summary);
}

#[test]
fn active_job_past_its_deadline() {
    let mut inc = example("job-deadline-exceeded.json");
    let job = inc.job.as_mut().unwrap();
    let status = job.status.as_mut().unwrap();
    status.conditions = None;
    status.active = Some(1);
    inc.events.retain(|e| e.reason != "DeadlineExceeded");
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::JobDeadlineExceeded);
    assert!((d.confidence - 0.8).abs() < 1e-9);
}

/// A Job the watcher raised as `Suspended` (no pod, `spec.suspend: true`): it is stuck
/// active, says since when, and offers the patch that resumes it.
#[test]
fn suspended_job_is_stuck_active_with_the_resume_patch() {
    let mut inc = example("job-deadline-exceeded.json");
    inc.pod = None;
    inc.events.clear();
    let job = inc.job.as_mut().unwrap();
    job.spec.as_mut().unwrap().suspend = Some(true);
    job.spec.as_mut().unwrap().active_deadline_seconds = None;
    let status = job.status.as_mut().unwrap();
    status.active = None;
    status.start_time = None;
    let since = (inc.last_seen - chrono::Duration::hours(3))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    status.conditions = Some(vec![
        serde_json::from_value(serde_json::json!({
            "type": "Suspended", "status": "True", "reason": "JobSuspended",
            "lastTransitionTime": since,
        }))
        .unwrap(),
    ]);
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::JobStuckActive);
    assert!(d.summary.contains("suspended"), "{}", d.summary);
    assert!(
        d.evidence.iter().any(|e| e.contains("(3h as of")),
        "{:?}",
        d.evidence
    );
    assert!(
        d.remediation
            .iter()
            .filter_map(|r| r.command.as_deref())
            .any(|c| c.contains("\"suspend\":false")),
        "{:?}",
        d.remediation
    );
}

#[test]
fn describe_output_with_crashlooping_init_container() {
    let inc = lastmile_intake::incident_from_text(include_str!(
        "../tests/fixtures/describe-init-crashloop.txt"
    ));
    let out = run(&inc);
    let d = &out.diagnoses[0];
    assert_eq!(d.class, Class::InitCrashloop, "{:#?}", out.diagnoses);
    assert_eq!(d.subject.container.as_deref(), Some("run-migrations"));
    assert!(d.definitive);
    assert!(d.remediation.iter().any(|r| r.command.as_deref() == Some("kubectl logs -n payments pod/billing-worker-6b7c8d9f5-lq2xz -c run-migrations --previous --tail=50")));
}

#[test]
fn nslookup_loop_in_logs_is_blocked_with_fqdn_advice() {
    let inc = lastmile_intake::incident_from_text(
        "pod stuck in Init:0/1\n$ kubectl logs api-0 -c wait-for-cache\nwaiting for cache\nnslookup: can't resolve 'cache.infra'\n",
    );
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::InitBlocked);
    assert!(d.summary.contains("cache.infra"), "{}", d.summary);
    assert!(
        d.remediation
            .iter()
            .any(|r| r.description.contains("cache.infra.svc.cluster.local"))
    );
}

#[test]
fn service_account_that_cannot_read_jobs_blocks_a_waiter() {
    let inc = lastmile_intake::incident_from_text(
        "Error from server (Forbidden): jobs.batch \"seed\" is forbidden: User \"system:serviceaccount:shop:default\" cannot get resource \"jobs\" in API group \"batch\" in the namespace \"shop\"",
    );
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::InitBlocked);
    assert!(d.remediation[0].command.as_deref().is_some_and(|c| {
        c.contains("--serviceaccount=shop:default") && c.contains("--resource=jobs")
    }));
}

#[test]
fn grpc_deadline_exceeded_is_not_a_job_deadline() {
    let inc = lastmile_intake::incident_from_text(
        "Failed to pull image \"registry.local:5000/app:1\": rpc error: code = DeadlineExceeded desc = failed to pull and unpack image: context deadline exceeded",
    );
    let out = run(&inc);
    assert!(
        out.diagnoses.iter().all(|d| d.class.family() != "job"),
        "{:#?}",
        out.diagnoses
    );
    assert!(
        out.diagnoses.iter().all(|d| d.class.family() != "init"),
        "{:#?}",
        out.diagnoses
    );
}

fn waiting_pod(name: &str, app: &str, waits_for: &str) -> k8s_openapi::api::core::v1::Pod {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": app}},
        "spec": {
            "initContainers": [{"name": "wait", "image": "busybox:1.36",
                "command": ["sh", "-c", format!("until nc -z {waits_for} 8080; do sleep 2; done")]}],
            "containers": [{"name": app, "image": format!("ghcr.io/acme/{app}:1")}]
        },
        "status": {"phase": "Pending", "initContainerStatuses": [{"name": "wait", "image": "busybox:1.36", "imageID": "",
            "ready": false, "restartCount": 0, "state": {"running": {"startedAt": "2026-03-03T09:00:00Z"}}}]}
    }))
    .unwrap()
}

#[test]
fn two_pods_waiting_for_each_other_are_a_deadlock() {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "orders-5c7d9f8b6-7wq4j".into(),
        ..Default::default()
    };
    let mut inc = Incident::new(
        IncidentFamily::Init,
        subject,
        None,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    );
    inc.pod = Some(Box::new(waiting_pod(
        "orders-5c7d9f8b6-7wq4j",
        "orders",
        "payments.shop.svc.cluster.local",
    )));
    std::sync::Arc::make_mut(&mut inc.snapshot)
        .pods
        .push(waiting_pod(
            "payments-7d8e9f0a1-m4n5p",
            "payments",
            "orders",
        ));
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::InitDeadlock);
    assert!(
        d.summary
            .contains("`payments-7d8e9f0a1-m4n5p` waits for `orders`"),
        "{}",
        d.summary
    );
    // Without the other side's wait there is no cycle, only a blocked init container.
    std::sync::Arc::make_mut(&mut inc.snapshot).pods[0] =
        waiting_pod("payments-7d8e9f0a1-m4n5p", "payments", "ledger");
    assert_eq!(first_class(&run(&inc)), Class::InitBlocked);
}

#[test]
fn recorded_pair_of_pods_waiting_on_each_other() {
    let path = format!(
        "{}/../../events/examples/init-deadlock-two-services.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let incidents = lastmile_intake::incidents_from_json(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(incidents.len(), 2);
    let outs: Vec<Outcome> = incidents.iter().map(run).collect();
    let deadlocks: Vec<&Diagnosis> = outs
        .iter()
        .flat_map(|o| &o.diagnoses)
        .filter(|d| d.class == Class::InitDeadlock)
        .collect();
    assert_eq!(deadlocks.len(), 1, "one cycle is one deadlock: {outs:#?}");
    assert!(deadlocks[0].definitive);
    let other: Vec<&Diagnosis> = outs
        .iter()
        .flat_map(|o| &o.diagnoses)
        .filter(|d| d.class != Class::InitDeadlock)
        .collect();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].class, Class::InitBlocked);
    assert!(
        other[0].summary.contains("reported as init.deadlock on"),
        "{}",
        other[0].summary
    );
}

/// Live state (what the watcher attaches): the waits resolve through cluster DNS to
/// Services and through selectors to pods, whatever the pods and Services are called.
#[test]
fn deadlock_resolved_through_services_and_selectors_not_names() {
    let path = format!(
        "{}/../../events/watcher/fixtures/init-deadlock-services.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let list: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut snapshot = lastmile_events::ClusterSnapshot::default();
    for item in list["items"].as_array().unwrap() {
        match item["kind"].as_str().unwrap() {
            "Pod" => snapshot
                .pods
                .push(serde_json::from_value(item.clone()).unwrap()),
            "Service" => snapshot
                .services
                .push(serde_json::from_value(item.clone()).unwrap()),
            "EndpointSlice" => snapshot
                .endpoint_slices
                .push(serde_json::from_value(item.clone()).unwrap()),
            _ => {}
        }
    }
    // Rename the pods' app labels and the Services so no name matches another: only the
    // selectors connect them.
    for pod in &mut snapshot.pods {
        let labels = pod.metadata.labels.as_mut().unwrap();
        let app = labels.remove("app").unwrap();
        labels.insert("tier".into(), format!("t-{app}"));
    }
    for svc in &mut snapshot.services {
        let sel = svc.spec.as_mut().unwrap().selector.as_mut().unwrap();
        let app = sel.remove("app").unwrap();
        sel.insert("tier".into(), format!("t-{app}"));
    }
    let orders = snapshot.pods[0].clone();
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: orders.metadata.name.clone().unwrap(),
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "orders".into(),
        ..Default::default()
    };
    let mut inc = Incident::new(
        IncidentFamily::Init,
        subject,
        Some(owner),
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    );
    inc.pod = Some(Box::new(orders));
    inc.snapshot = snapshot.clone().into();
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::InitDeadlock, "{d:#?}");
    assert!(
        d.summary.contains("deployment/shop/orders")
            && d.summary.contains("deployment/shop/payments"),
        "{}",
        d.summary
    );
    assert!(
        d.summary.contains("(Service shop/payments)"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("Service shop/orders has 0 ready endpoint(s)")),
        "{:#?}",
        d.evidence
    );
    assert!(
        !d.evidence
            .iter()
            .any(|e| e.contains("matched by pod and Service names"))
    );

    // The payments Service now selects nothing waiting: no cycle, and the blocked
    // diagnosis says what the name resolves to.
    std::sync::Arc::make_mut(&mut inc.snapshot).services[1]
        .spec
        .as_mut()
        .unwrap()
        .selector = Some([("tier".to_string(), "t-elsewhere".to_string())].into());
    let d = &run(&inc).diagnoses[0];
    assert_eq!(d.class, Class::InitBlocked);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("resolves to Service shop/payments, which has no ready endpoints")),
        "{:#?}",
        d.evidence
    );
}

#[test]
fn complies_with_the_function_spec() {
    let samples: Vec<Incident> = [
        "init-waiting-for-postgres.json",
        "job-deadline-exceeded.json",
        "pending-job-insufficient-cpu.json",
    ]
    .into_iter()
    .map(example)
    .chain([lastmile_intake::incident_from_text(include_str!(
        "../tests/fixtures/describe-init-crashloop.txt"
    ))])
    .collect();
    futures_lite_block_on(compliance::check(&FUNCTION, &samples, &Context::offline()));
}

#[test]
fn builds_every_regex() {
    std::sync::LazyLock::force(&crate::job::POLICY);
}
