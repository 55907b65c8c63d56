//! The pod's own pull credentials, read through the context's cluster view: what the hosted
//! function uses instead of the secrets incidents never carry.
//!
//! [`resolve`] reads, by name only, the pod's `imagePullSecrets` and those of its service
//! account, then hands them to [`credentials::select`](crate::credentials::select) as
//! [`ProbeCredentials`], so the kubelet's rules (types, keys, host matching) apply unchanged.
//! A read is *decisive* when the API server said what the object is (found, or not found);
//! only then may an absent secret be reported as missing. Reads lastmile could not make
//! (forbidden by RBAC, a timeout) are recorded in [`Resolution::reads`] and said in the
//! diagnosis as limits of lastmile's view, never as the pod's problem.
//!
//! Secrets are namespaced and there is no cross-namespace lookup with `get` alone: when a
//! secret is not in the pod's namespace, only `default` is also asked (the namespace a
//! `kubectl create secret` without `--namespace` lands in), which the selection then reports
//! as "exists only in namespace default".

use futures::future::join_all;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{LocalObjectReference, Pod, Secret, ServiceAccount};
use lastmile_contract::{ClusterRead, ClusterView, Outcome, PullSecret};
use lastmile_events::{Class, Diagnosis};
use serde::Serialize;

use crate::credentials::ProbeCredentials;

/// The namespace asked as well when a secret is not in the pod's own.
const FALLBACK_NAMESPACE: &str = "default";

/// How one read went, for the diagnosis (never a value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadStatus {
    /// Read.
    Found,
    /// The API server says it does not exist.
    NotFound,
    /// lastmile's RBAC does not allow the read.
    Forbidden,
    /// The read failed (timeout, connection, 5xx).
    Failed,
}

/// One object read on the pod's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Read {
    /// `secret` or `serviceaccount`.
    pub kind: &'static str,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// What came of it.
    pub status: ReadStatus,
    /// Why it could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Read {
    fn new<T>(kind: &'static str, namespace: &str, name: &str, read: &ClusterRead<T>) -> Self {
        let (status, detail) = match read {
            ClusterRead::Found(_) => (ReadStatus::Found, None),
            ClusterRead::NotFound => (ReadStatus::NotFound, None),
            ClusterRead::Unavailable => (ReadStatus::Failed, Some("no live cluster view".into())),
            ClusterRead::Forbidden { detail } => (ReadStatus::Forbidden, Some(detail.clone())),
            ClusterRead::Failed { detail } => (ReadStatus::Failed, Some(detail.clone())),
        };
        Self {
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            status,
            detail,
        }
    }

    /// The evidence line for a read lastmile could not make.
    fn limitation(&self) -> Option<String> {
        let what = format!("{} {}/{}", self.kind, self.namespace, self.name);
        let detail = self.detail.as_deref().unwrap_or("no detail");
        match self.status {
            ReadStatus::Forbidden => Some(format!(
                "lastmile could not read {what} (RBAC: {detail}); grant the image-pull function `get` on {}s to probe with the pod's own credentials",
                self.kind
            )),
            ReadStatus::Failed => Some(format!("lastmile could not read {what}: {detail}")),
            ReadStatus::Found | ReadStatus::NotFound => None,
        }
    }
}

/// The pod's credentials as far as lastmile could read them.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// What the probe and the selection get.
    pub credentials: ProbeCredentials,
    /// Every read made, in order; empty when the view has no cluster behind it.
    pub reads: Vec<Read>,
}

impl Resolution {
    /// Reads lastmile could not make (forbidden, failed).
    pub fn limitations(&self) -> Vec<String> {
        self.reads.iter().filter_map(Read::limitation).collect()
    }

    /// Says the limits of what was read in `outcome`: each diagnosis lists the reads that
    /// failed, and an `image.auth` verdict reached without them is neither definitive nor
    /// confident (the pod's real credentials were never tried). Every diagnosis records the
    /// reads (names and statuses only) under `details.pull_secret_reads`.
    pub fn annotate(&self, outcome: &mut Outcome) {
        if self.reads.is_empty() {
            return;
        }
        let limits = self.limitations();
        for d in &mut outcome.diagnoses {
            annotate_one(d, &self.reads, &limits);
        }
    }
}

