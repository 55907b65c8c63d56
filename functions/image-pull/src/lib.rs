//! The `image-pull` function: why a pod cannot pull its image (ErrImagePull,
//! ImagePullBackOff, InvalidImageName, ErrImageNeverPull), with proof and a fix.
//!
//! It works in two layers. First it reads what the node wrote — waiting states, kubelet events,
//! pasted text — and classifies the runtime's error ([`message`]); that alone serves
//! `lastmile explain` and offline replay. Then, when the context grants HTTP access, it asks
//! the registry itself what the node would ask ([`probe`]): with the pod's own pull secrets
//! ([`credentials`], read by name through the context's cluster view: [`pull_secrets`]) and
//! the node's own platform, through the distribution auth flow. The registry's answer is the
//! ground truth and wins over stale kubelet text; when the two differ the diagnosis says so.
//! The design choice: all network access goes through the injected
//! [`lastmile_contract::RegistryHttp`] (and cluster reads through
//! [`lastmile_contract::ClusterView`]), so the probe is pure logic, runs unchanged in every
//! host, and is tested against a real registry without mocks.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod base_os;
pub mod challenge;
pub mod check;
pub mod cloud;
pub mod config;
pub mod cosign;
pub mod credentials;
pub mod diagnose;
pub mod layer_scan;
pub mod message;
pub mod observe;
pub mod os_release;
pub mod platform;
pub mod policy;
pub mod probe;
pub mod pull_secrets;
pub mod reference;
pub mod remedy;
mod signature;
pub mod transcript;

use std::time::Duration;

use lastmile_contract::{Context, Function, FunctionError, FunctionSpec, Outcome};
use lastmile_events::{Incident, IncidentFamily};

pub use credentials::{DockerConfig, ProbeCredentials};
pub use probe::{Checks, ProbeOptions, ProbeReport};

/// The function's spec.
pub const SPEC: FunctionSpec = FunctionSpec {
    name: "image-pull",
    description: "Diagnoses image pull failures from the node's errors and by probing the registry as the node would.",
    families: &[IncidentFamily::ImagePull],
    deadline: Duration::from_secs(30),
    max_evidence_bytes: 512 * 1024,
};

/// Diagnoses one image-pull incident with the pod's own pull credentials: incidents carry
/// no Secrets, so they are read by name through `ctx.cluster` ([`pull_secrets`]); without a
/// live cluster view the probe asks anonymously and the diagnosis says so. Hosts holding
/// credentials another way call [`diagnose::diagnose`] with [`ProbeCredentials`].
pub async fn handle(incident: &Incident, ctx: &Context) -> Result<Outcome, FunctionError> {
    let pod = incident.pod.as_deref();
    let namespace = pull_secrets::namespace_of(incident.subject.namespace.as_deref(), pod);
    let resolution = pull_secrets::resolve(pod, &namespace, ctx.cluster.as_ref()).await;
    let mut outcome = diagnose::diagnose(
        incident,
        ctx,
        &resolution.credentials,
        &ProbeOptions::default(),
    )
    .await?;
    resolution.annotate(&mut outcome);
    Ok(outcome)
}

/// The registered function.
pub const FUNCTION: Function = Function {
    spec: &SPEC,
    handle: |i, c| Box::pin(handle(i, c)),
};
