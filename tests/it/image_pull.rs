//! image-pull against real registries: Debian's docker-registry with no auth, htpasswd Basic,
//! Bearer tokens from a test issuer, and TLS from a test CA; a 429 server; unresolvable and
//! closed addresses. Every class the probe can produce is produced here for real, including
//! cosign signatures verified with a key the test generates and the base OS read from real
//! gzip tar layers.

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

#[tokio::test]
async fn no_auth_registry_tags_repos_platforms_and_references() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    push.image("team/app", Some("1.0"), linux("amd64"), false)
        .await
        .unwrap();
    push.image("team/app", Some("1.2.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.index(
        "team/multi",
        "2.0",
        &[
            linux("amd64"),
            Plat {
                os: "linux",
                arch: "arm64",
                variant: Some("v8"),
            },
        ],
        true,
    )
    .await
    .unwrap();
    push.index(
        "team/dlist",
        "3.0",
        &[
            linux("amd64"),
            Plat {
                os: "linux",
                arch: "arm",
                variant: Some("v7"),
            },
        ],
        false,
    )
    .await
    .unwrap();
    let h = http(None);
    let host = reg.host();

    // Plain-HTTP loopback registry: HTTPS first, then the containerd-style fallback.
    let ok = run(&h, &format!("{host}/team/app:1.0"), &[], &opts(&[])).await;
    assert!(
        matches!(&ok.verdict, Verdict::Pullable { media_type, .. } if media_type.contains("docker.distribution.manifest.v2")),
        "{ok:#?}"
    );
    assert_eq!(
        ok.transcript.entries[0]
            .error
            .as_deref()
            .map(|e| e.starts_with("NotTls")),
        Some(true),
        "{:#?}",
        ok.transcript
    );
    assert_eq!(
        ok.transcript.entries[1].request_headers["accept"],
        lastmile_fn_image_pull::platform::CONTAINERD_ACCEPT
    );

    let tag = run(&h, &format!("{host}/team/app:1.1"), &[], &opts(&[])).await;
    assert_eq!(cause(&tag), Some(Cause::TagNotFound), "{tag:#?}");
    assert_eq!(
        tag.nearest_tags.first().map(String::as_str),
        Some("1.0"),
        "{:?}",
        tag.nearest_tags
    );

    let repo = run(&h, &format!("{host}/team/nope:1"), &[], &opts(&[])).await;
    assert_eq!(cause(&repo), Some(Cause::RepositoryNotFound), "{repo:#?}");

    let arm = run(
        &h,
        &format!("{host}/team/multi:2.0"),
        &[],
        &opts(&["linux/arm64"]),
    )
    .await;
    assert!(matches!(arm.verdict, Verdict::Pullable { .. }), "{arm:#?}");
    let s390 = run(
        &h,
        &format!("{host}/team/multi:2.0"),
        &[],
        &opts(&["linux/s390x"]),
    )
    .await;
    assert_eq!(cause(&s390), Some(Cause::PlatformNoMatch));
    assert_eq!(
        s390.published_platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["linux/amd64", "linux/arm64/v8"]
    );
    let armv6 = run(
        &h,
        &format!("{host}/team/dlist:3.0"),
        &[],
        &opts(&["linux/arm/v6"]),
    )
    .await;
    assert_eq!(
        cause(&armv6),
        Some(Cause::PlatformNoMatch),
        "a Docker manifest list with arm/v7 does not serve arm/v6"
    );
    let single = run(
        &h,
        &format!("{host}/team/app:1.2.0"),
        &[],
        &opts(&["linux/arm64"]),
    )
    .await;
    assert_eq!(
        cause(&single),
        Some(Cause::PlatformNoMatch),
        "single-arch OCI image's config says amd64: {single:#?}"
    );

    let invalid = run(&h, &format!("{host}/team/App:1"), &[], &opts(&[])).await;
    assert_eq!(cause(&invalid), Some(Cause::InvalidReference));
    assert!(
        invalid.transcript.entries.is_empty(),
        "an invalid reference is never sent"
    );
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
    i.pod = Some(pod);
    i.snapshot.nodes.push(arm_node());
    i
}

fn ctx(h: Arc<dyn RegistryHttp>) -> Context {
    Context::offline().with_http(h)
}

