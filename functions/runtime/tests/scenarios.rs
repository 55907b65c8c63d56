//! Stateful scenarios: `kubectl get -o json` recordings of a cluster (the stuck pod, its
//! Events, and the objects around it) go through intake exactly as `lastmile replay` takes
//! them, and the function must reason against those objects: the key that exists under
//! another spelling, the Secret in another namespace, the volume still held on another
//! node, the probe on the wrong port, the LimitRange that set the memory limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use lastmile_events::{Diagnosis, Incident, IncidentFamily};
use serde_json::{Value, json};

const CREATED: &str = "2026-03-03T09:00:00Z";

/// The incidents of a recording, each with the cluster state it was recorded with.
fn incidents(items: Vec<Value>) -> Vec<Incident> {
    let doc = json!({"apiVersion": "v1", "kind": "List", "items": items});
    lastmile_intake::read_json(&serde_json::to_vec(&doc).unwrap())
        .unwrap()
        .into_incidents_with_snapshots()
}

/// The one runtime incident of a recording and what the function says about it.
fn diagnose(items: Vec<Value>) -> (Incident, Vec<Diagnosis>) {
    let all = incidents(items);
    let incident = all
        .into_iter()
        .find(|i| i.family == IncidentFamily::Runtime)
        .expect("a runtime incident");
    let snapshot = incident.snapshot.clone();
    let d = lastmile_fn_runtime::diagnose(&incident, &snapshot);
    assert!(!d.is_empty(), "no diagnosis for {}", incident.key);
    (incident, d)
}

fn pod(name: &str, container: Value, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": CREATED, "uid": format!("uid-{name}"),
            "labels": {"app": "api", "pod-template-hash": template_hash(name)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7c9b6d8f45", "uid": "rs-1", "controller": true}]},
        "spec": {"nodeName": "node-b", "containers": [container]},
        "status": {"phase": status["phase"].clone(), "containerStatuses": [status["container"].clone()]}
    })
}

/// `7c9b6d8f45` of `api-7c9b6d8f45-p2xnq`: the ReplicaSet's hash, as the controller labels it.
fn template_hash(pod: &str) -> &str {
    pod.rsplit('-').nth(1).unwrap_or("")
}

fn event(pod: &str, reason: &str, message: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{pod}.{reason}"), "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "namespace": "shop", "name": pod},
        "reason": reason, "type": "Warning", "message": message, "count": 12,
        "lastTimestamp": "2026-03-03T09:20:00Z", "source": {"component": "kubelet"}
    })
}

fn waiting(reason: &str, message: &str) -> Value {
    json!({"phase": "Pending", "container": {"name": "api", "image": "ghcr.io/acme/api:2.14.0", "imageID": "",
        "ready": false, "restartCount": 0, "state": {"waiting": {"reason": reason, "message": message}}}})
}

fn text(d: &[Diagnosis]) -> String {
    serde_json::to_string(d).unwrap()
}

#[test]
fn config_key_spelled_differently_names_the_existing_key_and_never_a_value() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0",
        "env": [{"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "api-db", "key": "database-url"}}},
                {"name": "MODE", "value": "hunter2-literal"}]});
    let (incident, d) = diagnose(vec![
        pod(
            "api-7c9b6d8f45-p2xnq",
            container,
            waiting(
                "CreateContainerConfigError",
                "couldn't find key database-url in Secret shop/api-db",
            ),
        ),
        event(
            "api-7c9b6d8f45-p2xnq",
            "Failed",
            "Error: couldn't find key database-url in Secret shop/api-db",
        ),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api-db", "namespace": "shop", "creationTimestamp": "2026-03-01T00:00:00Z"},
            "data": {"DATABASE_URL": "cG9zdGdyZXM6Ly91OnNlY3JldEBkYi9zaG9w"}}),
    ]);
    assert_eq!(
        incident.owner.as_ref().map(|o| o.kind.as_str()),
        Some("Deployment")
    );
    let first = &d[0];
    assert_eq!(first.class, "runtime.config_missing");
    assert!(
        first.summary.contains("`DATABASE_URL`"),
        "{}",
        first.summary
    );
    assert!(
        first.summary.contains("spelled differently"),
        "{}",
        first.summary
    );
    assert!(
        first
            .evidence
            .iter()
            .any(|e| e.contains("env DATABASE_URL is set from key `database-url`")),
        "{:?}",
        first.evidence
    );
    assert!(
        first.remediation[0]
            .command
            .as_deref()
            .unwrap()
            .contains("deployment/api"),
        "{:?}",
        first.remediation
    );
    let all = text(&d);
    assert!(
        !all.contains("cG9zdGdyZXM") && !all.contains("hunter2-literal"),
        "{all}"
    );
}

