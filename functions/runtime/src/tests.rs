//! One table per class: the pod as the API returns it (state) and the text people paste,
//! each with the class, a phrase the summary must carry, and a command the remediation
//! must offer. Plus what the function must leave alone, and the shared compliance check.

use chrono::{DateTime, Utc};
use lastmile_contract::Context;
use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily, KubeEvent, ObjectRef};
use serde_json::{Value, json};

use super::*;

fn t0() -> DateTime<Utc> {
    "2026-03-03T09:20:00Z".parse().unwrap()
}

fn pod_ref() -> ObjectRef {
    ObjectRef {
        kind: "Pod".into(),
        namespace: Some("shop".into()),
        name: "api-7c9b6d8f45-p2xnq".into(),
        ..Default::default()
    }
}

fn owner() -> ObjectRef {
    ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("shop".into()),
        name: "api".into(),
        ..Default::default()
    }
}

/// An incident carrying the pod (container `api` with `spec`, status `status`) and events.
fn state(spec: Value, status: Value, events: &[(&str, &str)]) -> Incident {
    let mut container = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0"});
    container
        .as_object_mut()
        .unwrap()
        .extend(spec.as_object().unwrap().clone());
    let mut st = json!({"name": "api", "image": "ghcr.io/acme/api:2.14.0", "imageID": "", "ready": false, "restartCount": 0});
    st.as_object_mut()
        .unwrap()
        .extend(status.as_object().unwrap().clone());
    let pod = json!({"metadata": {"name": "api-7c9b6d8f45-p2xnq", "namespace": "shop", "creationTimestamp": "2026-03-03T09:00:00Z"},
        "spec": {"nodeName": "node-b", "containers": [container]},
        "status": {"phase": "Running", "containerStatuses": [st]}});
    let mut i = Incident::new(IncidentFamily::Runtime, pod_ref(), Some(owner()), t0());
    i.pod = Some(serde_json::from_value(pod).unwrap());
    i.events = events
        .iter()
        .map(|(reason, message)| KubeEvent {
            ty: "Warning".into(),
            reason: (*reason).into(),
            message: (*message).into(),
            regarding: pod_ref(),
            count: 5,
            ..Default::default()
        })
        .collect();
    i
}

fn text(t: &str) -> Incident {
    let mut i = Incident::new(IncidentFamily::Runtime, pod_ref(), Some(owner()), t0());
    i.text = Some(t.into());
    i
}

struct Row {
    name: &'static str,
    incident: Incident,
    class: &'static str,
    summary: &'static str,
    command: &'static str,
}

fn check(rows: Vec<Row>) {
    for row in rows {
        let d = diagnose(&row.incident, &ClusterSnapshot::default());
        let first = d
            .first()
            .unwrap_or_else(|| panic!("{}: no diagnosis", row.name));
        assert_eq!(first.class, row.class, "{}: {d:#?}", row.name);
        assert!(
            first.summary.contains(row.summary),
            "{}: {}",
            row.name,
            first.summary
        );
        assert!(
            first
                .remediation
                .iter()
                .filter_map(|r| r.command.as_deref())
                .any(|c| c.contains(row.command)),
            "{}: {:#?}",
            row.name,
            first.remediation
        );
        assert_eq!(
            first.subject.namespace.as_deref(),
            Some("shop"),
            "{}",
            row.name
        );
    }
}

