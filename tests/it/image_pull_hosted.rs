//! The hosted image-pull function probes with the pod's own pull credentials: the real
//! `lastmile function image-pull` binary consumes incidents from a real nats-server, reads the
//! pod's pull secrets and its service account by name from the (fake, real-protocol) API
//! server through a kubeconfig, and asks a real htpasswd-protected docker-registry.
//!
//! The image's tag is truly missing, so a probe that authenticated says `image.not_found`,
//! while one that asked anonymously could only say `image.auth`. A missing secret and one
//! RBAC refuses are told apart. No secret value reaches diagnoses, evidence or logs.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt;
use lastmile_contract::{ClusterRead, ClusterView};
use lastmile_events::{CloudEvent, Diagnosis, Incident, IncidentFamily, ObjectRef};
use lastmile_kube_view::{KubeView, KubeViewConfig};
use lastmile_runtime::bus::nats::{NatsBus, NatsConfig};
use lastmile_tests::apiserver::FakeApiServer;
use lastmile_tests::files::read_tree;

use crate::support::{HostedFunction, publish_incident};
use lastmile_tests::nats::NatsServer;
use lastmile_tests::registry::{Pusher, Registry, RegistryAuth, linux};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "hosted-Pa55word-9f2c";

/// A Secret as `kubectl get secret -o json` prints it (data base64-encoded).
fn secret(name: &str, ty: &str, key: &str, config: &Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": "ci"},
        "type": ty,
        "data": {key: STANDARD.encode(config.to_string()), "note": STANDARD.encode("not a pull key")}
    })
}

fn pod(name: &str, image: &str, secrets: &[&str], service_account: Option<&str>) -> Value {
    let kubelet = format!(
        "failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials"
    );
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "ci"},
        "spec": {"containers": [{"name": "api", "image": image, "imagePullPolicy": "IfNotPresent"}],
                 "serviceAccountName": service_account,
                 "imagePullSecrets": secrets.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "api", "image": image, "imageID": "", "ready": false, "restartCount": 0,
                   "state": {"waiting": {"reason": "ErrImagePull", "message": kubelet}}}]}
    })
}

fn incident(pod: Value) -> anyhow::Result<Incident> {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: pod["metadata"]["name"]
            .as_str()
            .context("pod name")?
            .to_owned(),
        ..Default::default()
    };
    let mut i = Incident::new(IncidentFamily::ImagePull, subject, None, chrono::Utc::now());
    i.pod = Some(serde_json::from_value(pod)?);
    Ok(i)
}

