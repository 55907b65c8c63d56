//! What the pending pod asks of a node: [`PodNeeds`], read once from the pod spec.

use k8s_openapi::api::core::v1::{NodeSelector, Pod, PodSpec, Toleration};

use crate::index::SnapshotIndex;
use crate::resources::{PodRequests, pod_requests};
use crate::selectors::Labels;

/// What the pending pod needs from a node.
#[derive(Debug, Clone)]
pub struct PodNeeds<'p> {
    /// The pod's namespace (affinity, quotas and LimitRanges are per namespace).
    pub namespace: String,
    /// The pod's name.
    pub name: String,
    /// The pod's labels (for its own anti-affinity and spread).
    pub labels: Labels,
    /// The spec.
    pub spec: &'p PodSpec,
    /// Effective requests (LimitRange defaults applied).
    pub requests: PodRequests,
    /// Host ports: (protocol, port, host IP).
    pub host_ports: Vec<(String, i32, String)>,
}

impl<'p> PodNeeds<'p> {
    /// Reads the pod (or a Job's pod template), applying the namespace's LimitRange defaults.
    pub fn new(
        namespace: &str,
        name: &str,
        labels: Labels,
        spec: &'p PodSpec,
        index: Option<&SnapshotIndex<'_>>,
    ) -> Self {
        let lrs = index.map(|i| i.limit_ranges(namespace)).unwrap_or_default();
        let requests = pod_requests(spec, &lrs);
        let mut host_ports = Vec::new();
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            for p in c.ports.iter().flatten() {
                if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                    host_ports.push((
                        p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        hp,
                        p.host_ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
                    ));
                }
            }
        }
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            labels,
            spec,
            requests,
            host_ports,
        }
    }

    /// From a Pod object.
    pub fn from_pod(pod: &'p Pod, index: Option<&SnapshotIndex<'_>>) -> Option<Self> {
        let spec = pod.spec.as_ref()?;
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod
            .metadata
            .name
            .as_deref()
            .or(pod.metadata.generate_name.as_deref())
            .unwrap_or("");
        Some(Self::new(
            ns,
            name,
            pod.metadata.labels.clone().unwrap_or_default(),
            spec,
            index,
        ))
    }

    pub(super) fn tolerations(&self) -> &[Toleration] {
        self.spec.tolerations.as_deref().unwrap_or(&[])
    }

    pub(super) fn required_node_affinity(&self) -> Option<&NodeSelector> {
        self.spec
            .affinity
            .as_ref()?
            .node_affinity
            .as_ref()?
            .required_during_scheduling_ignored_during_execution
            .as_ref()
    }
}
