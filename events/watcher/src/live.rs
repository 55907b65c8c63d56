//! Live state for the Init and Job families, reduced to what their diagnosis reads.
//!
//! * Pods whose init containers have not finished: who waits for what. Kept: name, labels,
//!   owners, the init containers' image, command, args, ports and environment variable
//!   **names** (never values, never `valueFrom`), the app containers' names and ports (a
//!   Service's named `targetPort` resolves against them), phase, conditions, init statuses.
//! * Pods of Jobs: how each ended. Kept: name, labels, owners, phase, reason, message and the
//!   container statuses (terminated states, exit codes, restart counts).
//! * Services: selector, ports, type. EndpointSlices: which endpoints are ready, and which
//!   pod each is.
//!
//! Each reduction is a small fraction of the object, and only pods that matter are kept, so
//! the bounded-memory design holds (the `watcher_memory` bench).

use k8s_openapi::api::core::v1::{
    Container, EnvVar, Pod, PodSpec, PodStatus, Service, ServiceSpec,
};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use lastmile_events::IncidentFamily;
use lastmile_events::facts::{self, service::SERVICE_NAME_LABEL};

fn identity(m: &ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        name: m.name.clone(),
        namespace: m.namespace.clone(),
        uid: m.uid.clone(),
        labels: m.labels.clone(),
        owner_references: m.owner_references.clone(),
        creation_timestamp: m.creation_timestamp.clone(),
        ..Default::default()
    }
}

/// An init container as a wait-for graph needs it: no env values.
fn init_container(c: &Container) -> Container {
    Container {
        name: c.name.clone(),
        image: c.image.clone(),
        command: c.command.clone(),
        args: c.args.clone(),
        ports: c.ports.clone(),
        restart_policy: c.restart_policy.clone(),
        env: c.env.as_ref().map(|env| {
            env.iter()
                .map(|v| EnvVar {
                    name: v.name.clone(),
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    }
}

fn app_container(c: &Container) -> Container {
    Container {
        name: c.name.clone(),
        image: c.image.clone(),
        ports: c.ports.clone(),
        ..Default::default()
    }
}

/// True when the pod is kept as an init pod: it is stuck in the Init family (native
/// sidecars do not count), whether or not it has aged into an incident yet.
pub fn is_init_pod(pod: &Pod) -> bool {
    facts::stuck_pod(pod, false).is_some_and(|s| s.family == IncidentFamily::Init)
}

/// A pod waiting in init, reduced (see the module docs).
pub fn init_pod(p: &Pod) -> Pod {
    Pod {
        metadata: identity(&p.metadata),
        spec: p.spec.as_ref().map(|s| PodSpec {
            node_name: s.node_name.clone(),
            init_containers: s
                .init_containers
                .as_ref()
                .map(|cs| cs.iter().map(init_container).collect()),
            containers: s.containers.iter().map(app_container).collect(),
            ..Default::default()
        }),
        status: p.status.as_ref().map(|s| PodStatus {
            phase: s.phase.clone(),
            conditions: s.conditions.clone(),
            init_container_statuses: s.init_container_statuses.clone(),
            ..Default::default()
        }),
    }
}

/// True when a Job controls the pod.
pub fn is_job_pod(pod: &Pod) -> bool {
    facts::workload_of(pod).is_some_and(|o| o.kind == "Job")
}

/// A Job's pod reduced to how it ran and ended.
pub fn job_pod(p: &Pod) -> Pod {
    Pod {
        metadata: identity(&p.metadata),
        spec: None,
        status: p.status.as_ref().map(|s| PodStatus {
            phase: s.phase.clone(),
            reason: s.reason.clone(),
            message: s.message.clone(),
            start_time: s.start_time.clone(),
            container_statuses: s.container_statuses.clone(),
            init_container_statuses: s.init_container_statuses.clone(),
            ..Default::default()
        }),
    }
}

/// A Service reduced to selector, ports and type.
pub fn service(s: &Service) -> Service {
    Service {
        metadata: ObjectMeta {
            name: s.metadata.name.clone(),
            namespace: s.metadata.namespace.clone(),
            uid: s.metadata.uid.clone(),
            ..Default::default()
        },
        spec: s.spec.as_ref().map(|sp| ServiceSpec {
            selector: sp.selector.clone(),
            ports: sp.ports.clone(),
            type_: sp.type_.clone(),
            cluster_ip: sp.cluster_ip.clone(),
            external_name: sp.external_name.clone(),
            ..Default::default()
        }),
        status: None,
    }
}

/// An EndpointSlice reduced to its Service, ports and endpoints' addresses, readiness and
/// pods.
pub fn endpoint_slice(s: &EndpointSlice) -> EndpointSlice {
    let labels = s.metadata.labels.as_ref().map(|l| {
        l.iter()
            .filter(|(k, _)| k.as_str() == SERVICE_NAME_LABEL)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    EndpointSlice {
        metadata: ObjectMeta {
            name: s.metadata.name.clone(),
            namespace: s.metadata.namespace.clone(),
            labels,
            ..Default::default()
        },
        address_type: s.address_type.clone(),
        ports: s.ports.clone(),
        endpoints: s.endpoints.as_ref().map(|eps| {
            eps.iter()
                .map(|e| Endpoint {
                    addresses: e.addresses.clone(),
                    conditions: e.conditions.clone(),
                    target_ref: e.target_ref.clone(),
                    ..Default::default()
                })
                .collect()
        }),
    }
}

/// The Service an EndpointSlice belongs to, as `namespace/name`.
pub fn slice_service(s: &EndpointSlice) -> Option<String> {
    let svc = s.metadata.labels.as_ref()?.get(SERVICE_NAME_LABEL)?;
    Some(format!(
        "{}/{svc}",
        s.metadata.namespace.as_deref().unwrap_or_default()
    ))
}

/// Namespaces an init pod's commands name through cluster DNS (`svc.other`,
/// `svc.other.svc.cluster.local`), besides its own. Only namespaces `known` accepts count,
/// so a word such as `example.com` does not.
pub fn namespaces_named(pod: &Pod, known: impl Fn(&str) -> bool) -> Vec<String> {
    let own = pod.metadata.namespace.clone().unwrap_or_default();
    let mut out = vec![own.clone()];
    let words = pod
        .spec
        .iter()
        .flat_map(|s| s.init_containers.iter().flatten())
        .flat_map(|c| c.command.iter().flatten().chain(c.args.iter().flatten()))
        .flat_map(|arg| {
            arg.split(|ch: char| {
                ch.is_whitespace() || matches!(ch, ':' | '/' | '"' | '\'' | ';' | '@' | '=')
            })
        });
    for word in words {
        if let Some(t) = facts::DnsTarget::parse(word, &own)
            && !out.contains(&t.namespace)
            && known(&t.namespace)
        {
            out.push(t.namespace);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
