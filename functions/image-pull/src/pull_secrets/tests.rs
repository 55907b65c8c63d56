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
    async fn service_account_pull_secrets(&self, ns: &str, name: &str) -> ClusterRead<Vec<String>> {
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
    inc.pod = Some(Box::new(p));
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
