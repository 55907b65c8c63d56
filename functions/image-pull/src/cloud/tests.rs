use super::*;

fn node(provider: Option<&str>, labels: &[(&str, &str)]) -> Node {
    serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": "ip-10-0-1-23.eu-west-1.compute.internal",
            "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
        },
        "spec": provider.map_or(serde_json::json!({}), |p| serde_json::json!({"providerID": p})),
    }))
    .unwrap()
}

#[test]
fn registry_hosts_of_each_cloud() {
    for (host, cloud) in [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            Some(Cloud::Aws),
        ),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            Some(Cloud::Aws),
        ),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com:443",
            Some(Cloud::Aws),
        ),
        ("public.ecr.aws", None),
        ("europe-west1-docker.pkg.dev", Some(Cloud::Gcp)),
        ("gcr.io", Some(Cloud::Gcp)),
        ("eu.gcr.io", Some(Cloud::Gcp)),
        ("acmeprod.azurecr.io", Some(Cloud::Azure)),
        ("ghcr.io", None),
        ("docker.io", None),
        ("registry.example.com", None),
        ("ecr.example.com", None),
        ("notgcr.io", None),
    ] {
        assert_eq!(registry_cloud(host), cloud, "{host}");
    }
}

#[test]
fn nodes_by_provider_id_then_labels() {
    let eks = node(
        Some("aws:///eu-west-1a/i-0abc123"),
        &[("eks.amazonaws.com/nodegroup", "ci-runners")],
    );
    let found = node_cloud(&eks).unwrap();
    assert_eq!(found.cloud, Cloud::Aws);
    assert_eq!(found.pool.as_deref(), Some("ci-runners"));
    assert!(found.because.contains("aws:///eu-west-1a/i-0abc123"));

    let gke = node(
        Some("gce://acme-prod/europe-west1-b/gke-ci-pool-1-abcd"),
        &[("cloud.google.com/gke-nodepool", "pool-1")],
    );
    assert_eq!(node_cloud(&gke).unwrap().cloud, Cloud::Gcp);

    let aks = node(
        None,
        &[
            ("kubernetes.azure.com/cluster", "MC_rg_aks_westeurope"),
            ("kubernetes.azure.com/agentpool", "nodepool1"),
        ],
    );
    let found = node_cloud(&aks).unwrap();
    assert_eq!(found.cloud, Cloud::Azure);
    assert_eq!(found.pool.as_deref(), Some("nodepool1"));
    assert!(found.because.starts_with("label"));

    assert_eq!(
        node_cloud(&node(Some("kind://docker/kind/kind-control-plane"), &[])),
        None
    );
    assert_eq!(node_cloud(&node(None, &[])), None);
}

#[test]
fn only_the_same_cloud_pulls_with_the_node_identity() {
    let eks = node_cloud(&node(Some("aws:///eu-west-1a/i-1"), &[])).unwrap();
    assert!(pulls_with_node_identity(
        &eks,
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    ));
    assert!(!pulls_with_node_identity(&eks, "acmeprod.azurecr.io"));
    assert!(!pulls_with_node_identity(&eks, "ghcr.io"));
}
