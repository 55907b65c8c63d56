//! A pull from a cloud provider's registry told to fail while the report talks about the
//! nodes' own cloud identity (the node service account, instance role or profile, kubelet
//! managed identity) and its access: the nodes pull with that identity, so a missing read
//! role or scope is refused access, not a network fault.

use std::sync::LazyLock;

use regex::Regex;

use super::judges::pull_failing;
use super::{Text, Verdict, told};
use crate::message::Cause::*;

/// The nodes' cloud identity or the grant it needs, in several clouds' words.
pub(super) static NODE_IDENTITY: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:(?:node|nodes'?|default|compute engine|gke|worker|instance|cluster|kubelet)\b[^.]{0,30}?\bservice ?accounts?|iam (?:role|polic(?:y|ies)|permissions?)|instance (?:role|profile)|node (?:iam )?role|nodeinstancerole|managed identity|kubelet identity|access scopes?|oauth scopes?|acrpull|artifactregistry\.reader|roles/artifactregistry|storage\.objectviewer|amazonec2containerregistryreadonly|ecr:(?:batchgetimage|getauthorizationtoken|getdownloadurlforlayer))\b",
    )
});

/// A cloud provider's registry, named or by host.
pub(super) static CLOUD_REGISTRY: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:artifact registry|container registry|gcr\.io|[a-z0-9-]+-docker\.pkg\.dev|\.dkr\.ecr\.|ecr|acr|azurecr\.io|ocir\.io|ocir|icr\.io)\b",
    )
});

/// A cloud-registry pull failing beside the nodes' identity or its grant, told in words.
pub(super) fn node_identity_said(t: &Text<'_>) -> Option<Verdict> {
    if !pull_failing(t) || !CLOUD_REGISTRY.is_match(t.spaced) {
        return None;
    }
    NODE_IDENTITY.is_match(t.spaced).then_some(())?;
    told(AccessDenied, 0.55, Some(NoCredentials), "account")
}

#[cfg(test)]
mod tests;
