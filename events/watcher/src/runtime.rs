//! What a Runtime incident's snapshot carries besides its namespace's LimitRanges and the
//! claims its pod mounts: the ConfigMap/Secret names and key names (never values) of its
//! namespace and of any namespace holding one the pod refers to by name, and the other pods
//! mounting its claims with their nodes (a ReadWriteOnce volume still attached elsewhere is
//! a Multi-Attach).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use lastmile_events::{ClusterSnapshot, ConfigObject, Incident};

use crate::store::{
    ClusterStore, MAX_SNAPSHOT_CLAIM_HOLDERS, MAX_SNAPSHOT_CONFIGS, object_key, parse_one,
};

/// The claim names `pod` mounts.
pub fn claims_of(pod: &Pod) -> impl Iterator<Item = &str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.as_str())
}

/// `(kind, name)` of every ConfigMap and Secret `pod` refers to: env, envFrom, volumes
/// (projected too) and image pull secrets.
pub fn configs_named(pod: &Pod) -> BTreeSet<(&'static str, String)> {
    let mut out = BTreeSet::new();
    let Some(spec) = pod.spec.as_ref() else {
        return out;
    };
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for c in containers {
        for e in c.env.iter().flatten() {
            let from = e.value_from.as_ref();
            if let Some(r) = from.and_then(|f| f.config_map_key_ref.as_ref()) {
                out.insert(("ConfigMap", r.name.clone()));
            }
            if let Some(r) = from.and_then(|f| f.secret_key_ref.as_ref()) {
                out.insert(("Secret", r.name.clone()));
            }
        }
        for e in c.env_from.iter().flatten() {
            if let Some(r) = &e.config_map_ref {
                out.insert(("ConfigMap", r.name.clone()));
            }
            if let Some(r) = &e.secret_ref {
                out.insert(("Secret", r.name.clone()));
            }
        }
    }
    for v in spec.volumes.iter().flatten() {
        if let Some(cm) = &v.config_map {
            out.insert(("ConfigMap", cm.name.clone()));
        }
        if let Some(name) = v.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            out.insert(("Secret", name));
        }
        for p in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(cm) = &p.config_map {
                out.insert(("ConfigMap", cm.name.clone()));
            }
            if let Some(s) = &p.secret {
                out.insert(("Secret", s.name.clone()));
            }
        }
    }
    for s in spec.image_pull_secrets.iter().flatten() {
        out.insert(("Secret", s.name.clone()));
    }
    out
}

/// Adds the Runtime-specific state to `snap` (see the module docs). `snap.pvcs` must
/// already hold the pod's claims.
pub(crate) fn state(
    store: &ClusterStore,
    incident: &Incident,
    ns: &str,
    snap: &mut ClusterSnapshot,
) {
    let Some(pod) = incident.pod.as_deref() else {
        return;
    };
    let named = configs_named(pod);
    let prefix = format!("{ns}/");
    let sets = [&store.config_maps, &store.secrets];
    snap.configs = sets
        .iter()
        .flat_map(|set| set.with_prefix(&prefix).map(|(_, c)| c))
        .take(MAX_SNAPSHOT_CONFIGS)
        .cloned()
        .collect();
    if !named.is_empty() {
        let room = MAX_SNAPSHOT_CONFIGS.saturating_sub(snap.configs.len());
        let elsewhere: Vec<ConfigObject> = sets
            .iter()
            .flat_map(|set| set.values())
            .filter(|c| c.namespace != ns)
            .filter(|c| named.contains(&(c.kind.as_str(), c.name.clone())))
            .take(room)
            .cloned()
            .collect();
        snap.configs.extend(elsewhere);
    }
    let claims: BTreeSet<&str> = claims_of(pod).collect();
    if claims.is_empty() {
        return;
    }
    let own = object_key(pod);
    snap.pods = store
        .bound_pods
        .with_prefix(&prefix)
        .filter(|(key, _)| **key != own)
        .filter_map(|(_, raw)| parse_one::<Pod>(raw))
        .filter(|p| claims_of(p).any(|c| claims.contains(c)))
        .take(MAX_SNAPSHOT_CLAIM_HOLDERS)
        .collect();
}

#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;