#[tokio::test]
async fn function_probes_with_the_node_platform_and_flags_stale_kubelet_text() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    push.image("team/api", Some("1.4.2"), linux("amd64"), false)
        .await
        .unwrap();
    let image = format!("{}/team/api:1.4.2", reg.host());

    // The kubelet said "not found", but the tag exists now; the node is arm64 and the image
    // is amd64 only: the registry's answer wins and says so.
    let text = format!(
        "Back-off pulling image \"{image}\": ErrImagePull: failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
    );
    let inc = incident(pod_json(
        &image,
        "IfNotPresent",
        &[],
        ("ImagePullBackOff", &text),
    ));
    let out = lastmile_fn_image_pull::handle(&inc, &ctx(http(None)))
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.platform_mismatch", "{d:#?}");
    assert_eq!(d.details["differs"], true);
    assert_eq!(d.details["kubelet_cause"], "tag_not_found");
    assert!(
        d.summary
            .contains("the registry's answer now says image.platform_mismatch"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("published platforms: linux/amd64")),
        "{:?}",
        d.evidence
    );
    assert!(d.remediation.iter().any(|r| {
        r.command
            .as_deref()
            .is_some_and(|c| c.contains("kubernetes.io/arch") && c.contains("amd64"))
    }));
    let transcript = out
        .evidence
        .iter()
        .find(|e| e.name == "probe-transcript.json")
        .expect("transcript stored");
    let t: serde_json::Value = serde_json::from_slice(&transcript.bytes).unwrap();
    assert!(t[0]["transcript"]["entries"].as_array().unwrap().len() >= 3);

    // The same pod on an amd64 node would pull now: stale text, not definitive.
    let mut inc2 = inc.clone();
    inc2.snapshot.nodes.clear();
    let out = lastmile_fn_image_pull::handle(&inc2, &ctx(http(None)))
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.not_found");
    assert!(!d.definitive && d.confidence < 0.6, "{d:#?}");
    assert!(d.summary.contains("stale"), "{}", d.summary);

    // imagePullPolicy Never: nothing is asked of the registry.
    let never = format!("Container image \"{image}\" is not present with pull policy of Never");
    let inc3 = incident(pod_json(
        &image,
        "Never",
        &[],
        ("ErrImageNeverPull", &never),
    ));
    let out = lastmile_fn_image_pull::handle(&inc3, &ctx(http(None)))
        .await
        .unwrap();
    assert_eq!(out.diagnoses[0].class.as_str(), "image.never_pull");
    assert!(
        out.evidence
            .iter()
            .all(|e| e.name != "probe-transcript.json")
    );
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

#[tokio::test]
async fn htpasswd_registry_credentials_from_pull_secrets_and_no_secret_in_evidence() {
    const PASSWORD: &str = "s3cr3t-Pa55word-xyz";
    let reg = Registry::start(
        RegistryAuth::Htpasswd(vec![("ci".into(), PASSWORD.into())]),
        None,
    )
    .await
    .unwrap();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ci:{PASSWORD}"))
    );
    let push = Pusher::new(&reg.base_url(), Some(basic.clone()), None).unwrap();
    push.image("team/private", Some("1"), linux("arm64"), false)
        .await
        .unwrap();
    let h = http(None);
    let image = format!("{}/team/private:1", reg.host());

    assert_eq!(
        cause(&run(&h, &image, &[], &opts(&[])).await),
        Some(Cause::NoCredentials)
    );
    let wrong = run(&h, &image, &[login("ci", "nope")], &opts(&[])).await;
    assert_eq!(cause(&wrong), Some(Cause::BadCredentials), "{wrong:#?}");
    let ok = run(&h, &image, &[login("ci", PASSWORD)], &opts(&[])).await;
    assert!(matches!(ok.verdict, Verdict::Pullable { .. }), "{ok:#?}");

    let kubelet = format!(
        "Failed to pull image \"{image}\": failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials"
    );
    let inc = incident(pod_json(
        &image,
        "IfNotPresent",
        &["regcred"],
        ("ErrImagePull", &kubelet),
    ));
    let o = ProbeOptions {
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let c = ctx(h.clone());

    // The pull secret lives in another namespace: auth, with the copy command.
    let elsewhere = ProbeCredentials {
        secrets: vec![docker_secret(
            "build",
            "regcred",
            &reg.host(),
            "ci",
            PASSWORD,
        )],
        complete: true,
        ..Default::default()
    };
    let out = lastmile_fn_image_pull::diagnose::diagnose(&inc, &c, &elsewhere, &o)
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.auth");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("exists only in namespace build")),
        "{:?}",
        d.evidence
    );
    assert!(
        d.remediation[0]
            .command
            .as_deref()
            .unwrap()
            .contains("kubectl get secret regcred --namespace build")
    );

    // A secret with the wrong password in the right namespace: the registry rejects it.
    let wrong = ProbeCredentials {
        secrets: vec![docker_secret(
            "ci",
            "regcred",
            &reg.host(),
            "ci",
            "old-password",
        )],
        complete: true,
        ..Default::default()
    };
    let out = lastmile_fn_image_pull::diagnose::diagnose(&inc, &c, &wrong, &o)
        .await
        .unwrap();
    assert_eq!(
        out.diagnoses[0].details["registry_cause"],
        "bad_credentials"
    );

    // Fixed secret: the registry serves the image, so the kubelet's text is stale.
    let fixed = ProbeCredentials {
        secrets: vec![docker_secret("ci", "regcred", &reg.host(), "ci", PASSWORD)],
        complete: true,
        ..Default::default()
    };
    let out = lastmile_fn_image_pull::diagnose::diagnose(&inc, &c, &fixed, &o)
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert!(d.summary.contains("stale"), "{}", d.summary);
    assert!(
        d.evidence.iter().any(|e| e.contains("secret ci/regcred")),
        "{:?}",
        d.evidence
    );

    // No secret value anywhere: not the password, not the base64 auth, not the header.
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("ci:{PASSWORD}"));
    let diagnoses = serde_json::to_string(&out.diagnoses).unwrap();
    let mut everything = diagnoses.clone();
    for e in &out.evidence {
        everything.push_str(&String::from_utf8_lossy(&e.bytes));
    }
    everything.push_str(&format!("{fixed:?}{:?}", ok));
    for secret in [PASSWORD, encoded.as_str(), "old-password"] {
        assert!(
            !everything.contains(secret),
            "secret value leaked into evidence or debug output"
        );
    }
    assert!(
        everything.contains("Basic [REDACTED]"),
        "the transcript shows that Basic auth was sent, redacted"
    );
}