#[test]
fn secret_in_another_namespace_is_copied_not_created() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0",
        "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "registry-token", "key": "token"}}}]});
    let (_, d) = diagnose(vec![
        pod(
            "api-7c9b6d8f45-p2xnq",
            container,
            waiting(
                "CreateContainerConfigError",
                "secret \"registry-token\" not found",
            ),
        ),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "registry-token", "namespace": "platform"}, "data": {"token": "c2VjcmV0"}}),
    ]);
    assert_eq!(d[0].class, "runtime.config_missing");
    assert!(
        d[0].summary.contains("it exists in platform"),
        "{}",
        d[0].summary
    );
    let cmd = d[0].remediation[0].command.as_deref().unwrap();
    assert!(
        cmd.starts_with("kubectl get secret registry-token -n platform -o json")
            && cmd.ends_with("kubectl apply -n shop -f -"),
        "{cmd}"
    );
}

#[test]
fn missing_configmap_gets_a_create_command_with_the_keys_the_pod_reads() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0",
        "env": [{"name": "CLUSTER_NAME", "valueFrom": {"configMapKeyRef": {"name": "cluster-config", "key": "cluster_name"}}}]});
    let (_, d) = diagnose(vec![
        pod(
            "api-7c9b6d8f45-p2xnq",
            container,
            waiting(
                "CreateContainerConfigError",
                "configmap \"cluster-config\" not found",
            ),
        ),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "shop"}, "data": {"a": "b"}}),
    ]);
    assert_eq!(d[0].class, "runtime.config_missing");
    assert_eq!(
        d[0].remediation[0].command.as_deref(),
        Some("kubectl create configmap cluster-config -n shop --from-literal=cluster_name=<value>")
    );
}

#[test]
fn configmap_created_after_the_pod_is_said_so() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0"});
    let (_, d) = diagnose(vec![
        pod(
            "api-7c9b6d8f45-p2xnq",
            container,
            waiting(
                "CreateContainerConfigError",
                "configmap \"api-flags\" not found",
            ),
        ),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "api-flags", "namespace": "shop", "creationTimestamp": "2026-03-03T09:05:00Z"}, "data": {"x": "1"}}),
    ]);
    assert!(
        d[0].summary
            .contains("created at 2026-03-03T09:05:00+00:00 after the pod"),
        "{}",
        d[0].summary
    );
}

