use super::*;

fn decide(text: &str) -> Option<Verdict> {
    let spaced = text.to_lowercase();
    node_identity_said(&Text {
        spaced: &spaced,
        glued: &spaced,
        status: None,
    })
}

/// The nodes' cloud identity blamed for a cloud-registry pull, in several clouds' words.
#[test]
fn a_cloud_registry_pull_beside_the_nodes_identity_is_refused_access() {
    for text in [
        "Pods on the new node pool get ErrImagePull for europe-docker.pkg.dev/p/r/app; the node pool uses a custom service account",
        "EKS managed nodes cannot pull from 1234.dkr.ecr.us-east-1.amazonaws.com, is AmazonEC2ContainerRegistryReadOnly attached to the node IAM role?",
        "AKS: ImagePullBackOff from myacr.azurecr.io even though the kubelet identity should have AcrPull",
        "After changing the access scopes of the instances, images from gcr.io are failing to pull",
        "AKS pods in ImagePullBackOff from contoso.azurecr.io; the cluster was created without --attach-acr",
    ] {
        let Some(Verdict::Decided(d)) = decide(text) else {
            panic!("{text}");
        };
        assert_eq!(d.cause, AccessDenied, "{text}");
        assert!(d.told);
    }
}

/// Precision: a service account without a cloud registry, or no failing pull.
#[test]
fn an_identity_without_a_cloud_registry_or_a_failing_pull_is_not_this() {
    for text in [
        "ImagePullBackOff from harbor.local; the pod's service account has no imagePullSecrets",
        "we push to Artifact Registry with the CI service account; the deploy works",
    ] {
        assert!(decide(text).is_none(), "{text}");
    }
}

fn route(text: &str) -> Option<Verdict> {
    let spaced = text.to_lowercase();
    no_route_said(&Text {
        spaced: &spaced,
        glued: &spaced,
        status: None,
    })
}

/// Nodes told to have no route out beside a failing pull, in several setups' words.
#[test]
fn a_pull_from_nodes_without_a_route_out_is_the_network() {
    for text in [
        "Private GKE cluster: pods are in ImagePullBackOff for docker.io/bitnami/redis",
        "EKS nodes in private subnets with no NAT gateway cannot pull from quay.io",
        "The cluster is air-gapped and the kubelet fails to pull registry.k8s.io/pause",
        "we removed the Cloud NAT last week and now images are failing to pull",
    ] {
        let Some(Verdict::Decided(d)) = route(text) else {
            panic!("{text}");
        };
        assert_eq!(d.cause, Unreachable, "{text}");
    }
    // A private registry is not a private network; no failing pull is nothing.
    for text in [
        "ImagePullBackOff from our private registry harbor.example.com",
        "the private cluster works, pulls are fine",
    ] {
        assert!(route(text).is_none(), "{text}");
    }
}
