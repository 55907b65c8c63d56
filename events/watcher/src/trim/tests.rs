use super::*;

fn recorded_pod() -> Pod {
    serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": "migrate-x7k2p", "namespace": "ci", "uid": "u-1",
                "labels": {"job-name": "migrate"},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"env\":[{\"name\":\"DB_PASSWORD\",\"value\":\"hunter2\"}]}",
                    "lastmile.dev/ci-run": "github/42"
                },
                "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}]
            },
            "spec": {
                "nodeName": "node-a",
                "containers": [{
                    "name": "migrate", "image": "ghcr.io/acme/migrate:1.4.2",
                    "env": [{"name": "DB_PASSWORD", "value": "hunter2"},
                            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}],
                    "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}
                }]
            },
            "status": {"phase": "Running"}
        }))
        .unwrap()
}

#[test]
fn pod_loses_env_values_and_last_applied_but_keeps_references() {
    let p = pod(&recorded_pod());
    let text = serde_json::to_string(&p).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("secretKeyRef"));
    assert!(text.contains("lastmile.dev/ci-run"));
    assert!(p.metadata.managed_fields.is_none());
}

#[test]
fn bound_pod_keeps_requests_and_node_only() {
    let p = bound_pod(&recorded_pod());
    let text = serde_json::to_string(&p).unwrap();
    assert!(text.contains("500m") && text.contains("node-a") && text.contains("job-name"));
    assert!(
        !text.contains("512Mi") && !text.contains("image") && !text.contains("hunter2"),
        "{text}"
    );
}