#[test]
fn multi_attach_names_the_pod_and_node_that_hold_the_volume() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0"});
    let mut new_pod = pod(
        "api-7c9b6d8f45-p2xnq",
        container.clone(),
        waiting("ContainerCreating", ""),
    );
    new_pod["spec"]["volumes"] =
        json!([{"name": "data", "persistentVolumeClaim": {"claimName": "api-data"}}]);
    let mut old_pod = pod(
        "api-5f6d7c8b9-old01",
        container,
        json!({"phase": "Running", "container": {"name": "api", "image": "x", "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}}}}),
    );
    old_pod["spec"]["nodeName"] = json!("node-a");
    old_pod["spec"]["volumes"] = new_pod["spec"]["volumes"].clone();
    old_pod["metadata"]["ownerReferences"][0]["name"] = json!("api-5f6d7c8b9");
    let (_, d) = diagnose(vec![
        new_pod,
        old_pod,
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "api-data", "namespace": "shop"},
            "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pvc-7a81d56f"}, "status": {"phase": "Bound"}}),
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "x.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "namespace": "shop", "name": "api-7c9b6d8f45-p2xnq"},
            "reason": "FailedAttachVolume", "type": "Warning", "count": 3, "source": {"component": "attachdetach-controller"},
            "message": "Multi-Attach error for volume \"pvc-7a81d56f\" Volume is already exclusively attached to one node and can't be attached to another"}),
    ]);
    assert_eq!(d[0].class, "runtime.mount_failed");
    assert!(
        d[0].summary
            .contains("pod api-5f6d7c8b9-old01 on node node-a"),
        "{}",
        d[0].summary
    );
    assert!(
        d[0].evidence
            .iter()
            .any(|e| e == "this pod runs on node node-b"),
        "{:?}",
        d[0].evidence
    );
    let cmds: Vec<&str> = d[0]
        .remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect();
    assert!(
        cmds.contains(&"kubectl delete pod -n shop api-5f6d7c8b9-old01"),
        "{cmds:?}"
    );
    assert!(cmds.iter().any(|c| c.contains("\"Recreate\"")), "{cmds:?}");
}

#[test]
fn readiness_probe_on_a_port_the_container_does_not_declare() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0",
        "ports": [{"name": "http", "containerPort": 3000}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10, "failureThreshold": 3}});
    let status = json!({"phase": "Running", "container": {"name": "api", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
        "started": true, "state": {"running": {"startedAt": "2026-03-03T09:00:05Z"}}}});
    let (_, d) = diagnose(vec![
        pod("api-7c9b6d8f45-p2xnq", container, status),
        event(
            "api-7c9b6d8f45-p2xnq",
            "Unhealthy",
            "Readiness probe failed: Get \"http://10.0.3.117:8080/healthz\": dial tcp 10.0.3.117:8080: connect: connection refused",
        ),
    ]);
    assert_eq!(d[0].class, "runtime.probe_failing");
    assert!(
        d[0].summary
            .contains("checks port 8080, which the container does not declare (its ports: 3000)"),
        "{}",
        d[0].summary
    );
    let cmd = d[0].remediation[0].command.as_deref().unwrap();
    assert!(
        cmd.contains(r#""name":"api","readinessProbe":{"httpGet":{"port":3000}}"#),
        "{cmd}"
    );
}

#[test]
fn oom_kill_says_the_limit_came_from_the_limit_range() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0",
        "resources": {"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi"}}});
    let status = json!({"phase": "Running", "container": {"name": "api", "image": "x", "imageID": "", "ready": false, "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}});
    let mut p = pod("api-7c9b6d8f45-p2xnq", container, status);
    p["metadata"]["annotations"] = json!({"kubernetes.io/limit-ranger": "LimitRanger plugin set: memory limit for container api"});
    let (_, d) = diagnose(vec![
        p,
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults", "namespace": "shop"},
            "spec": {"limits": [{"type": "Container", "default": {"memory": "128Mi"}, "defaultRequest": {"memory": "64Mi"}}]}}),
    ]);
    assert_eq!(d[0].class, "runtime.oom_killed");
    assert!(
        d[0].summary.contains(
            "memory limit of 128Mi, 4 restarts so far (set by the namespace's LimitRange default"
        ),
        "{}",
        d[0].summary
    );
    assert!(
        d[0].evidence
            .iter()
            .any(|e| e
                == "resources.limits.memory 128Mi of container `api` is LimitRange defaults's default: the manifest sets none (annotation kubernetes.io/limit-ranger)"),
        "{:?}",
        d[0].evidence
    );
    assert_eq!(
        d[0].remediation[0].command.as_deref(),
        Some(
            "kubectl set resources -n shop deployment/api -c api --limits=memory=256Mi --requests=memory=64Mi"
        )
    );
    // The crash loop is the OOM kill's symptom, not a second cause.
    assert!(d.iter().all(|x| x.class != "runtime.crashloop"), "{d:#?}");
}

