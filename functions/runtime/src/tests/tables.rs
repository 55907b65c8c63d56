//! One table per class: the pod as the API returns it (state) and the text people paste,
//! each with the class, a phrase the summary must carry, and a command the remediation
//! must offer.

use super::*;

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
