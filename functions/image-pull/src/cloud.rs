//! Pulls that need no pull secret: nodes on EKS, GKE and AKS pull from their own cloud's
//! registry (ECR, Artifact Registry / Container Registry, ACR) with the node's identity,
//! through the kubelet credential provider. There, "no imagePullSecrets" is normal, and an
//! `image.auth` failure is about the node's IAM role, service account or managed identity.

use k8s_openapi::api::core::v1::Node;

/// A cloud whose kubelet credential provider lastmile knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    /// Amazon EKS nodes pulling from ECR with the node IAM role.
    Aws,
    /// GKE nodes pulling from Artifact Registry / Container Registry with the node's
    /// service account.
    Gcp,
    /// AKS nodes pulling from ACR with the kubelet managed identity.
    Azure,
}

impl Cloud {
    /// The registry service, as its users call it.
    pub fn registry_service(self) -> &'static str {
        match self {
            Cloud::Aws => "ECR",
            Cloud::Gcp => "Artifact Registry",
            Cloud::Azure => "ACR",
        }
    }

    /// The node identity the kubelet credential provider pulls with.
    pub fn node_identity(self) -> &'static str {
        match self {
            Cloud::Aws => "the node's IAM role",
            Cloud::Gcp => "the node pool's service account",
            Cloud::Azure => "the cluster's kubelet managed identity",
        }
    }

    /// The managed Kubernetes service.
    pub fn kubernetes_service(self) -> &'static str {
        match self {
            Cloud::Aws => "EKS",
            Cloud::Gcp => "GKE",
            Cloud::Azure => "AKS",
        }
    }
}

/// The cloud of a registry host, by its documented host names: ECR
/// (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]`; `public.ecr.aws` is public and needs no
/// credentials), Artifact Registry (`<region>-docker.pkg.dev`), Container Registry
/// (`gcr.io`, `<region>.gcr.io`), ACR (`<name>.azurecr.io`, `.azurecr.cn`, `.azurecr.us`).
pub fn registry_cloud(host: &str) -> Option<Cloud> {
    let host = crate::reference::host_without_port(host).to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let ecr = labels.len() >= 6
        && labels[1] == "dkr"
        && labels[2] == "ecr"
        && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"));
    if ecr {
        return Some(Cloud::Aws);
    }
    if host.ends_with("-docker.pkg.dev") || host == "gcr.io" || host.ends_with(".gcr.io") {
        return Some(Cloud::Gcp);
    }
    if [".azurecr.io", ".azurecr.cn", ".azurecr.us"]
        .iter()
        .any(|s| host.ends_with(s))
    {
        return Some(Cloud::Azure);
    }
    None
}

/// A node that runs on a managed cloud, as its `spec.providerID` and labels say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudNode {
    /// The cloud.
    pub cloud: Cloud,
    /// The node's name.
    pub name: String,
    /// The node group / node pool / agent pool it belongs to, when labelled.
    pub pool: Option<String>,
    /// The fact that named the cloud (`providerID aws:///…` or a label).
    pub because: String,
}

/// The cloud a node runs on: `providerID` (`aws://`, `gce://`, `azure://`) first, then the
/// managed services' node labels.
pub fn node_cloud(node: &Node) -> Option<CloudNode> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let label = |k: &str| labels.get(k).cloned();
    let pool_of = |cloud: Cloud| match cloud {
        Cloud::Aws => label("eks.amazonaws.com/nodegroup")
            .or_else(|| label("karpenter.sh/nodepool"))
            .or_else(|| label("alpha.eksctl.io/nodegroup-name")),
        Cloud::Gcp => label("cloud.google.com/gke-nodepool"),
        Cloud::Azure => label("kubernetes.azure.com/agentpool").or_else(|| label("agentpool")),
    };
    let provider = node
        .spec
        .as_ref()
        .and_then(|s| s.provider_id.clone())
        .unwrap_or_default();
    let by_provider = [
        ("aws://", Cloud::Aws),
        ("gce://", Cloud::Gcp),
        ("azure://", Cloud::Azure),
    ]
    .into_iter()
    .find(|(prefix, _)| provider.starts_with(prefix));
    if let Some((_, cloud)) = by_provider {
        return Some(CloudNode {
            cloud,
            pool: pool_of(cloud),
            because: format!("providerID {provider}"),
            name,
        });
    }
    let by_label = [
        ("eks.amazonaws.com/nodegroup", Cloud::Aws),
        ("cloud.google.com/gke-nodepool", Cloud::Gcp),
        ("kubernetes.azure.com/cluster", Cloud::Azure),
    ]
    .into_iter()
    .find(|(key, _)| labels.contains_key(*key))?;
    Some(CloudNode {
        cloud: by_label.1,
        pool: pool_of(by_label.1),
        because: format!("label {}", by_label.0),
        name,
    })
}

/// The node pulls `registry_host` with its cloud identity: both are the same cloud.
pub fn pulls_with_node_identity(node: &CloudNode, registry_host: &str) -> bool {
    registry_cloud(registry_host) == Some(node.cloud)
}

#[cfg(test)]
mod tests;