fn annotate_one(d: &mut Diagnosis, reads: &[Read], limits: &[String]) {
    if let Some(details) = d.details.as_object_mut() {
        details.insert(
            "pull_secret_reads".into(),
            serde_json::to_value(reads).unwrap_or_default(),
        );
    }
    if limits.is_empty() {
        return;
    }
    d.evidence.extend(limits.iter().cloned());
    if d.class.as_str() == Class::IMAGE_AUTH {
        d.definitive = false;
        d.confidence = d.confidence.min(0.6);
    }
}

/// The pod's namespace as the diagnosis names it: the incident subject's, else the pod's.
pub fn namespace_of(subject_ns: Option<&str>, pod: Option<&Pod>) -> String {
    subject_ns
        .map(str::to_owned)
        .or_else(|| pod.and_then(|p| p.metadata.namespace.clone()))
        .unwrap_or_else(|| FALLBACK_NAMESPACE.into())
}

/// Reads the pull secrets `pod` (in `namespace`) refers to, directly and through its
/// service account, and builds the probe's credentials. Reads run concurrently; the view
/// bounds each one.
pub async fn resolve(pod: Option<&Pod>, namespace: &str, view: &dyn ClusterView) -> Resolution {
    let Some(spec) = pod.and_then(|p| p.spec.as_ref()) else {
        return Resolution::default();
    };
    let sa_name = spec
        .service_account_name
        .clone()
        .or_else(|| spec.service_account.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    let sa_read = view.service_account_pull_secrets(namespace, &sa_name).await;
    if matches!(sa_read, ClusterRead::Unavailable) {
        // No cluster behind the view: the incident alone, as before.
        return Resolution::default();
    }
    let mut out = Resolution::default();
    out.reads
        .push(Read::new("serviceaccount", namespace, &sa_name, &sa_read));
    let mut names: Vec<String> = refs(spec.image_pull_secrets.as_deref());
    if let ClusterRead::Found(sa_secrets) = &sa_read {
        let mut sa = ServiceAccount::default();
        sa.metadata.name = Some(sa_name.clone());
        sa.metadata.namespace = Some(namespace.to_owned());
        sa.image_pull_secrets = Some(
            sa_secrets
                .iter()
                .map(|n| LocalObjectReference { name: n.clone() })
                .collect(),
        );
        out.credentials.service_accounts.push(sa);
        names.extend(sa_secrets.iter().cloned());
    }
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| !n.is_empty() && seen.insert(n.clone()));

    let reads = join_all(names.iter().map(|n| read_secret(view, namespace, n))).await;
    let mut decisive = true;
    for (name, (local, elsewhere)) in names.iter().zip(reads) {
        decisive &= local.is_decisive();
        out.reads.push(Read::new("secret", namespace, name, &local));
        match local {
            ClusterRead::Found(data) => out.credentials.secrets.push(secret(namespace, name, data)),
            _ => {
                if let Some(ClusterRead::Found(data)) = elsewhere {
                    out.credentials
                        .secrets
                        .push(secret(FALLBACK_NAMESPACE, name, data));
                }
            }
        }
    }
    // Every named secret was found or is certainly absent: absence is a finding.
    out.credentials.complete = decisive;
    out
}

/// The secret in `namespace`, and when it is not there, in the fallback namespace.
async fn read_secret(
    view: &dyn ClusterView,
    namespace: &str,
    name: &str,
) -> (ClusterRead<PullSecret>, Option<ClusterRead<PullSecret>>) {
    let local = view.pull_secret(namespace, name).await;
    let elsewhere = if matches!(local, ClusterRead::NotFound) && namespace != FALLBACK_NAMESPACE {
        Some(view.pull_secret(FALLBACK_NAMESPACE, name).await)
    } else {
        None
    };
    (local, elsewhere)
}

fn refs(list: Option<&[LocalObjectReference]>) -> Vec<String> {
    list.into_iter().flatten().map(|r| r.name.clone()).collect()
}

fn secret(namespace: &str, name: &str, data: PullSecret) -> Secret {
    let mut s = Secret::default();
    s.metadata.name = Some(name.to_owned());
    s.metadata.namespace = Some(namespace.to_owned());
    s.type_ = (!data.type_.is_empty()).then_some(data.type_);
    s.data = Some(
        data.data
            .into_iter()
            .map(|(k, v)| (k, ByteString(v)))
            .collect(),
    );
    s
}

#[cfg(test)]
mod tests;