#[tokio::test]
async fn hosted_function_pulls_with_the_pods_secrets_and_names_missing_and_refused_ones()
-> anyhow::Result<()> {
    // The registry: htpasswd, one tag pushed; the pods ask for one that does not exist.
    let reg = Registry::start(
        RegistryAuth::Htpasswd(vec![("ci".into(), PASSWORD.into())]),
        None,
    )
    .await?;
    let basic = format!("Basic {}", STANDARD.encode(format!("ci:{PASSWORD}")));
    Pusher::new(&reg.base_url(), Some(basic), None)?
        .image("team/private", Some("1.0"), linux("amd64"), false)
        .await?;
    let host = reg.host();
    let image = format!("{host}/team/private:1.1");

    // The cluster: a dockerconfigjson secret, a legacy dockercfg one attached to a service
    // account, and a secret RBAC does not let lastmile read.
    let api = FakeApiServer::start().await?;
    let auth = STANDARD.encode(format!("ci:{PASSWORD}"));
    let json_config = json!({"auths": {&host: {"auth": &auth}}});
    let legacy_config =
        json!({format!("http://{host}"): {"auth": &auth, "email": "ci@example.com"}});
    api.apply(secret(
        "regcred",
        "kubernetes.io/dockerconfigjson",
        ".dockerconfigjson",
        &json_config,
    ))?;
    api.apply(secret(
        "legacy",
        "kubernetes.io/dockercfg",
        ".dockercfg",
        &legacy_config,
    ))?;
    api.apply(json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "ci"},
        "imagePullSecrets": [{"name": "legacy"}]}))?;
    api.forbid("/api/v1/namespaces/ci/secrets/locked");
    let kubeconfig = api.kubeconfig()?;

    let nats = NatsServer::start().await?;
    let evidence = tempfile::tempdir()?;
    let function =
        HostedFunction::start("image-pull", &nats.url(), evidence.path(), &kubeconfig, &[])?;

    let client = async_nats::connect(nats.url()).await?;
    let mut diagnoses = client.subscribe("lastmile.diagnosis.>").await?;
    let bus = NatsBus::connect(&NatsConfig::with_url(nats.url())).await?;
    bus.ensure_streams().await?;
    let pods = [
        pod("api-secret", &image, &["regcred"], None),
        pod("api-sa", &image, &[], Some("builder")),
        pod("api-gone", &image, &["gone"], None),
        pod("api-locked", &image, &["locked"], None),
    ];
    for (n, p) in pods.into_iter().enumerate() {
        publish_incident(&bus, format!("hosted-{n}"), incident(p)?).await?;
    }

    // The most confident diagnosis per pod (an ambiguous text may add a second reading).
    let mut best: BTreeMap<String, Diagnosis> = BTreeMap::new();
    let mut published = String::new();
    while best.len() < 4 {
        let msg = tokio::time::timeout(WAIT, diagnoses.next())
            .await
            .context("waiting for the four diagnoses")?
            .context("subscription ended")?;
        published.push_str(&String::from_utf8_lossy(&msg.payload));
        let d = CloudEvent::<Diagnosis>::from_slice(&msg.payload)?.data;
        let name = d.subject.name.clone();
        if best.get(&name).is_none_or(|b| b.confidence < d.confidence) {
            best.insert(name, d);
        }
    }
    // Later readings of the same incidents, if any, are already on their way.
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(1), diagnoses.next()).await {
        published.push_str(&String::from_utf8_lossy(&msg.payload));
    }

    // Authenticated with the pod's dockerconfigjson secret: the tag is what is missing.
    let d = &best["api-secret"];
    assert_eq!(d.class.as_str(), "image.not_found", "{d:#?}");
    assert_eq!(d.details["kubelet_cause"], "no_credentials", "{d:#?}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("registry probe (secret ci/regcred")),
        "{:?}",
        d.evidence
    );
    // Through the service account's legacy dockercfg secret.
    let d = &best["api-sa"];
    assert_eq!(d.class.as_str(), "image.not_found", "{d:#?}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("registry probe (secret ci/legacy")),
        "{:?}",
        d.evidence
    );
    // A secret that does not exist: image.auth, naming it.
    let d = &best["api-gone"];
    assert_eq!(d.class.as_str(), "image.auth", "{d:#?}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e == "pull secret gone does not exist in the pod's namespace"),
        "{:?}",
        d.evidence
    );
    assert_eq!(
        d.details["pull_secret_reads"][1],
        json!({"kind": "secret", "namespace": "ci", "name": "gone", "status": "not_found"})
    );
    // A secret lastmile may not read: said as lastmile's limit, not the pod's fault.
    let d = &best["api-locked"];
    assert_eq!(d.class.as_str(), "image.auth", "{d:#?}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("lastmile could not read secret ci/locked (RBAC: 403 Forbidden")),
        "{:?}",
        d.evidence
    );
    assert!(
        !d.evidence
            .iter()
            .any(|e| e.starts_with("pull secret locked")),
        "a refused read is not a missing secret: {:?}",
        d.evidence
    );
    assert!(!d.definitive && d.confidence <= 0.6, "{d:#?}");

    // `get` by name only: no list or watch of secrets ever reached the API server.
    let requests = api.requests();
    assert!(
        requests
            .iter()
            .any(|r| r == "/api/v1/namespaces/ci/secrets/regcred"),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r == "/api/v1/namespaces/ci/serviceaccounts/builder"),
        "{requests:?}"
    );
    for r in &requests {
        let path = r.split('?').next().unwrap_or(r);
        assert!(
            !path.ends_with("/secrets") && !r.contains("watch"),
            "only single-object GETs: {r}"
        );
    }

    // SIGTERM: drains and exits 0.
    let log = function.stop(WAIT).await?;

    // No secret value anywhere: diagnoses on the bus, evidence files, the debug log.
    let mut stored = String::new();
    let files = read_tree(evidence.path(), &mut stored)?;
    assert!(files > 0, "evidence was written");
    assert!(
        stored.contains(r#""authorization": "[REDACTED]""#),
        "the transcripts show an Authorization header was sent, redacted"
    );
    assert!(
        stored.contains(r#""login": "secret ci/regcred"#),
        "the stored probe report names the login it used (its source, not its value)"
    );
    let secret_data = [
        PASSWORD.to_owned(),
        auth.clone(),
        STANDARD.encode(json_config.to_string()),
        STANDARD.encode(legacy_config.to_string()),
    ];
    for (what, text) in [
        ("diagnoses", &published),
        ("evidence", &stored),
        ("stderr", &log),
    ] {
        for s in &secret_data {
            assert!(
                !text.contains(s.as_str()),
                "a secret value leaked into {what}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn kube_view_gets_by_name_caches_answers_and_reports_rbac_refusals() -> anyhow::Result<()> {
    let api = FakeApiServer::start().await?;
    api.apply(secret(
        "regcred",
        "kubernetes.io/dockerconfigjson",
        ".dockerconfigjson",
        &json!({"auths": {}}),
    ))?;
    api.forbid("/api/v1/namespaces/ci/secrets/locked");
    let view = KubeView::connect(
        Some(&api.kubeconfig()?),
        None,
        KubeViewConfig {
            ttl: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await?;

    let ClusterRead::Found(s) = view.pull_secret("ci", "regcred").await else {
        panic!("regcred not found")
    };
    assert_eq!(s.type_, "kubernetes.io/dockerconfigjson");
    assert_eq!(
        s.data.keys().collect::<Vec<_>>(),
        [".dockerconfigjson"],
        "keys other than the pull keys are dropped"
    );
    assert_eq!(view.pull_secret("ci", "gone").await, ClusterRead::NotFound);
    assert!(matches!(
        view.pull_secret("ci", "locked").await,
        ClusterRead::Forbidden { detail } if detail.contains("cannot get resource \"secrets\"")
    ));
    assert_eq!(
        view.service_account_pull_secrets("ci", "default").await,
        ClusterRead::NotFound
    );
    // Within the TTL every answer (found, not found, forbidden) is reused.
    let before = api.requests().len();
    let _ = view.pull_secret("ci", "regcred").await;
    let _ = view.pull_secret("ci", "gone").await;
    let _ = view.pull_secret("ci", "locked").await;
    assert_eq!(api.requests().len(), before, "{:?}", api.requests());
    // A name that cannot be an object is never sent.
    assert_eq!(
        view.pull_secret("ci", "../../secrets").await,
        ClusterRead::NotFound
    );
    assert_eq!(api.requests().len(), before);

    // An API server that is gone: a bounded failure, not a hang and not "not found".
    drop(api);
    let gone = FakeApiServer::start().await?;
    let kubeconfig = gone.kubeconfig()?;
    let view = KubeView::connect(
        Some(&kubeconfig),
        None,
        KubeViewConfig {
            timeout: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .await?;
    drop(gone);
    let started = std::time::Instant::now();
    let read = view.pull_secret("ci", "regcred").await;
    assert!(matches!(read, ClusterRead::Failed { .. }), "{read:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    Ok(())
}