#[test]
fn crashloop_table() {
    check(vec![
        Row {
            name: "exit code, meaning and termination message",
            incident: state(
                json!({"args": ["serve", "--port", "8080"]}),
                json!({"restartCount": 6, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=api"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "message": "Error: environment variable DATABASE_URL is not set"}}}),
                &[],
            ),
            class: "runtime.crashloop",
            summary: "(exit code 1: a general application error); likely cause: missing environment variable",
            command: "kubectl set env -n shop deployment/api <NAME>=<value>",
        },
        Row {
            name: "a command that ends",
            incident: state(
                json!({"command": ["echo", "done"]}),
                json!({"restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 0, "reason": "Completed"}}}),
                &[],
            ),
            class: "runtime.crashloop",
            summary: "its command ends instead of running a server",
            command: "kubectl logs -n shop pod/api-7c9b6d8f45-p2xnq -c api --previous",
        },
        Row {
            name: "segfault signal from text",
            incident: text(
                "    State:          Waiting\n      Reason:       CrashLoopBackOff\n    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    139\n    Restart Count:  9\n",
            ),
            class: "runtime.crashloop",
            summary: "signal 11 (SIGSEGV",
            command: "kubectl rollout undo -n shop deployment/api",
        },
        Row {
            name: "port in use from logs",
            incident: text(
                "Warning  BackOff  2m (x30 over 8m)  kubelet  Back-off restarting failed container\nnginx: [emerg] bind() to 0.0.0.0:80 failed (98: Address already in use)",
            ),
            class: "runtime.crashloop",
            summary: "likely cause: port already in use",
            command: "--previous",
        },
    ]);
}

#[test]
fn oom_table() {
    check(vec![
        Row {
            name: "state with limit and request",
            incident: state(
                json!({"resources": {"limits": {"memory": "512Mi"}, "requests": {"memory": "256Mi"}}}),
                json!({"restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
                &[],
            ),
            class: "runtime.oom_killed",
            summary: "memory limit of 512Mi, 5 restarts so far; raise it to about 768Mi",
            command: "kubectl set resources -n shop deployment/api -c api --limits=memory=768Mi --requests=memory=256Mi",
        },
        Row {
            name: "describe text",
            incident: text(
                "    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n    Restart Count:  2\n    Limits:\n      cpu:     100m\n      memory:  30Mi\n",
            ),
            class: "runtime.oom_killed",
            summary: "limit of 30Mi",
            command: "--limits=memory=64Mi",
        },
    ]);
}

#[test]
fn config_table() {
    check(vec![
        Row {
            name: "waiting message",
            incident: state(
                json!({"env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "api-db", "key": "password"}}}]}),
                json!({"state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"api-db\" not found"}}}),
                &[],
            ),
            class: "runtime.config_missing",
            summary: "Secret shop/api-db does not exist",
            command: "kubectl create secret generic api-db -n shop --from-literal=password=<value>",
        },
        Row {
            name: "missing key in event text",
            incident: text(
                "  Warning  Failed  1m (x3 over 1m)  kubelet  Error: Couldn't find key contiv_etcd in ConfigMap kube-system/contiv-config",
            ),
            class: "runtime.config_missing",
            summary: "key `contiv_etcd` of ConfigMap kube-system/contiv-config",
            command: "kubectl patch configmap contiv-config -n kube-system --type merge -p '{\"data\":{\"contiv_etcd\":\"<value>\"}}'",
        },
    ]);
}

#[test]
fn mount_table() {
    check(vec![
        Row {
            name: "configmap volume",
            incident: state(
                json!({}),
                json!({"state": {"waiting": {"reason": "ContainerCreating"}}}),
                &[(
                    "FailedMount",
                    "MountVolume.SetUp failed for volume \"config\" : configmap \"api-config\" not found",
                )],
            ),
            class: "runtime.mount_failed",
            summary: "ConfigMap api-config does not exist in namespace shop",
            command: "kubectl create configmap api-config -n shop",
        },
        Row {
            name: "csi driver not registered",
            incident: state(
                json!({}),
                json!({"state": {"waiting": {"reason": "ContainerCreating"}}}),
                &[(
                    "FailedMount",
                    "MountVolume.MountDevice failed for volume \"pvc-3af1\" : kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name efs.csi.aws.com not found in the list of registered CSI drivers",
                )],
            ),
            class: "runtime.mount_failed",
            summary: "CSI driver efs.csi.aws.com is not registered with the kubelet on node node-b",
            command: "kubectl get csinode node-b -o yaml",
        },
        Row {
            name: "subPath directory missing on the node",
            incident: state(
                json!({"volumeMounts": [{"name": "logs", "mountPath": "/logs", "subPath": "$(POD_NAME)"}]}),
                json!({"state": {"waiting": {"reason": "CreateContainerConfigError", "message": "stat /logs/pods/: no such file or directory"}}}),
                &[],
            ),
            class: "runtime.mount_failed",
            summary: "`/logs/pods/`, the volume path behind a subPath mount, does not exist on the node",
            command: "kubectl get -n shop deployment/api -o jsonpath='{.spec.template.spec.volumes}",
        },
        Row {
            name: "multi-attach used by pod",
            incident: text(
                "Warning  FailedAttachVolume  17m  attachdetach-controller  Multi-Attach error for volume \"pvc-ec89\" Volume is already used by pod(s) percona-58bdfcd4df-sg7rs",
            ),
            class: "runtime.mount_failed",
            summary: "still attached for pod percona-58bdfcd4df-sg7rs",
            command: "kubectl delete pod -n shop percona-58bdfcd4df-sg7rs",
        },
    ]);
}

#[test]
fn probe_table() {
    check(vec![
        Row {
            name: "liveness kills a slow starter",
            incident: state(
                json!({"ports": [{"containerPort": 8080}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 5, "periodSeconds": 5, "failureThreshold": 1}}),
                json!({"restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 137, "reason": "Error"}}}),
                &[
                    (
                        "Unhealthy",
                        "Liveness probe failed: Get \"http://10.0.3.117:8080/healthz\": dial tcp 10.0.3.117:8080: connect: connection refused",
                    ),
                    (
                        "Killing",
                        "Container api failed liveness probe, will be restarted",
                    ),
                ],
            ),
            class: "runtime.probe_failing",
            summary: "The liveness probe restarts container `api` before it listens (it allows 10s)",
            command: "\"startupProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080}",
        },
        Row {
            name: "wrong path",
            incident: text(
                "Warning  Unhealthy  10s (x30 over 5m)  kubelet  Readiness probe failed: HTTP probe failed with statuscode: 404",
            ),
            class: "runtime.probe_failing",
            summary: "the path is wrong",
            command: "\"readinessProbe\":{\"httpGet\":{\"path\":\"<health-path>\"}}",
        },
        Row {
            name: "app log names another port",
            incident: text(
                "Warning  Unhealthy  kubelet  Readiness probe failed: Get \"http://10.1.0.7:8080/ready\": dial tcp 10.1.0.7:8080: connect: connection refused\n2026/03/03 09:00:01 listening on :3000",
            ),
            class: "runtime.probe_failing",
            summary: "checks port 8080, but the app listens on 3000",
            command: "\"httpGet\":{\"port\":3000}",
        },
        Row {
            name: "timeout",
            incident: text(
                "Warning  Unhealthy  kubelet  Liveness probe failed: Get \"http://10.244.54.71:18051/healthcheck\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)",
            ),
            class: "runtime.probe_failing",
            summary: "times out",
            command: "\"timeoutSeconds\":5",
        },
    ]);
}

#[test]
fn exec_table() {
    check(vec![
        Row {
            name: "executable not found",
            incident: state(
                json!({"command": ["/app/server"]}),
                json!({"state": {"waiting": {"reason": "RunContainerError", "message": "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/app/server\": stat /app/server: no such file or directory: unknown"}}}),
                &[],
            ),
            class: "runtime.exec_failed",
            summary: "`/app/server` is not in the image",
            command: "docker run --rm --entrypoint sh ghcr.io/acme/api:2.14.0 -c 'ls -l /app/server",
        },
        Row {
            name: "not executable",
            incident: text(
                "Error: failed to start container \"api\": Error response from daemon: OCI runtime create failed: container_linux.go:349: starting container process caused \"exec: \\\"/docker-entrypoint.sh\\\": permission denied\": unknown",
            ),
            class: "runtime.exec_failed",
            summary: "`/docker-entrypoint.sh` is not executable",
            command: "ls -l /docker-entrypoint.sh",
        },
        Row {
            name: "root image under runAsNonRoot",
            incident: state(
                json!({"securityContext": {"runAsNonRoot": true}}),
                json!({"state": {"waiting": {"reason": "CreateContainerConfigError", "message": "container has runAsNonRoot and image will run as root (pod: \"api-7c9b6d8f45-p2xnq_shop(0b9f)\", container: api)"}}}),
                &[],
            ),
            class: "runtime.exec_failed",
            summary: "requires a non-root user (runAsNonRoot) and the image runs as root",
            command: "\"securityContext\":{\"runAsUser\":65532}",
        },
        Row {
            name: "exec format error is the platform",
            incident: text(
                "standard_init_linux.go:228: exec user process caused: exec format error",
            ),
            class: "image.platform_mismatch",
            summary: "built for another CPU architecture",
            command: "kubectl get nodes -L kubernetes.io/arch",
        },
    ]);
}

#[test]
fn healthy_pods_and_init_containers_are_left_alone() {
    let healthy = state(
        json!({}),
        json!({"ready": true, "state": {"running": {"startedAt": "2026-03-03T09:00:05Z"}}}),
        &[],
    );
    assert!(diagnose(&healthy, &ClusterSnapshot::default()).is_empty());
    // An init container that crash-loops is the workload function's.
    let mut init = Incident::new(IncidentFamily::Init, pod_ref(), None, t0());
    init.text = Some("web-1  0/1  Init:CrashLoopBackOff  5  3m\nWarning  BackOff  kubelet  Back-off restarting failed container wait-db".into());
    assert!(diagnose(&init, &ClusterSnapshot::default()).is_empty());
    assert!(
        diagnose(
            &text("all good: 3/3 pods ready"),
            &ClusterSnapshot::default()
        )
        .is_empty()
    );
    // A CI step's exit code is not a container's.
    assert!(
        diagnose(
            &text("Error: deploy step 4/9 failed with exit code 1"),
            &ClusterSnapshot::default()
        )
        .is_empty()
    );
}

/// Exit code 137 with no other reason, even told in prose, is the OOM killer's: the OOM
/// finding leads, not a generic crash loop.
#[test]
fn a_bare_exit_137_is_an_oom_kill_not_a_crash_loop() {
    let d = diagnose(
        &text(
            "the test pod failed: \"command terminated with exit code 137\"; memory limit is 2Gi",
        ),
        &ClusterSnapshot::default(),
    );
    assert_eq!(d[0].class, "runtime.oom_killed", "{d:#?}");
}

/// A missing Secret beside a failing pull is the pod's image pull secret (the image-pull
/// function's `image.auth`), not a missing env Secret.
#[test]
fn a_missing_pull_secret_is_left_to_the_image_pull_function() {
    let events = "Normal   Pulling  Pulling image \"keelhq/keel:latest\"\nWarning  Failed   Error: secret \"registry-pull-credentials\" not found\nNormal   BackOff  Back-off pulling image \"keelhq/keel:latest\"\nWarning  Failed   Error: ImagePullBackOff";
    let d = diagnose(&text(events), &ClusterSnapshot::default());
    assert!(
        d.iter().all(|d| d.class != "runtime.config_missing"),
        "{d:#?}"
    );
    let env = "Warning  Failed  Error: secret \"api-db\" not found\nWarning  Failed  Error: CreateContainerConfigError";
    let d = diagnose(&text(env), &ClusterSnapshot::default());
    assert_eq!(d[0].class, "runtime.config_missing");
}

#[test]
fn env_values_and_secrets_in_logs_never_reach_a_diagnosis() {
    let i = state(
        json!({"env": [{"name": "API_TOKEN", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}]}),
        json!({"restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                "message": "panic: connect postgres://admin:s3cr3tPassw0rd@db:5432/shop failed"}}}),
        &[],
    );
    let d = diagnose(&i, &ClusterSnapshot::default());
    let all = serde_json::to_string(&d).unwrap();
    assert!(
        !all.contains("ghp_abcdef") && !all.contains("s3cr3tPassw0rd"),
        "{all}"
    );
    assert_eq!(d[0].class, "runtime.crashloop");
}

#[test]
fn runtime_passes_the_compliance_check() {
    let samples = vec![
        state(
            json!({"resources": {"limits": {"memory": "64Mi"}}}),
            json!({"restartCount": 3, "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}),
            &[],
        ),
        text(
            "Warning  FailedMount  kubelet  MountVolume.SetUp failed for volume \"cfg\" : configmap \"app\" not found",
        ),
        text(&"Back-off restarting failed container; panic: boom\n".repeat(5000)),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(lastmile_contract::compliance::check(
        &FUNCTION,
        &samples,
        &Context::fixed(t0()),
    ));
}

/// An OOM kill told in prose (no `OOMKilled` field): the limit the report states is used for
/// the new-limit advice.
#[test]
fn an_oom_kill_told_in_prose_uses_the_stated_limit() {
    let d = diagnose(
        &text(
            "Problem: the operator's controller is OOM killed.\nresources:\n  limits:\n    memory: 30Mi\nIts memory usage averages 55Mi.",
        ),
        &ClusterSnapshot::default(),
    );
    assert_eq!(d[0].class, "runtime.oom_killed", "{d:#?}");
    assert!(d[0].summary.contains("limit of 30Mi"), "{}", d[0].summary);
    let d = diagnose(
        &text("The app needs about 900Mi on startup, its memory limit is 512Mi, and it restarts."),
        &ClusterSnapshot::default(),
    );
    assert_eq!(d[0].class, "runtime.oom_killed", "{d:#?}");
}

pub(crate) fn first_class(t: &str) -> String {
    diagnose(&text(t), &ClusterSnapshot::default())
        .first()
        .map(|d| d.class.as_str().to_owned())
        .unwrap_or_default()
}

/// Exit code 137 reported with reason `Error` beside memory said to grow is the OOM
/// killer (older kubelets named it `Error`); an `Error`/137 kill told with no memory
/// growth, or memory growth without a kill, is not.
#[test]
fn a_137_beside_memory_said_to_grow_is_an_oom_kill() {
    for t in [
        "Last State: Terminated\n  Reason: Error\n  Exit Code: 137\nThe worker has a memory leak: its RSS keeps climbing until it dies.",
        "The batch importer uses too much memory on big files and then exits with code 137 (reason: Error, not OOMKilled).",
    ] {
        assert_eq!(first_class(t), Class::RUNTIME_OOM_KILLED, "{t}");
    }
    for t in [
        "Last State: Terminated\n  Reason: Error\n  Exit Code: 137\nThe importer is killed after its preStop hook times out.",
        "The importer uses too much memory on big files but finishes.",
    ] {
        assert_ne!(first_class(t), Class::RUNTIME_OOM_KILLED, "{t}");
    }
}

/// The runtime failing the kubelet's ExecSync (an exec probe) beside a container killed
/// with 137 is a failing probe, not a bare crash loop; an ExecSync error with no kill is
/// not this reading.
#[test]
fn an_exec_probe_that_cannot_run_beside_a_137_kill_is_a_failing_probe() {
    let t = "Last State:     Terminated\n  Reason:       Error\n  Exit Code:    137\nRestart Count:  2\ncrio[812]: level=error msg=\"ExecSync 9f1c… error: command timed out\" id=9f1c";
    assert_eq!(first_class(t), Class::RUNTIME_PROBE_FAILING);
    let no_kill = "crio[812]: level=error msg=\"ExecSync 9f1c… error: command timed out\" id=9f1c\nthe pod is Running and Ready";
    assert_ne!(first_class(no_kill), Class::RUNTIME_PROBE_FAILING);
}
