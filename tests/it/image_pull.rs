//! image-pull against real registries: Debian's docker-registry with no auth, htpasswd Basic,
//! Bearer tokens from a test issuer, and TLS from a test CA; a 429 server; unresolvable and
//! closed addresses. Every class the probe can produce is produced here for real, including
//! cosign signatures verified with a key the test generates and the base OS read from real
//! gzip tar layers.

mod auth;
mod base_image;
mod cli;
mod network;
mod no_auth;
mod signatures;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Node, Pod, Secret};
use lastmile_contract::{Context, RegistryHttp, Settings, SystemClock};
use lastmile_events::{Incident, IncidentFamily, ObjectRef};
use lastmile_fn_image_pull::base_os::{self, BaseOsOptions, BaseOsStatus};
use lastmile_fn_image_pull::config::{self, ImagePullConfig};
use lastmile_fn_image_pull::cosign::{Format, Found, SignatureCheck, Source};
use lastmile_fn_image_pull::credentials::{Credential, ProbeCredentials};
use lastmile_fn_image_pull::message::Cause;
use lastmile_fn_image_pull::platform::Platform;
use lastmile_fn_image_pull::policy::{EntrySpec, SignaturePolicy};
use lastmile_fn_image_pull::probe::{self, Checks, ProbeOptions, ProbeReport, Verdict};
use lastmile_runtime::http::{HttpConfig, ReqwestRegistryHttp};
use lastmile_tests::registry::{
    CosignKey, Plat, Pusher, RateLimitedRegistry, Registry, RegistryAuth, TarEntry, TestCa,
    TokenUser, incompressible, linux, tar_gz, token_registry,
};

fn http(ca: Option<&str>) -> Arc<dyn RegistryHttp> {
    let cfg = HttpConfig {
        extra_ca_pems: ca.map(|c| vec![c.as_bytes().to_vec()]).unwrap_or_default(),
        ..Default::default()
    };
    Arc::new(ReqwestRegistryHttp::new(&cfg).unwrap())
}

fn opts(platforms: &[&str]) -> ProbeOptions {
    ProbeOptions {
        timeout: Duration::from_secs(5),
        platforms: platforms
            .iter()
            .map(|p| Platform::parse(p).unwrap())
            .collect(),
        ..Default::default()
    }
}

fn login(user: &str, password: &str) -> Credential {
    Credential {
        username: user.into(),
        password: password.into(),
        source: format!("test login {user}"),
    }
}

async fn run(
    http: &Arc<dyn RegistryHttp>,
    image: &str,
    creds: &[Credential],
    o: &ProbeOptions,
) -> ProbeReport {
    probe::probe(http.as_ref(), &SystemClock, image, creds, o).await
}

fn cause(r: &ProbeReport) -> Option<Cause> {
    r.cause()
}

fn pod_json(image: &str, policy: &str, secrets: &[&str], waiting: (&str, &str)) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-1", "namespace": "ci"},
        "spec": {"nodeName": "node-arm", "containers": [{"name": "api", "image": image, "imagePullPolicy": policy}],
                 "imagePullSecrets": secrets.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>()},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "api", "image": image, "imageID": "", "ready": false, "restartCount": 0,
                   "state": {"waiting": {"reason": waiting.0, "message": waiting.1}}}]}
    }))
    .unwrap()
}

fn arm_node() -> Node {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-arm", "labels": {"kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux"}},
        "status": {"nodeInfo": {"architecture": "arm64", "operatingSystem": "linux", "bootID": "", "containerRuntimeVersion": "containerd://1.7.20",
                   "kernelVersion": "", "kubeProxyVersion": "", "kubeletVersion": "v1.31.0", "machineID": "", "osImage": "", "systemUUID": ""}}
    }))
    .unwrap()
}

fn incident(pod: Pod) -> Incident {
    let subject = ObjectRef {
        kind: "Pod".into(),
        namespace: Some("ci".into()),
        name: "api-1".into(),
        ..Default::default()
    };
    let owner = ObjectRef {
        kind: "Deployment".into(),
        namespace: Some("ci".into()),
        name: "api".into(),
        ..Default::default()
    };
    let mut i = Incident::new(
        IncidentFamily::ImagePull,
        subject,
        Some(owner),
        chrono::Utc::now(),
    );
    i.pod = Some(Box::new(pod));
    std::sync::Arc::make_mut(&mut i.snapshot)
        .nodes
        .push(arm_node());
    i
}

fn ctx(h: Arc<dyn RegistryHttp>) -> Context {
    Context::offline().with_http(h)
}

fn docker_secret(ns: &str, name: &str, registry: &str, user: &str, password: &str) -> Secret {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let cfg = serde_json::json!({"auths": {registry: {"auth": auth}}}).to_string();
    let mut s = Secret::default();
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some(ns.into());
    s.type_ = Some("kubernetes.io/dockerconfigjson".into());
    s.data = Some([(".dockerconfigjson".to_owned(), ByteString(cfg.into_bytes()))].into());
    s
}

const GZ_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DEBIAN_OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";
const ALPINE_OS_RELEASE: &[u8] =
    b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n";

async fn checked(
    h: &Arc<dyn RegistryHttp>,
    image: &str,
    o: &ProbeOptions,
    checks: &Checks,
) -> ProbeReport {
    probe::probe_checked(h.as_ref(), &SystemClock, image, &[], o, checks).await
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}