#[test]
fn secret_that_exists_now_is_reported_as_a_retry_not_a_missing_object() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0"});
    let (_, d) = diagnose(vec![
        pod(
            "api-7c9b6d8f45-p2xnq",
            container,
            waiting("CreateContainerConfigError", "secret \"api-db\" not found"),
        ),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "api-db", "namespace": "shop", "creationTimestamp": "2026-03-01T00:00:00Z"}, "data": {"url": "eA=="}}),
    ]);
    assert_eq!(d[0].class, "runtime.config_missing");
    assert!(d[0].summary.contains("it exists now"), "{}", d[0].summary);
    // Nothing to create: only the restart that retries at once.
    assert_eq!(d[0].remediation.len(), 1, "{:#?}", d[0].remediation);
}

/// An OOM-killed container status with `restarts`.
fn oom_killed(restarts: u32) -> Value {
    json!({"phase": "Running", "container": {"name": "api", "image": "x", "imageID": "", "ready": false,
        "restartCount": restarts, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}})
}

#[test]
fn oom_kill_of_a_kubectl_applied_pod_names_the_limit_range_whose_default_it_runs_with() {
    // The pod was applied without resources (its last-applied manifest says so); the
    // LimitRange `mem-defaults` filled in 256Mi. No limit-ranger annotation: the recording
    // was trimmed of it, so the manifest comparison is what shows the default.
    let applied = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "report-gen", "namespace": "shop"},
        "spec": {"containers": [{"name": "api", "image": "ghcr.io/acme/report:1.4.0"}]}})
    .to_string();
    let p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "report-gen", "namespace": "shop", "creationTimestamp": CREATED, "uid": "uid-report",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}},
        "spec": {"nodeName": "node-b", "containers": [{"name": "api", "image": "ghcr.io/acme/report:1.4.0",
            "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "256Mi"}}}]},
        "status": {"phase": "Running", "containerStatuses": [oom_killed(6)["container"].clone()]}});
    let (_, d) = diagnose(vec![
        p,
        json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "mem-defaults", "namespace": "shop"},
            "spec": {"limits": [{"type": "Pod", "max": {"memory": "8Gi"}},
                                {"type": "Container", "default": {"memory": "256Mi", "cpu": "500m"}}]}}),
    ]);
    let oom = &d[0];
    assert_eq!(oom.class, "runtime.oom_killed");
    assert!(
        oom.summary.contains(
            "memory limit of 256Mi, 6 restarts so far (set by the namespace's LimitRange default, LimitRange `mem-defaults`: the manifest sets none)"
        ),
        "{}",
        oom.summary
    );
    // Both fixes: the manifest (the workload's resources), and the default itself.
    let commands: Vec<&str> = oom
        .remediation
        .iter()
        .filter_map(|r| r.command.as_deref())
        .collect();
    assert!(
        commands[0].starts_with("kubectl set resources -n shop"),
        "{commands:#?}"
    );
    assert!(
        commands.contains(
            &r#"kubectl patch limitrange mem-defaults -n shop --type=json -p '[{"op":"replace","path":"/spec/limits/1/default/memory","value":"384Mi"}]'"#
        ),
        "{commands:#?}"
    );
    // Structured: the request and the limit, each with its LimitRange and what showed it.
    let prov = &oom.details["provenance"];
    assert_eq!(prov.as_array().unwrap().len(), 2, "{prov:#}");
    assert_eq!(prov[1]["kind"], "limits");
    assert_eq!(prov[1]["resource"], "memory");
    assert_eq!(prov[1]["value"], "256Mi");
    assert_eq!(prov[1]["source"]["kind"], "limit_range_default");
    assert_eq!(prov[1]["source"]["limit_range"], "mem-defaults");
    assert_eq!(
        prov[1]["basis"],
        "the pod's last-applied-configuration sets none"
    );
}

