//! What already runs in the cluster (`lastmile lint --cluster FILE`): the Services and Jobs
//! a manifest set's init containers may wait on without the set defining them.
//!
//! Without it, `lint` can only say a Service "is not in the manifests"; with it, a wait on
//! something the cluster has is not a finding, and one on something neither has is "not in
//! the manifests or the cluster".

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Service;
use serde_json::Value;

/// The cluster objects waits are checked against.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    /// Services, with their namespace set.
    pub services: Vec<Service>,
    /// Jobs, as `namespace/name`.
    pub jobs: BTreeSet<String>,
    /// Every namespace an object of the state is in: a name there that matches no Service
    /// is missing, a name elsewhere may be outside the cluster.
    pub namespaces: BTreeSet<String>,
}

/// A cluster state file `lint` cannot read.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Not JSON (the error's position only, never the content).
    #[error(
        "not JSON (line {line}, column {column}); expected `kubectl get services,jobs -A -o json`"
    )]
    NotJson {
        /// Line of the first syntax error.
        line: usize,
        /// Column of the first syntax error.
        column: usize,
    },
    /// JSON, but neither a List nor a single object with a `kind`.
    #[error("not a Kubernetes List or object; expected `kubectl get services,jobs -A -o json`")]
    NotAList,
}

impl Cluster {
    /// Reads `kubectl get services,jobs -A -o json` output (a `List`, or one object). Other
    /// kinds in it are ignored; a Service that does not parse is skipped.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ClusterError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| ClusterError::NotJson {
            line: e.line(),
            column: e.column(),
        })?;
        let items: Vec<&Value> = match value.get("items").and_then(Value::as_array) {
            Some(items) => items.iter().collect(),
            None if value.get("kind").is_some() => vec![&value],
            None => return Err(ClusterError::NotAList),
        };
        let mut cluster = Self::default();
        for item in items {
            let kind = item.get("kind").and_then(Value::as_str).unwrap_or_default();
            let meta = &item["metadata"];
            let (Some(namespace), Some(name)) = (
                meta.get("namespace").and_then(Value::as_str),
                meta.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            match kind {
                "Service" => {
                    if let Ok(service) = serde_json::from_value::<Service>(item.clone()) {
                        cluster.services.push(service);
                    } else {
                        continue;
                    }
                }
                "Job" => {
                    cluster.jobs.insert(format!("{namespace}/{name}"));
                }
                _ => {}
            }
            cluster.namespaces.insert(namespace.to_owned());
        }
        Ok(cluster)
    }

    /// True when the cluster has Job `namespace/name`.
    pub fn has_job(&self, namespace: &str, name: &str) -> bool {
        self.jobs.contains(&format!("{namespace}/{name}"))
    }
}
