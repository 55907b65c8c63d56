//! How the nodes reach a registry, told in words beside a failing pull: their own cloud
//! identity (the node service account, instance role or profile, kubelet managed identity)
//! and its grant — the nodes pull with it, so a missing read role or scope is refused
//! access — and their route out (a private cluster or subnet without NAT, no egress), which
//! is the network even when the error reads like auth.

use std::sync::LazyLock;

use regex::Regex;

use super::judges::pull_failing;
use super::{Text, Verdict, told};

use crate::message::Cause::*;

/// The nodes' cloud identity or the grant it needs, in several clouds' words.
pub(super) static NODE_IDENTITY: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:(?:node|nodes'?|default|compute engine|gke|worker|instance|cluster|kubelet)\b[^.]{0,30}?\bservice ?accounts?|iam (?:role|polic(?:y|ies)|permissions?)|instance (?:role|profile)|node (?:iam )?role|nodeinstancerole|managed identity|kubelet identity|access scopes?|oauth scopes?|acrpull|attach-acr|(?:not )?attached to (?:the |our |my |an? )?(?:acr|registry)|role assignments?|artifactregistry\.reader|roles/artifactregistry|storage\.objectviewer|amazonec2containerregistryreadonly|ecr:(?:batchgetimage|getauthorizationtoken|getdownloadurlforlayer))\b",
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

/// Nodes without a route out, told in words: a private cluster / private nodes / private
/// subnets, no (Cloud) NAT or NAT gateway, no internet access, no egress, air-gapped.
pub(super) static NO_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\b(?:private (?:gke |eks |aks )?(?:clusters?|nodes?|node pools?|subnets?|endpoints? only)|(?:no|without|missing|removed|deleted)(?: a| the| any)? (?:cloud )?nat(?: gateways?)?\b|nat gateway (?:is )?(?:missing|not configured|removed|deleted)|(?:no|without) (?:outbound |public )?(?:internet|egress|outbound)(?: access| connectivity)?\b|(?:no|without) public ips?\b|air-?gapped)",
    )
});

/// A pull failing from nodes told to have no route out: the network, whatever wording the
/// error took (a registry behind a private endpoint answers nothing; a token fetch times
/// out and reads as auth).
pub(super) fn no_route_said(t: &Text<'_>) -> Option<Verdict> {
    if !pull_failing(t) {
        return None;
    }
    let m = NO_ROUTE.find(t.spaced)?;
    let k = [
        "nat", "private", "internet", "egress", "outbound", "public", "gapped",
    ]
    .into_iter()
    .find(|k| m.as_str().contains(k))
    .unwrap_or("private");
    told(Unreachable, 0.55, Some(AccessDenied), k)
}

#[cfg(test)]
mod tests;
