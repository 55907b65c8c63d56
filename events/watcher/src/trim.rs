//! Trimming: keep only the fields diagnosis needs, and never secrets.
//!
//! Every object the watcher holds or publishes goes through here first. This is what keeps
//! memory bounded (no `managedFields`, no node image lists, no last-applied annotations) and
//! keeps secrets out of incidents: pods and Jobs pass the shared redaction policy
//! ([`lastmile_redact::json`]: environment values, credentials in args and annotations),
//! so only env names and `valueFrom` references stay.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, Node, Pod, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Annotations longer than this are dropped (they are manifests, not facts).
const MAX_ANNOTATION_LEN: usize = 512;

/// Strips bookkeeping from object metadata: managed fields, last-applied manifests, long
/// annotations.
pub fn meta(m: &mut ObjectMeta) {
    m.managed_fields = None;
    if let Some(ann) = m.annotations.as_mut() {
        ann.retain(|k, v| {
            !k.ends_with("last-applied-configuration") && v.len() <= MAX_ANNOTATION_LEN
        });
        if ann.is_empty() {
            m.annotations = None;
        }
    }
}

/// `obj` through the shared redaction policy; `None` when the redacted document no longer
/// reads as `T` (a secret-named field that was not a string), so callers drop the part
/// rather than keep it unredacted.
fn redacted<T: serde::Serialize + serde::de::DeserializeOwned + Clone>(obj: &T) -> Option<T> {
    let mut v = serde_json::to_value(obj).ok()?;
    if lastmile_redact::json(&mut v) {
        serde_json::from_value(v).ok()
    } else {
        Some(obj.clone())
    }
}

/// A pod as incidents carry it: full spec and status, trimmed metadata, no env values.
pub fn pod(p: &Pod) -> Pod {
    let mut p = p.clone();
    meta(&mut p.metadata);
    redacted(&p).unwrap_or(Pod {
        metadata: p.metadata,
        ..Pod::default()
    })
}

/// A Job as incidents carry it: trimmed like [`pod`] (its pod template too).
pub fn job(j: &Job) -> Job {
    let mut j = j.clone();
    meta(&mut j.metadata);
    if let Some(m) = j.spec.as_mut().and_then(|s| s.template.metadata.as_mut()) {
        meta(m);
    }
    redacted(&j).unwrap_or(Job {
        metadata: j.metadata,
        ..Job::default()
    })
}

/// A node without its image list and volume bookkeeping (the bulk of a Node object).
pub fn node(n: &Node) -> Node {
    let mut n = n.clone();
    meta(&mut n.metadata);
    if let Some(st) = n.status.as_mut() {
        st.images = None;
        st.volumes_attached = None;
        st.volumes_in_use = None;
        st.config = None;
    }
    n
}

fn requests_only(c: &Container) -> Container {
    Container {
        name: c.name.clone(),
        resources: c.resources.as_ref().map(|r| ResourceRequirements {
            requests: r.requests.clone(),
            ..Default::default()
        }),
        ports: c.ports.as_ref().map(|ports| {
            ports
                .iter()
                .filter(|p| p.host_port.is_some())
                .cloned()
                .collect()
        }),
        ..Default::default()
    }
}

/// A bound pod reduced to what capacity and affinity reasoning needs: name, labels, node,
/// containers' requests and host ports, overhead, phase.
pub fn bound_pod(p: &Pod) -> Pod {
    let m = &p.metadata;
    Pod {
        metadata: ObjectMeta {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            uid: m.uid.clone(),
            labels: m.labels.clone(),
            ..Default::default()
        },
        spec: p.spec.as_ref().map(|s| PodSpec {
            node_name: s.node_name.clone(),
            containers: s.containers.iter().map(requests_only).collect(),
            init_containers: s
                .init_containers
                .as_ref()
                .map(|cs| cs.iter().map(requests_only).collect()),
            overhead: s.overhead.clone(),
            // Only claim volumes: who else mounts a ReadWriteOnce claim (Multi-Attach).
            volumes: s
                .volumes
                .as_ref()
                .map(|vs| {
                    vs.iter()
                        .filter(|v| v.persistent_volume_claim.is_some())
                        .map(|v| k8s_openapi::api::core::v1::Volume {
                            name: v.name.clone(),
                            persistent_volume_claim: v.persistent_volume_claim.clone(),
                            ..Default::default()
                        })
                        .collect::<Vec<_>>()
                })
                .filter(|vs| !vs.is_empty()),
            ..Default::default()
        }),
        status: p
            .status
            .as_ref()
            .map(|s| k8s_openapi::api::core::v1::PodStatus {
                phase: s.phase.clone(),
                ..Default::default()
            }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
