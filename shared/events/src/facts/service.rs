//! Services: which Service a DNS name reaches from a pod, which pods a Service selects, and
//! which of its endpoints are ready.
//!
//! Cluster DNS resolves, from a pod in namespace `ns` (search path
//! `ns.svc.<domain> svc.<domain> <domain>`): `svc` → Service `svc` in `ns`; `svc.other` and
//! `svc.other.svc[.<domain>]` → Service `svc` in `other`; `pod-0.svc.other.svc.<domain>` → a
//! pod of the headless Service `svc`. The cluster domain is whatever follows `.svc.`, so
//! clusters not named `cluster.local` resolve too.

use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

/// The label EndpointSlices carry naming their Service.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// A Service a DNS name resolves to: its namespace and name, before looking it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsTarget {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
}

impl DnsTarget {
    /// The Service a host name (no port, no scheme) names from a pod in `from_ns`; `None`
    /// for IP addresses and names outside the cluster (`db.example.com`).
    pub fn parse(host: &str, from_ns: &str) -> Option<Self> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
            return None;
        }
        let labels: Vec<&str> = host.split('.').collect();
        if labels.iter().any(|l| l.is_empty()) {
            return None;
        }
        let target = |name: &str, ns: &str| DnsTarget {
            namespace: ns.to_owned(),
            name: name.to_owned(),
        };
        // `<svc>.<ns>.svc[.<domain>]`, possibly with a pod hostname first (headless).
        if let Some(i) = labels.iter().position(|l| *l == "svc").filter(|i| *i >= 2) {
            return Some(target(labels[i - 2], labels[i - 1]));
        }
        match labels.as_slice() {
            [svc] => Some(target(svc, from_ns)),
            [svc, ns] => Some(target(svc, ns)),
            _ => None,
        }
    }
}

/// The Services and EndpointSlices known, for resolving names (borrowed from a snapshot).
#[derive(Debug, Clone, Copy)]
pub struct ServiceIndex<'a> {
    services: &'a [Service],
    slices: &'a [EndpointSlice],
}

/// One ready endpoint of a Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyEndpoint {
    /// Its first address.
    pub address: String,
    /// The pod behind it, when the slice says (`targetRef`).
    pub pod: Option<String>,
}

impl<'a> ServiceIndex<'a> {
    /// An index over `services` and their `slices`.
    pub fn new(services: &'a [Service], slices: &'a [EndpointSlice]) -> Self {
        Self { services, slices }
    }

    /// True when no Service is known (e.g. a pasted text): callers must then say that
    /// they could not resolve names.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The Services indexed.
    pub fn services(&self) -> &'a [Service] {
        self.services
    }

    fn find(&self, namespace: &str, name: &str) -> Option<&'a Service> {
        self.services.iter().find(|s| {
            s.metadata.namespace.as_deref() == Some(namespace)
                && s.metadata.name.as_deref() == Some(name)
        })
    }

    /// The Service `host` reaches from a pod in `from_ns`, if it is one of the known ones.
    pub fn resolve(&self, host: &str, from_ns: &str) -> Option<&'a Service> {
        let t = DnsTarget::parse(host, from_ns)?;
        self.find(&t.namespace, &t.name)
    }

    /// True when `svc` selects `pod`: same namespace, every selector label equal. A Service
    /// without a selector (endpoints managed by hand) selects none.
    pub fn selects(svc: &Service, pod: &Pod) -> bool {
        let Some(selector) = svc
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .filter(|s| !s.is_empty())
        else {
            return false;
        };
        pod.metadata.namespace == svc.metadata.namespace
            && pod.metadata.labels.as_ref().is_some_and(|labels| {
                selector
                    .iter()
                    .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
            })
    }

    /// True when `svc` exposes `port` (as a Service port), or no port was given.
    pub fn exposes(svc: &Service, port: Option<u16>) -> bool {
        let Some(port) = port else { return true };
        svc.spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .is_none_or(|ports| ports.iter().any(|p| p.port == i32::from(port)))
    }

    /// The ready endpoints of `svc` (conditions.ready absent counts as ready, as the API
    /// defines it).
    pub fn ready_endpoints(&self, svc: &Service) -> Vec<ReadyEndpoint> {
        let name = svc.metadata.name.as_deref();
        self.slices
            .iter()
            .filter(|s| {
                s.metadata.namespace == svc.metadata.namespace
                    && s.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get(SERVICE_NAME_LABEL))
                        .map(String::as_str)
                        == name
            })
            .flat_map(|s| s.endpoints.iter().flatten())
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
            .map(|e| ReadyEndpoint {
                address: e.addresses.first().cloned().unwrap_or_default(),
                pod: e
                    .target_ref
                    .as_ref()
                    .filter(|r| r.kind.as_deref() == Some("Pod"))
                    .and_then(|r| r.name.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
