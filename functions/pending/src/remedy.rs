//! Ready-to-run commands for the smallest fix. lastmile never runs them.
//!
//! Pod templates of Jobs are immutable, so for a Job the honest command rewrites the
//! manifest and recreates the Job (`kubectl replace --force`); Deployments, StatefulSets,
//! DaemonSets and ReplicaSets take a strategic-merge patch of their template.

use lastmile_events::{ObjectRef, Remediation};
use serde_json::{Value, json};

/// The workload whose pod template a fix must change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// Kind (`Job`, `Deployment`, `Pod`, …).
    pub kind: String,
    /// The workload's namespace.
    pub namespace: String,
    /// The workload's name.
    pub name: String,
}

impl Workload {
    /// The owner when known, else the pod itself.
    pub fn from_refs(subject: &ObjectRef, owner: Option<&ObjectRef>) -> Self {
        let who = owner.filter(|o| !o.name.is_empty()).unwrap_or(subject);
        Self {
            kind: if who.kind.is_empty() {
                "Pod".into()
            } else {
                who.kind.clone()
            },
            namespace: who.namespace.clone().unwrap_or_else(|| "default".into()),
            name: who.name.clone(),
        }
    }

    /// The workload that owns `pod` through its controller reference, when the incident
    /// did not name one. A ReplicaSet's template is managed by its Deployment, so a
    /// ReplicaSet owner `web-5d8f7c9b4` becomes Deployment `web`.
    pub fn from_pod_owner(pod: &k8s_openapi::api::core::v1::Pod) -> Option<Self> {
        let ns = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let owner = pod
            .metadata
            .owner_references
            .as_ref()?
            .iter()
            .find(|o| o.controller == Some(true))?;
        let (kind, name) = match owner.kind.as_str() {
            "ReplicaSet" => match owner.name.rsplit_once('-') {
                Some((deploy, hash))
                    if !deploy.is_empty() && hash.chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    ("Deployment".to_owned(), deploy.to_owned())
                }
                _ => (owner.kind.clone(), owner.name.clone()),
            },
            kind => (kind.to_owned(), owner.name.clone()),
        };
        Some(Self {
            kind,
            namespace: ns,
            name,
        })
    }

    fn resource(&self) -> String {
        format!("{}/{}", self.kind.to_lowercase(), self.name)
    }

    fn is_templated(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        )
    }
}

/// Single-quotes a JSON document for a POSIX shell.
fn sh_quote(v: &Value) -> String {
    format!("'{}'", v.to_string().replace('\'', "'\\''"))
}

/// Changes `template_spec` (a JSON merge of the pod spec) on the workload: a
/// strategic-merge patch where the API allows it, else a recreate of the Job.
/// `jq_edit` is the same change as a jq filter on `.spec.template.spec`.
pub fn change_pod_spec(
    w: &Workload,
    what: &str,
    template_spec: Value,
    jq_edit: &str,
) -> Remediation {
    if w.is_templated() {
        let patch = json!({"spec": {"template": {"spec": template_spec}}});
        Remediation {
            description: format!("{what} in the pod template of {} {}", w.kind, w.name),
            command: Some(format!(
                "kubectl patch {} -n {} --type=strategic -p {}",
                w.resource(),
                w.namespace,
                sh_quote(&patch)
            )),
        }
    } else if w.kind == "Job" || w.kind == "CronJob" {
        let filter = format!(
            "del(.metadata.resourceVersion, .metadata.uid, .metadata.creationTimestamp, .status, .spec.selector, .spec.template.metadata.labels[\"controller-uid\"], .spec.template.metadata.labels[\"batch.kubernetes.io/controller-uid\"], .spec.template.metadata.labels[\"job-name\"], .spec.template.metadata.labels[\"batch.kubernetes.io/job-name\"]) | .spec.template.spec |= ({jq_edit})"
        );
        Remediation {
            description: format!(
                "{what}. A Job's pod template is immutable, so change it in the manifest (or CI values) and recreate the Job; this command does that for {} {} (it deletes the running Job first)",
                w.kind, w.name
            ),
            command: Some(format!(
                "kubectl get {} -n {} -o json | jq '{}' | kubectl replace --force -f -",
                w.resource(),
                w.namespace,
                filter.replace('\'', "'\\''")
            )),
        }
    } else {
        Remediation {
            description: format!(
                "{what} in the manifest of {} {} and re-apply it (a running Pod's spec is mostly immutable)",
                w.kind, w.name
            ),
            command: Some(format!(
                "kubectl get {} -n {} -o json | jq '.spec |= ({jq_edit})' | kubectl replace --force -f -",
                w.resource(),
                w.namespace
            )),
        }
    }
}

/// A jq string literal.
pub fn jq_str(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// `kubectl patch resourcequota` raising one hard limit.
pub fn raise_quota(namespace: &str, quota: &str, resource: &str, new_hard: &str) -> Remediation {
    let patch = json!({"spec": {"hard": {resource: new_hard}}});
    Remediation {
        description: format!(
            "raise ResourceQuota {quota} {resource} to {new_hard} (or free usage in the namespace)"
        ),
        command: Some(format!(
            "kubectl patch resourcequota {quota} -n {namespace} --type=merge -p {}",
            sh_quote(&patch)
        )),
    }
}

/// Provider-aware advice for adding capacity to a pool.
pub fn add_capacity(provider: crate::index::Provider, pool: &str, nodes: usize) -> Remediation {
    use crate::index::Provider;
    let pool_name = if pool.is_empty() { "<pool>" } else { pool };
    let (description, command) = match provider {
        Provider::Gke => (
            format!("add nodes to GKE node pool {pool_name} (or raise its autoscaling max)"),
            Some(format!(
                "gcloud container clusters resize <cluster> --node-pool {pool_name} --num-nodes {}",
                nodes + 1
            )),
        ),
        Provider::Eks => (
            format!(
                "scale EKS node group {pool_name} (or raise its maxSize for the cluster-autoscaler)"
            ),
            Some(format!(
                "eksctl scale nodegroup --cluster <cluster> --name {pool_name} --nodes {} --nodes-max {}",
                nodes + 1,
                nodes + 2
            )),
        ),
        Provider::Aks => (
            format!("scale AKS agent pool {pool_name} (or raise its autoscaler max-count)"),
            Some(format!(
                "az aks nodepool scale --resource-group <rg> --cluster-name <cluster> --name {pool_name} --node-count {}",
                nodes + 1
            )),
        ),
        Provider::Karpenter => (
            format!(
                "let Karpenter NodePool {pool_name} launch a larger node: raise spec.limits and allow bigger instance types"
            ),
            Some(format!(
                "kubectl get nodepool {pool_name} -o yaml   # check spec.limits and spec.template.spec.requirements"
            )),
        ),
        Provider::Local | Provider::Other => (
            "add a node with enough allocatable capacity (or free capacity on existing nodes)"
                .to_owned(),
            None,
        ),
    };
    Remediation {
        description,
        command,
    }
}

#[cfg(test)]
mod tests;
