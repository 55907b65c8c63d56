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
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use async_trait::async_trait;
    use base64::Engine;
    use lastmile_contract::Context;
    use lastmile_events::{ClusterSnapshot, Incident, IncidentFamily, ObjectRef};

    use super::*;
    use crate::credentials::{SecretProblem, select};
    use crate::reference::ImageRef;

    const PASSWORD: &str = "pa55-w0rd-never-shown";

    /// A cluster as the API server would answer single-object reads.
    #[derive(Default)]
    struct Cluster {
        secrets: BTreeMap<(String, String), ClusterRead<PullSecret>>,
        accounts: BTreeMap<(String, String), Vec<String>>,
    }

    #[async_trait]
    impl ClusterView for Cluster {
        async fn snapshot(&self, _incident: &Incident) -> Option<Arc<ClusterSnapshot>> {
            None
        }
        async fn pull_secret(&self, ns: &str, name: &str) -> ClusterRead<PullSecret> {
            self.secrets
                .get(&(ns.to_owned(), name.to_owned()))
                .cloned()
                .unwrap_or(ClusterRead::NotFound)
        }
        async fn service_account_pull_secrets(
            &self,
            ns: &str,
            name: &str,
        ) -> ClusterRead<Vec<String>> {
            self.accounts
                .get(&(ns.to_owned(), name.to_owned()))
                .cloned()
                .map_or(ClusterRead::NotFound, ClusterRead::Found)
        }
    }

    fn docker(ty: &str, key: &str, registry: &str) -> ClusterRead<PullSecret> {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("ci:{PASSWORD}"));
        let body = if key == ".dockercfg" {
            serde_json::json!({ registry: {"auth": auth} })
        } else {
            serde_json::json!({"auths": { registry: {"auth": auth} }})
        };
        ClusterRead::Found(PullSecret {
            type_: ty.into(),
            data: [(key.to_owned(), body.to_string().into_bytes())].into(),
        })
    }

    fn key(ns: &str, name: &str) -> (String, String) {
        (ns.to_owned(), name.to_owned())
    }

    fn pod(secrets: &[&str], sa: Option<&str>) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "api-1", "namespace": "ci"},
            "spec": {"containers": [{"name": "api", "image": "r.example/team/app:1"}],
                     "serviceAccountName": sa,
                     "imagePullSecrets": secrets.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>()}
        }))
        .unwrap()
    }

    fn image() -> ImageRef {
        ImageRef::parse("r.example/team/app:1").unwrap()
    }

    #[tokio::test]
    async fn pod_and_service_account_secrets_both_legacy_and_json_become_candidates() {
        let mut c = Cluster::default();
        c.secrets.insert(
            key("ci", "regcred"),
            docker(
                "kubernetes.io/dockerconfigjson",
                ".dockerconfigjson",
                "r.example",
            ),
        );
        c.secrets.insert(
            key("ci", "legacy"),
            docker("kubernetes.io/dockercfg", ".dockercfg", "https://r.example"),
        );
        c.accounts.insert(
            key("ci", "builder"),
            vec!["legacy".into(), "regcred".into()],
        );
        let p = pod(&["regcred"], Some("builder"));
        let r = resolve(Some(&p), "ci", &c).await;
        assert!(r.credentials.complete);
        let statuses: Vec<_> = r
            .reads
            .iter()
            .map(|x| (x.kind, x.name.as_str(), x.status.clone()))
            .collect();
        assert_eq!(
            statuses,
            [
                ("serviceaccount", "builder", ReadStatus::Found),
                ("secret", "regcred", ReadStatus::Found),
                ("secret", "legacy", ReadStatus::Found),
            ],
            "each secret is read once, pod's first"
        );
        let sel = select(Some(&p), &image(), &r.credentials);
        assert!(sel.problems.is_empty(), "{:?}", sel.problems);
        assert_eq!(sel.candidates.len(), 2, "{:?}", sel.candidates);
        assert!(sel.candidates.iter().all(|c| c.password == PASSWORD));
        assert!(r.limitations().is_empty());
    }

    #[tokio::test]
    async fn absent_secret_is_missing_or_found_only_in_default() {
        let mut c = Cluster::default();
        c.secrets.insert(
            key("default", "copied-wrong"),
            docker(
                "kubernetes.io/dockerconfigjson",
                ".dockerconfigjson",
                "r.example",
            ),
        );
        let p = pod(&["gone", "copied-wrong"], None);
        let r = resolve(Some(&p), "ci", &c).await;
        assert!(
            r.credentials.complete,
            "not found is an answer about the secret"
        );
        let sel = select(Some(&p), &image(), &r.credentials);
        assert_eq!(
            sel.problems,
            [
                SecretProblem::Missing {
                    name: "gone".into()
                },
                SecretProblem::OtherNamespace {
                    name: "copied-wrong".into(),
                    found_in: "default".into()
                }
            ]
        );
        assert!(
            sel.candidates.is_empty(),
            "a secret in another namespace is never used"
        );
    }

    #[tokio::test]
    async fn forbidden_secret_is_a_limit_of_lastmile_not_a_missing_secret() {
        let mut c = Cluster::default();
        c.secrets.insert(
            key("ci", "locked"),
            ClusterRead::Forbidden {
                detail: "secrets \"locked\" is forbidden".into(),
            },
        );
        let p = pod(&["locked", "gone"], None);
        let r = resolve(Some(&p), "ci", &c).await;
        assert!(!r.credentials.complete);
        let sel = select(Some(&p), &image(), &r.credentials);
        assert!(
            sel.problems.is_empty(),
            "nothing may be called missing when a read was refused: {:?}",
            sel.problems
        );
        let limits = r.limitations();
        assert_eq!(limits.len(), 1, "{limits:?}");
        assert!(
            limits[0].contains("could not read secret ci/locked") && limits[0].contains("RBAC"),
            "{}",
            limits[0]
        );

        let mut outcome = Outcome::default();
        let mut d = Diagnosis::new(
            Class::IMAGE_AUTH,
            0.95,
            "x",
            lastmile_events::Subject::default(),
        );
        d.definitive = true;
        d.details = serde_json::json!({"probed": true});
        outcome.diagnoses.push(d);
        r.annotate(&mut outcome);
        let d = &outcome.diagnoses[0];
        assert!(!d.definitive && d.confidence <= 0.6, "{d:?}");
        assert!(d.evidence.iter().any(|e| e.contains("ci/locked")));
        assert_eq!(d.details["pull_secret_reads"][1]["status"], "forbidden");
    }

    #[tokio::test]
    async fn without_a_live_view_nothing_is_read_or_claimed() {
        let p = pod(&["regcred"], None);
        let r = resolve(Some(&p), "ci", &lastmile_contract::NoCluster).await;
        assert!(r.reads.is_empty() && !r.credentials.complete);
        let mut outcome = Outcome::default();
        outcome.diagnoses.push(Diagnosis::new(
            Class::IMAGE_AUTH,
            0.9,
            "x",
            lastmile_events::Subject::default(),
        ));
        let before = outcome.clone();
        r.annotate(&mut outcome);
        assert_eq!(outcome, before, "replay output is unchanged");
        assert!(
            resolve(None, "ci", &Cluster::default())
                .await
                .reads
                .is_empty()
        );
    }

    #[tokio::test]
    async fn handle_names_the_missing_secret_and_shows_no_secret_value() {
        let mut c = Cluster::default();
        c.secrets.insert(
            key("ci", "regcred"),
            docker(
                "kubernetes.io/dockerconfigjson",
                ".dockerconfigjson",
                "other.example",
            ),
        );
        let p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "api-1", "namespace": "ci"},
            "spec": {"containers": [{"name": "api", "image": "r.example/team/app:1"}],
                     "imagePullSecrets": [{"name": "regcred"}, {"name": "gone"}]},
            "status": {"containerStatuses": [{"name": "api", "image": "r.example/team/app:1", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ErrImagePull", "message": "failed to pull and unpack image \"r.example/team/app:1\": failed to resolve reference \"r.example/team/app:1\": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials"}}}]}
        }))
        .unwrap();
        let subject = ObjectRef {
            kind: "Pod".into(),
            namespace: Some("ci".into()),
            name: "api-1".into(),
            ..Default::default()
        };
        let mut inc = Incident::new(IncidentFamily::ImagePull, subject, None, chrono::Utc::now());
        inc.pod = Some(p);
        let mut ctx = Context::offline();
        ctx.cluster = Arc::new(c);
        let out = crate::handle(&inc, &ctx).await.unwrap();
        let d = &out.diagnoses[0];
        assert_eq!(d.class.as_str(), Class::IMAGE_AUTH, "{d:#?}");
        assert!(
            d.evidence
                .iter()
                .any(|e| e.contains("pull secret gone does not exist")),
            "{:?}",
            d.evidence
        );
        assert!(
            d.evidence
                .iter()
                .any(|e| e.contains("regcred has no entry for this registry")),
            "{:?}",
            d.evidence
        );
        let mut all = serde_json::to_string(&out.diagnoses).unwrap();
        for e in &out.evidence {
            all.push_str(&String::from_utf8_lossy(&e.bytes));
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("ci:{PASSWORD}"));
        assert!(!all.contains(PASSWORD) && !all.contains(&encoded));
    }
}