#[tokio::test]
async fn bearer_token_registry_scopes_and_bad_credentials() {
    let users = vec![
        TokenUser {
            name: "reader".into(),
            password: "reader-pw-123".into(),
            grants: vec![("team/app".into(), vec!["pull".into()])],
        },
        TokenUser {
            name: "outsider".into(),
            password: "outsider-pw-456".into(),
            grants: vec![("other/thing".into(), vec!["pull".into()])],
        },
    ];
    let (issuer, reg, push) = token_registry(
        users,
        vec![("public/base".into(), vec!["pull".into()])],
        &["team/app", "public/base"],
    )
    .await
    .unwrap();
    push.image("team/app", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    let token = issuer
        .mint("ci", &[("public/base", &["pull", "push"])])
        .unwrap();
    Pusher::new(&reg.base_url(), Some(format!("Bearer {token}")), None)
        .unwrap()
        .image("public/base", Some("1"), linux("amd64"), true)
        .await
        .unwrap();
    let h = http(None);
    let image = format!("{}/team/app:1.0", reg.host());

    let public = run(
        &h,
        &format!("{}/public/base:1", reg.host()),
        &[],
        &opts(&[]),
    )
    .await;
    assert!(
        matches!(public.verdict, Verdict::Pullable { .. }),
        "anonymous token with pull scope: {public:#?}"
    );
    let anon = run(&h, &image, &[], &opts(&[])).await;
    assert_eq!(cause(&anon), Some(Cause::AccessDenied), "{anon:#?}");
    let wrong = run(&h, &image, &[login("reader", "nope")], &opts(&[])).await;
    assert_eq!(cause(&wrong), Some(Cause::BadCredentials), "{wrong:#?}");
    let outsider = run(
        &h,
        &image,
        &[login("outsider", "outsider-pw-456")],
        &opts(&[]),
    )
    .await;
    assert_eq!(
        cause(&outsider),
        Some(Cause::InsufficientScope),
        "{outsider:#?}"
    );
    let reader = run(&h, &image, &[login("reader", "reader-pw-123")], &opts(&[])).await;
    assert!(
        matches!(reader.verdict, Verdict::Pullable { .. }),
        "{reader:#?}"
    );

    // The transcript shows the token step but never the token or the password.
    let json = serde_json::to_string(&reader.transcript).unwrap();
    assert!(
        json.contains("\"step\":\"token\"") && json.contains("Bearer [REDACTED]"),
        "{json}"
    );
    assert!(
        !json.contains("reader-pw-123") && !json.contains("eyJ"),
        "{json}"
    );
}

#[tokio::test]
async fn tls_registry_trusted_untrusted_and_wrong_name() {
    let ca = TestCa::new("lastmile test CA").unwrap();
    let reg = Registry::start(
        RegistryAuth::None,
        Some(ca.issue(&["127.0.0.1", "localhost"]).unwrap()),
    )
    .await
    .unwrap();
    Pusher::new(&reg.base_url(), None, Some(&ca.pem()))
        .unwrap()
        .image("team/app", Some("1"), linux("amd64"), false)
        .await
        .unwrap();
    let image = format!("{}/team/app:1", reg.host());

    let untrusted = run(&http(None), &image, &[], &opts(&[])).await;
    assert_eq!(
        cause(&untrusted),
        Some(Cause::TlsUnknownAuthority),
        "{untrusted:#?}"
    );
    let trusted = run(&http(Some(&ca.pem())), &image, &[], &opts(&[])).await;
    assert!(
        matches!(trusted.verdict, Verdict::Pullable { .. }),
        "{trusted:#?}"
    );

    let misnamed = Registry::start(
        RegistryAuth::None,
        Some(ca.issue(&["registry.example.com"]).unwrap()),
    )
    .await
    .unwrap();
    let r = run(
        &http(Some(&ca.pem())),
        &format!("{}/team/app:1", misnamed.host()),
        &[],
        &opts(&[]),
    )
    .await;
    assert_eq!(cause(&r), Some(Cause::TlsHostname), "{r:#?}");

    let expired = Registry::start(
        RegistryAuth::None,
        Some(ca.issue_expired(&["127.0.0.1"]).unwrap()),
    )
    .await
    .unwrap();
    let r = run(
        &http(Some(&ca.pem())),
        &format!("{}/team/app:1", expired.host()),
        &[],
        &opts(&[]),
    )
    .await;
    assert_eq!(cause(&r), Some(Cause::TlsExpired), "{r:#?}");
}

#[tokio::test]
async fn network_failures_and_rate_limits_are_real() {
    let h = http(None);
    let dns = run(
        &h,
        "registry.lastmile-test.invalid/team/app:1",
        &[],
        &opts(&[]),
    )
    .await;
    assert_eq!(cause(&dns), Some(Cause::Dns), "{dns:#?}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = run(&h, &format!("127.0.0.1:{port}/team/app:1"), &[], &opts(&[])).await;
    assert_eq!(cause(&refused), Some(Cause::Refused), "{refused:#?}");

    // A server that accepts connections and never answers: the per-request timeout fires.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_host = silent.local_addr().unwrap().to_string();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            held.push(conn);
        }
    });
    let o = ProbeOptions {
        timeout: Duration::from_millis(500),
        plain_http: vec![silent_host.clone()],
        ..opts(&[])
    };
    let timeout = run(&h, &format!("{silent_host}/team/app:1"), &[], &o).await;
    assert_eq!(cause(&timeout), Some(Cause::Timeout), "{timeout:#?}");
    holder.abort();

    let limited = RateLimitedRegistry::start().await.unwrap();
    let o = ProbeOptions {
        plain_http: vec![limited.host()],
        ..opts(&[])
    };
    let r = run(
        &h,
        &format!("{}/library/busybox:latest", limited.host()),
        &[],
        &o,
    )
    .await;
    assert_eq!(cause(&r), Some(Cause::RateLimited), "{r:#?}");
    let rl = r.rate_limit.clone().unwrap();
    assert_eq!(rl.remaining.as_deref(), Some("0;w=21600"));
    assert_eq!(rl.retry_after.as_deref(), Some("3600"));
}

