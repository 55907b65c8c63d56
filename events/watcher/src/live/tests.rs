use super::*;

fn waiting() -> Pod {
    serde_json::from_value(serde_json::json!({
            "metadata": {"name": "orders-1", "namespace": "shop", "labels": {"app": "orders"},
                "annotations": {"note": "x"}, "managedFields": [{"manager": "kubectl"}]},
            "spec": {"nodeName": "n1",
                "initContainers": [{"name": "wait", "image": "busybox",
                    "command": ["sh", "-c", "until nc -z payments.billing.svc.cluster.local 8080; do sleep 2; done"],
                    "env": [{"name": "DB_PASSWORD", "value": "hunter2"},
                            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}],
                "containers": [{"name": "orders", "image": "orders:1", "env": [{"name": "X", "value": "y"}],
                    "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "wait", "image": "busybox", "imageID": "",
                "ready": false, "restartCount": 0, "state": {"running": {"startedAt": "2026-03-03T09:00:00Z"}}}]}
        }))
        .unwrap()
}

#[test]
fn init_pod_keeps_commands_and_env_names_never_values() {
    let p = waiting();
    assert!(is_init_pod(&p));
    let json = serde_json::to_string(&init_pod(&p)).unwrap();
    assert!(json.contains("payments.billing.svc.cluster.local"));
    assert!(json.contains("DB_PASSWORD") && json.contains("TOKEN"));
    assert!(!json.contains("hunter2") && !json.contains("secretKeyRef"));
    assert!(!json.contains("managedFields") && !json.contains("note"));
    assert!(json.contains("containerPort"));
}

#[test]
fn namespaces_named_by_dns_in_init_commands() {
    let p = waiting();
    assert_eq!(
        namespaces_named(&p, |ns| ns == "billing"),
        vec!["shop".to_string(), "billing".to_string()]
    );
    assert_eq!(namespaces_named(&p, |_| false), vec!["shop".to_string()]);
}
