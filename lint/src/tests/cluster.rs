//! `--cluster`: waits on what the cluster already runs.

use super::*;

fn blocked_messages(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .filter(|f| f.rule == "init.blocked")
        .map(|f| f.message.as_str())
        .collect()
}

#[test]
fn waits_on_what_the_cluster_already_runs_are_not_findings() {
    let manifests = parse("api.yaml", API_WAITS_ON_REDIS_AND_SEED).unwrap();
    let with = |cluster: &str| {
        let config = Config {
            cluster: Some(Cluster::from_json(cluster.as_bytes()).unwrap()),
            ..Config::default()
        };
        lint(&manifests, &config)
    };
    let deployed = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "redis", "namespace": "shop"},
         "spec": {"selector": {"app": "redis"}, "ports": [{"port": 6379}]}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "seed", "namespace": "shop"},
         "spec": {"template": {"spec": {"containers": []}}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "shop"}}
    ]}"#;
    let findings = with(deployed);
    assert!(blocked_messages(&findings).is_empty(), "{findings:#?}");

    // The cluster's Service lacks the port: still blocked, and said so.
    let findings = with(&deployed.replace("6379", "6380"));
    assert_eq!(
        blocked_messages(&findings),
        vec![
            "deployment/shop/api: init container `wait` waits for redis:6379 (nc); Service shop/redis does not expose port 6379"
        ],
    );

    // Neither the set nor the cluster has them: the message says both were looked at.
    let other = r#"{"kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cache", "namespace": "shop"},
         "spec": {"ports": [{"port": 6379}]}},
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "seed", "namespace": "ops"}}
    ]}"#;
    let findings = with(other);
    let blocked = blocked_messages(&findings);
    assert_eq!(blocked.len(), 2, "{findings:#?}");
    assert!(blocked[0].ends_with("Service shop/redis is not in the manifests or the cluster"));
    assert!(blocked[1].ends_with("Job shop/seed is not in the manifests or the cluster"));
}

#[test]
fn cluster_state_that_is_not_a_list_is_refused_without_quoting_it() {
    let err = Cluster::from_json(b"{\"token\": \"s3cr3t\"").unwrap_err();
    assert!(matches!(err, ClusterError::NotJson { .. }));
    assert!(!err.to_string().contains("s3cr3t"));
    assert!(matches!(
        Cluster::from_json(b"[1, 2]").unwrap_err(),
        ClusterError::NotAList
    ));
    let one = Cluster::from_json(
        br#"{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "seed", "namespace": "ops"}}"#,
    )
    .unwrap();
    assert!(one.has_job("ops", "seed") && !one.has_job("shop", "seed"));
}
