//! Effective pod requests, the way the scheduler adds them up.
//!
//! `max(largest init container (with restartable sidecars running alongside), sum of app
//! containers + sidecars) + overhead`, after LimitRange defaults fill in what a container
//! left out (a Job's pod template has not been through admission yet).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, LimitRange, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;

use crate::quantity::Quantity;

/// Resource name → amount.
pub type Res = BTreeMap<String, Quantity>;

/// Converts an API resource list.
pub fn to_res(list: Option<&BTreeMap<String, K8sQuantity>>) -> Res {
    list.map(|m| {
        m.iter()
            .map(|(k, v)| (k.clone(), Quantity::parse_or_zero(&v.0)))
            .collect()
    })
    .unwrap_or_default()
}

/// Adds `b` into `a`.
pub fn add_into(a: &mut Res, b: &Res) {
    for (k, v) in b {
        let e = a.entry(k.clone()).or_default();
        *e = *e + *v;
    }
}

/// Element-wise max into `a`.
pub fn max_into(a: &mut Res, b: &Res) {
    for (k, v) in b {
        let e = a.entry(k.clone()).or_default();
        if *v > *e {
            *e = *v;
        }
    }
}

/// One container after defaulting.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRes {
    /// Container name.
    pub name: String,
    /// Requests after defaulting.
    pub requests: Res,
    /// Limits after defaulting.
    pub limits: Res,
    /// Resources whose request or limit came from a LimitRange default.
    pub defaulted: Vec<String>,
    /// Init container.
    pub init: bool,
    /// Restartable init container (sidecar).
    pub sidecar: bool,
}

/// The pod's effective requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodRequests {
    /// What the scheduler reserves on a node (includes `pods: 1`).
    pub total: Res,
    /// Per container, after defaulting.
    pub containers: Vec<ContainerRes>,
}

impl PodRequests {
    /// The request for `resource` (zero when absent).
    pub fn get(&self, resource: &str) -> Quantity {
        self.total.get(resource).copied().unwrap_or_default()
    }

    /// True when a LimitRange default changed any container.
    pub fn any_defaulted(&self) -> bool {
        self.containers.iter().any(|c| !c.defaulted.is_empty())
    }
}

/// LimitRange defaults for containers: `(default requests, default limits)`.
/// As the API defaults them: `default` falls back to `max`, `defaultRequest` to `default`.
pub fn container_defaults(limit_ranges: &[&LimitRange]) -> (Res, Res) {
    let mut requests = Res::new();
    let mut limits = Res::new();
    for lr in limit_ranges {
        for item in lr.spec.as_ref().map(|s| s.limits.as_slice()).unwrap_or(&[]) {
            if item.type_ != "Container" {
                continue;
            }
            let max = to_res(item.max.as_ref());
            let mut default = to_res(item.default.as_ref());
            for (k, v) in &max {
                default.entry(k.clone()).or_insert(*v);
            }
            let mut default_request = to_res(item.default_request.as_ref());
            for (k, v) in &default {
                default_request.entry(k.clone()).or_insert(*v);
            }
            for (k, v) in default {
                limits.entry(k).or_insert(v);
            }
            for (k, v) in default_request {
                requests.entry(k).or_insert(v);
            }
        }
    }
    (requests, limits)
}

fn container_res(c: &Container, init: bool, defaults: &(Res, Res)) -> ContainerRes {
    let res = c.resources.as_ref();
    let mut limits = to_res(res.and_then(|r| r.limits.as_ref()));
    let mut requests = to_res(res.and_then(|r| r.requests.as_ref()));
    let mut defaulted = Vec::new();
    // LimitRanger first fills missing limits and requests from the defaults…
    for (k, v) in &defaults.1 {
        if !limits.contains_key(k) {
            limits.insert(k.clone(), *v);
            defaulted.push(format!("limits.{k}"));
        }
    }
    // …then API defaulting copies a limit into a missing request (already true of
    // admitted pods, which is what the scheduler sees).
    for (k, v) in &limits {
        if !requests.contains_key(k) && !defaults.0.contains_key(k) {
            requests.insert(k.clone(), *v);
        }
    }
    for (k, v) in &defaults.0 {
        if !requests.contains_key(k) {
            // A container that set its own limit gets that limit as request, not the default.
            let from_limit = res
                .and_then(|r| r.limits.as_ref())
                .and_then(|l| l.get(k))
                .map(|q| Quantity::parse_or_zero(&q.0));
            match from_limit {
                Some(l) => {
                    requests.insert(k.clone(), l);
                }
                None => {
                    requests.insert(k.clone(), *v);
                    defaulted.push(format!("requests.{k}"));
                }
            }
        }
    }
    ContainerRes {
        name: c.name.clone(),
        requests,
        limits,
        defaulted,
        init,
        sidecar: init && c.restart_policy.as_deref() == Some("Always"),
    }
}

/// The pod's effective requests with LimitRange defaults applied to what is missing.
pub fn pod_requests(spec: &PodSpec, limit_ranges: &[&LimitRange]) -> PodRequests {
    let defaults = if limit_ranges.is_empty() {
        (Res::new(), Res::new())
    } else {
        container_defaults(limit_ranges)
    };
    let mut containers = Vec::new();
    let mut init_max = Res::new();
    let mut sidecars = Res::new();
    for c in spec.init_containers.as_deref().unwrap_or(&[]) {
        let cr = container_res(c, true, &defaults);
        if cr.sidecar {
            add_into(&mut sidecars, &cr.requests);
            max_into(&mut init_max, &sidecars);
        } else {
            let mut during = sidecars.clone();
            add_into(&mut during, &cr.requests);
            max_into(&mut init_max, &during);
        }
        containers.push(cr);
    }
    let mut app = sidecars;
    for c in &spec.containers {
        let cr = container_res(c, false, &defaults);
        add_into(&mut app, &cr.requests);
        containers.push(cr);
    }
    let mut total = app;
    max_into(&mut total, &init_max);
    // Pod-level resources (v1.34+) replace the container sum for the resources they name.
    for (k, v) in to_res(spec.resources.as_ref().and_then(|r| r.requests.as_ref())) {
        total.insert(k, v);
    }
    add_into(&mut total, &to_res(spec.overhead.as_ref()));
    total.retain(|_, v| !v.is_zero());
    total.insert("pods".into(), Quantity::from_units(1));
    PodRequests { total, containers }
}

/// Requests of an already running pod (no LimitRange: it was admitted).
pub fn admitted_pod_requests(spec: &PodSpec) -> Res {
    pod_requests(spec, &[]).total
}

#[cfg(test)]
mod tests;