#[tokio::test]
async fn image_check_cli_reads_manifests_and_fails_the_gate() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    push.index("team/app", "1.0", &[linux("amd64"), linux("arm64")], true)
        .await
        .unwrap();
    push.image("team/amd", Some("1.0"), linux("amd64"), false)
        .await
        .unwrap();
    let host = reg.host();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deploy.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n        image: {host}/team/amd:1.0\n      containers:\n      - name: app\n        image: {host}/team/app:1.0\n      - name: sidecar\n        image: {host}/team/app:1.1\n"
        ),
    )
    .unwrap();
    let bin = lastmile_tests::bin::lastmile_bin().unwrap();
    let out = std::process::Command::new(&bin)
        .args(["image", "check", "--manifests"])
        .arg(dir.path())
        .args([
            "--platform",
            "linux/amd64,linux/arm64",
            "--format",
            "json",
            "--plain-http",
            &host,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_image = |suffix: &str| {
        doc["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["image"].as_str().unwrap().ends_with(suffix))
            .cloned()
            .unwrap()
    };
    assert_eq!(by_image("team/app:1.0")["ok"], true);
    assert_eq!(by_image("team/app:1.1")["class"], "image.not_found");
    assert_eq!(by_image("team/app:1.1")["nearest_tags"][0], "1.0");
    assert_eq!(by_image("team/amd:1.0")["class"], "image.platform_mismatch");
    assert_eq!(doc["failed"], 2);

    let out = std::process::Command::new(&bin)
        .args([
            "image",
            "check",
            &format!("{host}/team/app:1.0"),
            "--format",
            "github",
            "--plain-http",
            &host,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = std::process::Command::new(&bin)
        .args([
            "image",
            "check",
            &format!("{host}/team/app:9"),
            "--format",
            "github",
            "--plain-http",
            &host,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("::error title=lastmile image.not_found::"),
        "{text}"
    );

    let out = std::process::Command::new(&bin)
        .args([
            "registry",
            "probe",
            &host,
            "--plain-http",
            "--manifest",
            "team/app:1.0",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ops: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["api_version", "manifest", "catalog"]);
    assert_eq!(doc["checks"][2]["status"], 200);
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

#[tokio::test]
async fn cosign_signatures_are_verified_against_the_policy_key() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    let host = reg.host();
    let trusted = CosignKey::generate().unwrap();
    let stranger = CosignKey::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("cosign.pub");
    std::fs::write(&key_file, trusted.public_pem()).unwrap();
    let key_name = key_file.display().to_string();

    let (signed, ..) = push
        .image("team/signed", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.cosign_signature("team/signed", &signed, &signed, &trusted)
        .await
        .unwrap();
    push.image("team/unsigned", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    let (other, ..) = push
        .image("team/otherkey", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.cosign_signature("team/otherkey", &other, &other, &stranger)
        .await
        .unwrap();
    // A valid signature of `signed`, copied onto another image's signature tag.
    let (copy, ..) = push
        .image("team/retagged", Some("1.0"), linux("arm64"), true)
        .await
        .unwrap();
    push.cosign_signature("team/retagged", &copy, &signed, &trusted)
        .await
        .unwrap();
    let (bad, ..) = push
        .image("team/malformed", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.signature_manifest("team/malformed", &bad, b"{}", None)
        .await
        .unwrap();
    push.image("elsewhere/app", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();

    let policy = SignaturePolicy::load(&[EntrySpec {
        pattern: format!("{host}/team/*"),
        key_file: key_file.clone(),
    }])
    .unwrap();
    let checks = Checks {
        signature: policy,
        ..Default::default()
    };
    let h = http(None);
    let o = opts(&[]);

    let ok = checked(&h, &format!("{host}/team/signed:1.0"), &o, &checks).await;
    assert!(matches!(ok.verdict, Verdict::Pullable { .. }), "{ok:#?}");
    assert_eq!(
        ok.signature,
        Some(SignatureCheck::Verified {
            key: key_name.clone(),
            format: Format::SimpleSigning,
            found: Found {
                source: Source::LegacyTag,
                manifest: format!("{}.sig", signed.replacen(':', "-", 1))
            }
        })
    );

    let missing = checked(&h, &format!("{host}/team/unsigned:1.0"), &o, &checks).await;
    assert_eq!(cause(&missing), Some(Cause::Signature), "{missing:#?}");
    assert!(matches!(
        missing.signature,
        Some(SignatureCheck::Missing { .. })
    ));

    let foreign = checked(&h, &format!("{host}/team/otherkey:1.0"), &o, &checks).await;
    assert_eq!(cause(&foreign), Some(Cause::Signature));
    assert!(
        matches!(
            foreign.signature,
            Some(SignatureCheck::Untrusted { signatures: 1, .. })
        ),
        "{:?}",
        foreign.signature
    );

    let retagged = checked(&h, &format!("{host}/team/retagged:1.0"), &o, &checks).await;
    assert_eq!(cause(&retagged), Some(Cause::Signature));
    match &retagged.signature {
        Some(SignatureCheck::WrongDigest { signed_digest, .. }) => {
            assert_eq!(signed_digest, &signed)
        }
        s => panic!("{s:?}"),
    }

    let malformed = checked(&h, &format!("{host}/team/malformed:1.0"), &o, &checks).await;
    assert_eq!(cause(&malformed), Some(Cause::Signature));
    assert!(matches!(
        malformed.signature,
        Some(SignatureCheck::Malformed { .. })
    ));

    let uncovered = checked(&h, &format!("{host}/elsewhere/app:1.0"), &o, &checks).await;
    assert!(matches!(uncovered.verdict, Verdict::Pullable { .. }));
    assert_eq!(uncovered.signature, None, "the policy does not cover it");
    let strict = ProbeOptions {
        require_signature: true,
        ..opts(&[])
    };
    let strict = checked(&h, &format!("{host}/elsewhere/app:1.0"), &strict, &checks).await;
    assert_eq!(strict.signature, Some(SignatureCheck::NoTrustedKey));

    // The function, configured through the host's settings, on the arm64 node.
    let mut settings = Settings::new()
        .with(
            config::SIGNATURE_KEYS,
            &format!("{host}/team/*={}", key_file.display()),
        )
        .with(config::BASE_OS_MAX_BYTES, "0");
    ImagePullConfig::install(&mut settings).unwrap();
    let image = format!("{host}/team/retagged:1.0");
    let text = format!(
        "Failed to pull image \"{image}\": SignatureValidationFailed: image pull failed for {image} because the signature validation failed: no matching signatures"
    );
    let inc = incident(pod_json(
        &image,
        "IfNotPresent",
        &[],
        ("SignatureValidationFailed", &text),
    ));
    let ctx = Context::offline()
        .with_http(http(None))
        .with_settings(settings);
    let out = lastmile_fn_image_pull::handle(&inc, &ctx).await.unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.signature", "{d:#?}");
    assert_eq!(d.details["probed"], true);
    assert_eq!(d.details["signature"]["status"], "wrong_digest");
    assert!(
        d.evidence.iter().any(|e| e.contains("copied or re-tagged")),
        "{:?}",
        d.evidence
    );

    // The CLI: `--signature-key PATTERN=PEM`; exit 1 when any image fails.
    let bin = lastmile_tests::bin::lastmile_bin().unwrap();
    let out = std::process::Command::new(&bin)
        .args([
            "image",
            "check",
            &format!("{host}/team/signed:1.0"),
            &format!("{host}/team/otherkey:1.0"),
            "--signature-key",
            &format!("{host}/team/*={}", key_file.display()),
            "--plain-http",
            &host,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["images"][0]["ok"], true);
    assert_eq!(doc["images"][0]["signature"]["status"], "verified");
    assert_eq!(doc["images"][1]["class"], "image.signature");
    assert_eq!(doc["images"][1]["signature"]["status"], "untrusted");
    let out = std::process::Command::new(&bin)
        .args(["image", "check", "x:1", "--require-signature"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--require-signature needs a key"
    );
}

#[tokio::test]
async fn base_os_is_read_from_real_layers_within_the_byte_cap() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    let host = reg.host();
    let base = tar_gz(&[
        TarEntry::File("bin/sh", b"#!"),
        TarEntry::Symlink("etc/os-release", "../usr/lib/os-release"),
        TarEntry::File("usr/lib/os-release", DEBIAN_OS_RELEASE),
    ])
    .unwrap();
    let app = tar_gz(&[TarEntry::File("app/main.js", b"console.log(1)")]).unwrap();
    push.image_with_layers(
        "team/deb",
        Some("12"),
        linux("amd64"),
        true,
        &[(GZ_LAYER, base.clone()), (GZ_LAYER, app)],
    )
    .await
    .unwrap();
    let noise = incompressible(3 << 20, 7);
    let big = tar_gz(&[TarEntry::File("data/blob.bin", &noise)]).unwrap();
    assert!(big.len() > 3 << 20);
    push.image_with_layers(
        "team/big",
        Some("1"),
        linux("amd64"),
        true,
        &[(GZ_LAYER, base.clone()), (GZ_LAYER, big)],
    )
    .await
    .unwrap();
    let wipe = tar_gz(&[
        TarEntry::File("etc/.wh.os-release", b""),
        TarEntry::File("usr/lib/.wh.os-release", b""),
    ])
    .unwrap();
    push.image_with_layers(
        "team/wiped",
        Some("1"),
        linux("amd64"),
        true,
        &[(GZ_LAYER, base.clone()), (GZ_LAYER, wipe)],
    )
    .await
    .unwrap();
    push.image_with_layers(
        "team/zstd",
        Some("1"),
        linux("amd64"),
        true,
        &[
            (GZ_LAYER, base.clone()),
            (
                "application/vnd.oci.image.layer.v1.tar+zstd",
                b"zstd".to_vec(),
            ),
        ],
    )
    .await
    .unwrap();
    let alpine = tar_gz(&[TarEntry::File("etc/os-release", ALPINE_OS_RELEASE)]).unwrap();
    let arm = Plat {
        os: "linux",
        arch: "arm64",
        variant: Some("v8"),
    };
    let amd = push
        .image_with_layers(
            "team/multi",
            None,
            linux("amd64"),
            true,
            &[(GZ_LAYER, base.clone())],
        )
        .await
        .unwrap();
    let arm_img = push
        .image_with_layers("team/multi", None, arm, true, &[(GZ_LAYER, alpine)])
        .await
        .unwrap();
    push.index_of(
        "team/multi",
        "3",
        &[
            (amd.0, amd.1, amd.2, linux("amd64")),
            (arm_img.0, arm_img.1, arm_img.2, arm),
        ],
        true,
    )
    .await
    .unwrap();

    let h = http(None);
    let with_cap = |max_bytes: u64| Checks {
        base_os: BaseOsOptions {
            max_bytes,
            ..BaseOsOptions::enabled()
        },
        ..Default::default()
    };
    let on = with_cap(base_os::DEFAULT_MAX_BYTES);

    let deb = checked(&h, &format!("{host}/team/deb:12"), &opts(&[]), &on).await;
    let os = deb.base_os.clone().expect("looked up");
    assert_eq!(os.status, BaseOsStatus::Found, "{os:#?}");
    let release = os.os.clone().unwrap();
    assert_eq!(release.id.as_deref(), Some("debian"));
    assert_eq!(release.version_id.as_deref(), Some("12"));
    assert_eq!(
        release.pretty_name.as_deref(),
        Some("Debian GNU/Linux 12 (bookworm)")
    );
    assert_eq!(
        os.path.as_deref(),
        Some("usr/lib/os-release"),
        "symlink followed"
    );
    assert_eq!(os.layer, Some(sha256(&base)));
    assert_eq!((os.layers_read, os.layers_total), (2, 2));
    let layer_request = deb
        .transcript
        .entries
        .iter()
        .find(|e| e.step == "layer")
        .expect("layer requests recorded");
    assert!(layer_request.request_headers["range"].starts_with("bytes=0-"));
    assert_eq!(layer_request.status, Some(206), "ranged reads");

    // The 3 MiB top layer: cut off at a 1 MiB cap, read in 1 MiB ranges under a larger one.
    let capped = checked(
        &h,
        &format!("{host}/team/big:1"),
        &opts(&[]),
        &with_cap(1 << 20),
    )
    .await;
    let os = capped.base_os.unwrap();
    assert_eq!(os.status, BaseOsStatus::BudgetExhausted, "{os:#?}");
    assert_eq!(os.bytes_read, 1 << 20);
    assert!(
        matches!(capped.verdict, Verdict::Pullable { .. }),
        "never fails the probe"
    );
    let roomy = checked(
        &h,
        &format!("{host}/team/big:1"),
        &opts(&[]),
        &with_cap(16 << 20),
    )
    .await;
    let os = roomy.base_os.unwrap();
    assert_eq!(os.status, BaseOsStatus::Found, "{os:#?}");
    assert!(
        os.bytes_read > 3 << 20 && os.bytes_read < 16 << 20,
        "{}",
        os.bytes_read
    );

    let wiped = checked(&h, &format!("{host}/team/wiped:1"), &opts(&[]), &on).await;
    assert_eq!(wiped.base_os.unwrap().status, BaseOsStatus::NotFound);
    let zstd = checked(&h, &format!("{host}/team/zstd:1"), &opts(&[]), &on).await;
    let os = zstd.base_os.unwrap();
    assert_eq!(os.status, BaseOsStatus::Unsupported);
    assert!(os.detail.unwrap().contains("zstd"));

    let multi = checked(
        &h,
        &format!("{host}/team/multi:3"),
        &opts(&["linux/arm64"]),
        &on,
    )
    .await;
    let os = multi.base_os.unwrap();
    assert_eq!(
        os.os.unwrap().id.as_deref(),
        Some("alpine"),
        "the node's platform"
    );
    assert_eq!(os.platform.unwrap().to_string(), "linux/arm64/v8");
    let off = checked(
        &h,
        &format!("{host}/team/deb:12"),
        &opts(&[]),
        &Checks::default(),
    )
    .await;
    assert!(off.base_os.is_none(), "off by default in the probe");

    // The function reads it by default (arm64 node), as evidence.
    let image = format!("{host}/team/multi:3");
    let text = format!("Failed to pull image \"{image}\": {image}: not found");
    let inc = incident(pod_json(
        &image,
        "IfNotPresent",
        &[],
        ("ErrImagePull", &text),
    ));
    let out = lastmile_fn_image_pull::handle(&inc, &ctx(http(None)))
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert!(
        d.evidence
            .iter()
            .any(|e| e.starts_with("base OS: Alpine Linux v3.20 (ID=alpine VERSION_ID=3.20.3")),
        "{:?}",
        d.evidence
    );
    assert_eq!(d.details["base_os"]["os"]["id"], "alpine");
    let transcript = out
        .evidence
        .iter()
        .find(|e| e.name == "probe-transcript.json")
        .unwrap();
    let t: serde_json::Value = serde_json::from_slice(&transcript.bytes).unwrap();
    assert_eq!(t[0]["base_os"]["status"], "found");

    // `image check --base-os`: JSON and human output.
    let bin = lastmile_tests::bin::lastmile_bin().unwrap();
    let run_cli = |format: &str| {
        std::process::Command::new(&bin)
            .args([
                "image",
                "check",
                &format!("{host}/team/deb:12"),
                "--base-os",
                "--plain-http",
                &host,
                "--format",
                format,
            ])
            .output()
            .unwrap()
    };
    let out = run_cli("json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["images"][0]["base_os"]["os"]["id"], "debian");
    let out = run_cli("human");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("base OS: Debian GNU/Linux 12 (bookworm)"),
        "{text}"
    );
}

#[test]
fn function_host_rejects_an_unusable_signature_key_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let bin = lastmile_tests::bin::lastmile_bin().unwrap();
    let out = std::process::Command::new(&bin)
        .args(["function", "image-pull"])
        .current_dir(dir.path())
        .env(
            "LASTMILE_SIGNATURE_KEYS",
            "ghcr.io/acme/**=/nonexistent/cosign.pub",
        )
        .env("NATS_URL", "nats://127.0.0.1:1")
        .env("NATS_CONNECT_TIMEOUT", "1s")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("LASTMILE_SIGNATURE_KEYS") && err.contains("/nonexistent/cosign.pub"),
        "{err}"
    );
    assert!(
        !err.contains("cannot connect"),
        "failed before connecting: {err}"
    );
}
