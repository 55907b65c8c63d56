//! `lastmile admission` as the API server calls it: AdmissionReview v1 requests over real
//! HTTPS (a private CA, the server's certificate from it), in warn and deny mode.

use std::time::Duration;

use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::registry::TestCa;
use lastmile_tests::tools::free_port;
use serde_json::{Value, json};

struct Webhook {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    url: String,
    http: reqwest::Client,
}

/// Starts the webhook with `args`, a certificate for 127.0.0.1 from a fresh CA, and waits
/// until it answers over TLS.
async fn start(args: &[&str]) -> anyhow::Result<Webhook> {
    let ca = TestCa::new("lastmile admission test CA")?;
    let (cert, key) = ca.issue(&["127.0.0.1", "lastmile-admission.lastmile.svc"])?;
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("tls.crt"), cert)?;
    std::fs::write(dir.path().join("tls.key"), key)?;
    let port = free_port()?;
    let child = tokio::process::Command::new(lastmile_bin()?)
        .arg("admission")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.path().join("tls.key"))
        .args(args)
        .env_remove("LASTMILE_ALLOWED_REGISTRIES")
        .kill_on_drop(true)
        .spawn()?;
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem().as_bytes())?])
        .timeout(Duration::from_secs(10))
        .build()?;
    let url = format!("https://127.0.0.1:{port}");
    for _ in 0..200 {
        if http.get(format!("{url}/healthz")).send().await.is_ok() {
            return Ok(Webhook {
                _child: child,
                _dir: dir,
                url,
                http,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("lastmile admission did not answer on {url}")
}

/// The AdmissionReview the API server sends for creating `object` in `namespace`.
fn review(uid: &str, namespace: &str, object: &Value) -> Value {
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, resource) = match kind {
        "Pod" => ("", "pods"),
        "Job" => ("batch", "jobs"),
        _ => ("apps", "deployments"),
    };
    let version = "v1";
    json!({
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object["metadata"]["name"],
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "uid": "4c1e0d2a-6b7f-4a55-9d0e-000000000001", "groups": ["system:serviceaccounts", "system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-client-side-apply"}
        }
    })
}

async fn send(w: &Webhook, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let r = w
        .http
        .post(format!("{}{path}?timeout=10s", w.url))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, */*")
        .json(body)
        .send()
        .await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

fn deployment(namespace: &str, privileged: bool) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "orders", "namespace": namespace, "labels": {"app": "orders"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "orders"}},
            "template": {
                "metadata": {"labels": {"app": "orders"}},
                "spec": {
                    "initContainers": [{
                        "name": "wait-db",
                        "image": "quay.io/tools/busybox:1.36",
                        "command": ["sh", "-c", "until nc -z postgres 5432; do sleep 2; done"],
                        "securityContext": {"privileged": privileged}
                    }],
                    "containers": [{"name": "orders", "image": "ghcr.io/acme/orders:1.4.2"}]
                }
            }
        }
    })
}

#[tokio::test]
async fn warn_mode_admits_with_warnings() -> anyhow::Result<()> {
    let w = start(&["--mode", "warn"]).await?;
    let (status, body) = send(
        &w,
        "/validate",
        &review("a1", "shop", &deployment("shop", true)),
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(body["kind"], "AdmissionReview");
    assert_eq!(body["response"]["uid"], "a1");
    assert_eq!(body["response"]["allowed"], true);
    let warnings: Vec<&str> = body["response"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("init.unbounded_wait: init container `wait-db` of deployment/shop/orders waits for postgres:5432 with no deadline"));
    assert!(warnings[1].starts_with("init.privileged: "));
    // A compliant object: admitted, nothing to say.
    let clean = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {"activeDeadlineSeconds": 600, "ttlSecondsAfterFinished": 3600,
                 "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "ghcr.io/acme/api:7"}]}}}
    });
    let (_, body) = send(&w, "/validate", &review("a2", "shop", &clean)).await?;
    assert_eq!(body["response"], json!({"uid": "a2", "allowed": true}));
    // Not an AdmissionReview: 400.
    let (status, _) = send(&w, "/validate", &json!({"kind": "Pod"})).await?;
    assert_eq!(status, 400);
    Ok(())
}

#[tokio::test]
async fn deny_mode_per_namespace_refuses_errors_only() -> anyhow::Result<()> {
    let w = start(&[
        "--mode",
        "warn",
        "--deny-namespace",
        "prod,payments",
        "--allowed-registry",
        "ghcr.io/acme",
    ])
    .await?;
    // prod is in deny mode: the privileged init container and the registry refuse it.
    let (status, body) = send(
        &w,
        "/validate",
        &review("d1", "prod", &deployment("prod", true)),
    )
    .await?;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["uid"], "d1");
    assert_eq!(body["response"]["allowed"], false);
    assert_eq!(body["response"]["status"]["code"], 403);
    let message = body["response"]["status"]["message"].as_str().unwrap();
    assert!(message.starts_with("lastmile admission: "), "{message}");
    assert!(message.contains("init.privileged"), "{message}");
    assert!(message.contains("init.registry: init container `wait-db` of deployment/prod/orders pulls `quay.io/tools/busybox:1.36` from quay.io"), "{message}");
    // The same object in a warn namespace is admitted with the reasons as warnings.
    let (_, body) = send(
        &w,
        "/validate",
        &review("d2", "staging", &deployment("staging", true)),
    )
    .await?;
    assert_eq!(body["response"]["allowed"], true);
    assert_eq!(body["response"]["warnings"].as_array().unwrap().len(), 3);
    // /validate/deny forces deny mode (a webhook entry selecting namespaces by label).
    let (_, body) = send(
        &w,
        "/validate/deny",
        &review("d3", "staging", &deployment("staging", true)),
    )
    .await?;
    assert_eq!(body["response"]["allowed"], false);
    // Warnings alone never deny.
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": "orders-7c9b6d8f45-", "namespace": "prod"},
        "spec": {"initContainers": [{"name": "wait", "image": "ghcr.io/acme/tools:1", "command": ["sh", "-c", "until nslookup postgres; do sleep 1; done"]}],
                 "containers": [{"name": "c", "image": "ghcr.io/acme/orders:1"}]}
    });
    let (_, body) = send(&w, "/validate", &review("d4", "prod", &pod)).await?;
    assert_eq!(body["response"]["allowed"], true);
    assert_eq!(body["response"]["warnings"].as_array().unwrap().len(), 1);
    // A controller's pod is not judged again (its template was).
    pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "orders-7c9b6d8f45", "uid": "u", "controller": true}]);
    let (_, body) = send(&w, "/validate", &review("d5", "prod", &pod)).await?;
    assert_eq!(body["response"], json!({"uid": "d5", "allowed": true}));
    Ok(())
}

#[tokio::test]
async fn a_check_past_the_handler_timeout_admits_and_says_it_was_not_checked() -> anyhow::Result<()>
{
    let w = start(&["--mode", "deny", "--handler-timeout", "1ms"]).await?;
    // Thousands of init containers to read: far more than a millisecond of work.
    let mut big = deployment("prod", true);
    let one = big["spec"]["template"]["spec"]["initContainers"][0].clone();
    let many: Vec<Value> = (0..20_000)
        .map(|i| {
            let mut c = one.clone();
            c["name"] = json!(format!("wait-{i}"));
            c["command"][2] = json!(format!("until nc -z db-{i} 5432; do sleep 1; done"));
            c
        })
        .collect();
    big["spec"]["template"]["spec"]["initContainers"] = json!(many);
    let (status, body) = send(&w, "/validate", &review("t1", "prod", &big)).await?;
    assert_eq!(status, 200);
    assert_eq!(body["response"]["uid"], "t1");
    assert_eq!(body["response"]["allowed"], true, "{}", body["response"]);
    assert_eq!(
        body["response"]["warnings"],
        json!(["lastmile admission: not checked: the check took longer than 1ms"])
    );
    Ok(())
}

#[test]
fn infra_webhook_fails_closed_only_in_deny_namespaces_and_passes_its_own_lint() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/admission");
    let mut manifests = Vec::new();
    for f in [
        "rbac.yaml",
        "certificate.yaml",
        "admission.yaml",
        "webhook.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        manifests.extend(lastmile_lint::parse(f, &text).unwrap());
    }
    assert!(lastmile_lint::lint(&manifests, &lastmile_lint::Config::default()).is_empty());
    let vwc = manifests
        .iter()
        .find(|m| m.kind() == "ValidatingWebhookConfiguration")
        .unwrap();
    let hooks = vwc.value["webhooks"].as_array().unwrap();
    let by_path = |p: &str| {
        hooks
            .iter()
            .find(|h| h["clientConfig"]["service"]["path"] == p)
            .unwrap()
    };
    let (deny, warn) = (by_path("/validate/deny"), by_path("/validate/warn"));
    assert_eq!(deny["failurePolicy"], "Fail");
    assert_eq!(warn["failurePolicy"], "Ignore");
    for h in [deny, warn] {
        assert_eq!(h["admissionReviewVersions"], json!(["v1"]));
        assert_eq!(h["sideEffects"], "None");
        // Above the server's --handler-timeout 2s.
        assert!(h["timeoutSeconds"].as_u64().unwrap() > 2);
        assert_eq!(h["rules"].as_array().unwrap().len(), 3);
        let exprs = h["namespaceSelector"]["matchExpressions"]
            .as_array()
            .unwrap();
        assert!(
            exprs
                .iter()
                .any(|e| e["key"] == "kubernetes.io/metadata.name"
                    && e["values"] == json!(["kube-system", "lastmile"]))
        );
    }
    let deployment = manifests.iter().find(|m| m.kind() == "Deployment").unwrap();
    let args = &deployment.value["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args[0], "admission");
    assert_eq!(
        vwc.value["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "lastmile/lastmile-admission-tls"
    );
}
