//! Workloads: which object a pipeline deployed a pod through, and how lastmile names it.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::incident::ObjectRef;

/// `kind/namespace/name`, lower-case kind: how workloads are named across lastmile (deploy
/// events, the gate, incident owners).
pub fn workload_key(kind: &str, namespace: &str, name: &str) -> String {
    format!("{}/{}/{}", kind.to_ascii_lowercase(), namespace, name)
}

/// A reference to an object of `kind` from its metadata.
pub fn object_ref(kind: &str, meta: &ObjectMeta) -> ObjectRef {
    ObjectRef {
        kind: kind.to_owned(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone(),
        field_path: None,
    }
}

/// The workload a pod belongs to: its controller (or, without one, its first owner), with a
/// ReplicaSet that a Deployment made (named `<deployment>-<pod-template-hash>`) reported as
/// that Deployment, the name the pipeline deployed.
pub fn workload_of(pod: &Pod) -> Option<ObjectRef> {
    let m = &pod.metadata;
    let refs = m.owner_references.as_deref()?;
    let r = refs
        .iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())?;
    if r.kind == "ReplicaSet" {
        let hash = m.labels.as_ref().and_then(|l| l.get("pod-template-hash"));
        if let Some(deploy) = hash.and_then(|h| r.name.strip_suffix(&format!("-{h}"))) {
            return Some(ObjectRef {
                kind: "Deployment".into(),
                namespace: m.namespace.clone(),
                name: deploy.to_owned(),
                uid: None,
                field_path: None,
            });
        }
    }
    Some(ObjectRef {
        kind: r.kind.clone(),
        namespace: m.namespace.clone(),
        name: r.name.clone(),
        uid: Some(r.uid.clone()).filter(|u| !u.is_empty()),
        field_path: None,
    })
}

/// True when `pod` is named as the Job controller names its pods (`<job>-<suffix>`): how
/// Events about a Job's pods are found after the controller deleted the pods themselves.
pub fn is_pod_name_of_job(pod: &str, job: &str) -> bool {
    pod.strip_prefix(job)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|suffix| !suffix.is_empty())
}

/// The Job a Kueue `Workload` stands for, read from its name: Kueue names a Job's Workload
/// `job-<job>-<hash>`, five hex digits of a hash of the owner (its
/// `GetWorkloadNameForOwnerWithGVK`). Its events (`Pending`: "couldn't assign flavors to
/// pod set main: insufficient unused quota …") say why the Job stays suspended.
pub fn kueue_workload_job(workload: &str) -> Option<&str> {
    let rest = workload.strip_prefix("job-")?;
    let (job, hash) = rest.rsplit_once('-')?;
    (!job.is_empty()
        && hash.len() == 5
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then_some(job)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