#[test]
fn oom_kill_of_a_job_pod_whose_limit_admission_changed_says_the_manifest_value() {
    // The Job asks for 512Mi; a mutating webhook capped the pod at 256Mi.
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "nightly-export", "namespace": "shop", "uid": "job-1", "creationTimestamp": CREATED},
        "spec": {"backoffLimit": 6, "template": {"spec": {"restartPolicy": "OnFailure",
            "containers": [{"name": "api", "image": "ghcr.io/acme/export:3.0.1",
                "resources": {"limits": {"memory": "512Mi"}}}]}}},
        "status": {"active": 1, "startTime": CREATED}});
    let p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "nightly-export-7xk2p", "namespace": "shop", "creationTimestamp": CREATED, "uid": "uid-export",
            "labels": {"job-name": "nightly-export"},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-export", "uid": "job-1", "controller": true}]},
        "spec": {"nodeName": "node-b", "restartPolicy": "OnFailure", "containers": [{"name": "api", "image": "ghcr.io/acme/export:3.0.1",
            "resources": {"limits": {"memory": "256Mi"}}}]},
        "status": {"phase": "Running", "containerStatuses": [oom_killed(3)["container"].clone()]}});
    let all = incidents(vec![job, p]);
    let incident = all
        .iter()
        .find(|i| i.pod.is_some())
        .expect("an incident about the pod");
    assert!(incident.job.is_some(), "{incident:#?}");
    let d = lastmile_fn_runtime::diagnose(incident, &incident.snapshot);
    let oom = d
        .iter()
        .find(|x| x.class == "runtime.oom_killed")
        .expect("an OOM diagnosis");
    assert!(
        oom.summary
            .contains("memory limit of 256Mi, 3 restarts so far (changed at admission: the manifest says 512Mi)"),
        "{}",
        oom.summary
    );
    assert!(
        oom.evidence.iter().any(|e| e
            == "resources.limits.memory 256Mi of container `api` was changed at admission: the manifest says 512Mi (the Job's pod template says 512Mi)"),
        "{:#?}",
        oom.evidence
    );
    assert_eq!(
        oom.details["provenance"][0]["source"],
        json!({"kind": "admission", "manifest": "512Mi"})
    );
    assert!(
        oom.remediation
            .iter()
            .any(|r| r.command.as_deref() == Some("kubectl get mutatingwebhookconfigurations")),
        "{:#?}",
        oom.remediation
    );
}

/// A pod placed on a node where its hostPort is held by something the scheduler does not
/// count: containerd's portmap plugin cannot publish it, the pod stays ContainerCreating, and
/// the sandbox event says why. Read from the recorded objects, not pasted text.
#[test]
fn a_sandbox_that_cannot_publish_its_host_port_is_host_ports() {
    let container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0",
        "ports": [{"containerPort": 8443, "hostPort": 8443, "protocol": "TCP"}]});
    let (_, d) = diagnose(vec![
        pod(
            "api-7c9b6d8f45-p2xnq",
            container,
            waiting("ContainerCreating", ""),
        ),
        event(
            "api-7c9b6d8f45-p2xnq",
            "FailedCreatePodSandBox",
            "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"5f1c\": plugin type=\"portmap\" failed (add): failed to add hostport mapping: listen tcp4 0.0.0.0:8443: bind: address already in use",
        ),
    ]);
    assert_eq!(d[0].class, "scheduling.host_ports", "{}", text(&d));
    assert!(d[0].summary.contains("host port 8443"), "{}", d[0].summary);
    assert!(
        !d.iter().any(|x| x.class == "runtime.crashloop"),
        "{}",
        text(&d)
    );
}
