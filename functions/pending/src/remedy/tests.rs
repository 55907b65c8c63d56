use super::*;

fn w(kind: &str) -> Workload {
    Workload {
        kind: kind.into(),
        namespace: "ci".into(),
        name: "migrate".into(),
    }
}

#[test]
fn deployment_gets_a_strategic_patch() {
    let r = change_pod_spec(
        &w("Deployment"),
        "add toleration",
        json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ci", "effect": "NoSchedule"}]}),
        ".",
    );
    let cmd = r.command.unwrap();
    assert!(cmd.starts_with("kubectl patch deployment/migrate -n ci --type=strategic -p '{\"spec\":{\"template\":{\"spec\":{\"tolerations\""), "{cmd}");
}

#[test]
fn job_is_recreated_because_its_template_is_immutable() {
    let r = change_pod_spec(
        &w("Job"),
        "lower memory",
        json!({}),
        ".containers[0].resources.requests.memory = \"3Gi\"",
    );
    assert!(r.description.contains("immutable"));
    let cmd = r.command.unwrap();
    assert!(
        cmd.contains("kubectl get job/migrate -n ci -o json | jq '"),
        "{cmd}"
    );
    assert!(cmd.ends_with("| kubectl replace --force -f -"));
}

#[test]
fn replicaset_owner_means_its_deployment() {
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(json!({"metadata": {"name": "web-5d8f7c9b4-x2x9z", "namespace": "ci",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f7c9b4", "uid": "u", "controller": true}]}}))
        .unwrap();
    assert_eq!(
        Workload::from_pod_owner(&pod),
        Some(Workload {
            kind: "Deployment".into(),
            namespace: "ci".into(),
            name: "web".into()
        })
    );
}

#[test]
fn quotes_survive_the_shell() {
    let r = raise_quota("team-a", "compute", "requests.cpu", "2500m");
    assert_eq!(
        r.command.unwrap(),
        "kubectl patch resourcequota compute -n team-a --type=merge -p '{\"spec\":{\"hard\":{\"requests.cpu\":\"2500m\"}}}'"
    );
}
