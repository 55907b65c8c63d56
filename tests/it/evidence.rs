//! The S3 evidence store against a real S3-compatible server (s3s-fs).

use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use lastmile_contract::EvidenceItem;
use lastmile_events::EvidenceRef;
use lastmile_runtime::evidence::s3::{S3Config, S3Store};
use lastmile_runtime::evidence::{EvidenceError, EvidenceStore, store_bundle};
use lastmile_tests::s3::S3Server;
use lastmile_tests::tools::free_port;

const BUCKET: &str = "lastmile-evidence";

/// Secret strings planted in the evidence; none may reach the store.
const SECRETS: &[&str] = &[
    "sk_live_51HqLyjWDarjtT1zdp7dcXYZ",
    "Pg-Pa55word-9f2",
    "gh0st-Pull-Token-7c1",
    // base64("robot$ci:gh0st-Pull-Token-7c1")
    "cm9ib3QkY2k6Z2gwc3QtUHVsbC1Ub2tlbi03YzE=",
    // base64 of the whole docker config (below)
    DOCKERCONFIG_B64,
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyb2JvdCJ9.c2lnbmF0dXJl",
];

const DOCKERCONFIG_B64: &str = "eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJ1c2VybmFtZSI6InJvYm90JGNpIiwicGFzc3dvcmQiOiJnaDBzdC1QdWxsLVRva2VuLTdjMSIsImF1dGgiOiJjbTlpYjNRa1kyazZaMmd3YzNRdFVIVnNiQzFVYjJ0bGJpMDNZekU9In19fQ==";

fn sdk(access_key: &str, secret_key: &str) -> aws_config::SdkConfig {
    S3Server::sdk_config_with(access_key, secret_key)
}

fn config(endpoint: String) -> S3Config {
    S3Config {
        bucket: Some(BUCKET.into()),
        prefix: "lastmile/test".into(),
        endpoint: Some(endpoint),
        force_path_style: true,
        region: None,
        operation_timeout_secs: 5,
        attempt_timeout_secs: 2,
    }
}

async fn store_on(server: &S3Server) -> anyhow::Result<S3Store> {
    server.create_bucket(BUCKET)?;
    let cfg = config(server.endpoint());
    Ok(S3Store::from_sdk_config(
        &cfg,
        &sdk(server.access_key(), server.secret_key()),
    )?)
}

/// A raw client for checking what the server holds, independent of the store.
fn raw_client(server: &S3Server) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk(server.access_key(), server.secret_key()))
        .endpoint_url(server.endpoint())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

async fn list_keys(client: &aws_sdk_s3::Client) -> anyhow::Result<Vec<String>> {
    let out = client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .context("listing the bucket")?;
    let mut keys: Vec<String> = out
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    keys.sort();
    Ok(keys)
}

/// Evidence as a pending-pod function would produce it, full of secrets.
fn evidence() -> anyhow::Result<Vec<EvidenceItem>> {
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "api-7c9f8d6b5-x2x9q", "namespace": "shop", "uid": "5f0c7c57-3b2e-4f1a-9a53-0c1f3b0d9e11"},
        "spec": {
            "imagePullSecrets": [{"name": "regcred"}],
            "containers": [{
                "name": "api",
                "image": "registry.example.com/shop/api:1.4.2",
                "args": ["--db=postgres://shop:Pg-Pa55word-9f2@db.shop.svc:5432/shop"],
                "env": [
                    {"name": "STRIPE_KEY", "value": "sk_live_51HqLyjWDarjtT1zdp7dcXYZ"},
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
                ],
                "resources": {"requests": {"cpu": "4", "memory": "16Gi"}}
            }]
        },
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."}]}
    });
    let secret = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred", "namespace": "shop"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": DOCKERCONFIG_B64}
    });
    let transcript = "GET /v2/shop/api/manifests/1.4.2 HTTP/1.1\r\nHost: registry.example.com\r\n\
Authorization: Basic cm9ib3QkY2k6Z2gwc3QtUHVsbC1Ub2tlbi03YzE=\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\
GET /token HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyb2JvdCJ9.c2lnbmF0dXJl\r\n";
    Ok(vec![
        EvidenceItem::json("pod.json", &pod)?,
        EvidenceItem::json("pull-secret.json", &secret)?,
        EvidenceItem::text("registry-probe.txt", transcript),
        EvidenceItem::text(
            "scheduler.txt",
            "0/3 nodes are available: 3 Insufficient cpu.",
        ),
    ])
}

#[tokio::test]
async fn s3_put_get_exists_round_trip() -> anyhow::Result<()> {
    let server = S3Server::start().await?;
    let store = store_on(&server).await?;
    assert_eq!(store.url(), format!("s3://{BUCKET}/lastmile/test"));
    let key = "objects/sha256/0123abcd";
    assert!(!store.exists(key).await?);
    assert_eq!(store.get(key).await?, None);
    store
        .put(
            key,
            b"{\"reason\":\"FailedScheduling\"}",
            "application/json",
        )
        .await?;
    assert!(store.exists(key).await?);
    assert_eq!(
        store.get(key).await?.as_deref(),
        Some(&b"{\"reason\":\"FailedScheduling\"}"[..])
    );
    // Stored under the prefix, as the server sees it.
    assert_eq!(
        list_keys(&raw_client(&server)).await?,
        vec![format!("lastmile/test/{key}")]
    );
    Ok(())
}

#[tokio::test]
async fn s3_bundle_is_idempotent_and_its_manifest_lists_every_object() -> anyhow::Result<()> {
    let server = S3Server::start().await?;
    let store = store_on(&server).await?;
    let items = evidence()?;
    let manifest_key = "manifests/pending/7b3f0c2e-1d4a-5e6f-8a9b-0c1d2e3f4a5b.json";

    let first = store_bundle(&store, manifest_key, &items).await?;
    let keys_after_first = list_keys(&raw_client(&server)).await?;
    let second = store_bundle(&store, manifest_key, &items).await?;
    let keys_after_second = list_keys(&raw_client(&server)).await?;

    assert_eq!(
        first, second,
        "a redelivered message yields the same manifest"
    );
    assert_eq!(keys_after_first, keys_after_second, "no duplicate objects");
    assert_eq!(
        keys_after_first.len(),
        items.len() + 1,
        "one object per item plus the manifest: {keys_after_first:?}"
    );

    let stored: EvidenceRef =
        serde_json::from_slice(&store.get(manifest_key).await?.context("manifest missing")?)?;
    assert_eq!(stored, first);
    assert_eq!(stored.store, format!("s3://{BUCKET}/lastmile/test"));
    assert_eq!(stored.manifest_key, manifest_key);
    let names: Vec<&str> = stored.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "pod.json",
            "pull-secret.json",
            "registry-probe.txt",
            "scheduler.txt"
        ]
    );
    for object in &stored.objects {
        let bytes = store
            .get(&object.key)
            .await?
            .with_context(|| format!("{} missing", object.key))?;
        assert_eq!(object.key, format!("objects/sha256/{}", object.sha256));
        assert_eq!(object.size, bytes.len() as u64);
        use sha2::Digest as _;
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            object.sha256,
            "{} is content-addressed",
            object.name
        );
        assert!(keys_after_first.contains(&format!("lastmile/test/{}", object.key)));
    }
    // Evidence stays useful: the scheduler message and the pull secret's name survive.
    let pod = String::from_utf8(store.get(&stored.objects[0].key).await?.unwrap_or_default())?;
    assert!(
        pod.contains("Insufficient cpu") && pod.contains("regcred") && pod.contains("STRIPE_KEY"),
        "{pod}"
    );
    Ok(())
}

#[tokio::test]
async fn s3_no_secret_reaches_any_stored_object() -> anyhow::Result<()> {
    let server = S3Server::start().await?;
    let store = store_on(&server).await?;
    store_bundle(&store, "manifests/image-pull/d1.json", &evidence()?).await?;

    // Through the API: every object in the bucket.
    let client = raw_client(&server);
    let keys = list_keys(&client).await?;
    assert_eq!(keys.len(), 5);
    for key in &keys {
        let body = client
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await?
            .body
            .collect()
            .await?
            .into_bytes();
        let text = String::from_utf8_lossy(&body);
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} found in {key}:\n{text}");
        }
    }
    // On the server's disk, metadata files included.
    let files = server.stored_files()?;
    assert!(files.len() >= 5, "{files:?}");
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "{secret} found in {}",
                path.display()
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn s3_bad_credentials_are_rejected_not_retried() -> anyhow::Result<()> {
    let server = S3Server::start().await?;
    server.create_bucket(BUCKET)?;
    let cfg = config(server.endpoint());
    let store = S3Store::from_sdk_config(&cfg, &sdk(server.access_key(), "not-the-secret-key"))?;
    let err = store
        .put("objects/sha256/00", b"x", "text/plain")
        .await
        .expect_err("a bad signature must fail");
    assert!(matches!(err, EvidenceError::Rejected(_)), "{err}");
    assert!(!err.is_retryable());
    let err = store_bundle(&store, "manifests/f/d.json", &evidence()?)
        .await
        .expect_err("bundle must fail");
    assert!(matches!(err, EvidenceError::Rejected(_)), "{err}");
    assert!(server.stored_files()?.is_empty(), "nothing was written");

    let unknown = S3Store::from_sdk_config(&cfg, &sdk("AKIDUNKNOWN", server.secret_key()))?;
    let err = unknown
        .put("objects/sha256/00", b"x", "text/plain")
        .await
        .expect_err("an unknown key must fail");
    assert!(matches!(err, EvidenceError::Rejected(_)), "{err}");
    Ok(())
}

#[tokio::test]
async fn s3_start_up_check_rejects_a_missing_bucket_and_bad_credentials() -> anyhow::Result<()> {
    let server = S3Server::start().await?;
    let cfg = config(server.endpoint());
    let store = S3Store::from_sdk_config(&cfg, &sdk(server.access_key(), server.secret_key()))?;
    let err = store.check().await.expect_err("no bucket yet");
    assert!(matches!(err, EvidenceError::Rejected(_)), "{err}");
    assert!(
        err.to_string().contains(BUCKET),
        "the message names the bucket: {err}"
    );
    server.create_bucket(BUCKET)?;
    store.check().await?;
    let bad = S3Store::from_sdk_config(&cfg, &sdk(server.access_key(), "not-the-secret-key"))?;
    let err = bad.check().await.expect_err("bad signature");
    assert!(matches!(err, EvidenceError::Rejected(_)), "{err}");
    Ok(())
}

#[tokio::test]
async fn s3_server_down_is_unavailable_and_retryable() -> anyhow::Result<()> {
    let mut server = S3Server::start().await?;
    let store = store_on(&server).await?;
    store.put("objects/sha256/00", b"x", "text/plain").await?;
    server.kill();
    let err = store
        .put("objects/sha256/01", b"y", "text/plain")
        .await
        .expect_err("server is down");
    assert!(matches!(err, EvidenceError::Unavailable(_)), "{err}");
    assert!(err.is_retryable());
    let err = store
        .exists("objects/sha256/00")
        .await
        .expect_err("server is down");
    assert!(matches!(err, EvidenceError::Unavailable(_)), "{err}");

    // Nothing ever listened on this port.
    let port = free_port()?;
    let cfg = config(format!("http://127.0.0.1:{port}"));
    let store = S3Store::from_sdk_config(&cfg, &sdk("AKIDEXAMPLE", "secret"))?;
    let err = store_bundle(&store, "manifests/f/d.json", &evidence()?)
        .await
        .expect_err("nobody listens");
    assert!(matches!(err, EvidenceError::Unavailable(_)), "{err}");
    Ok(())
}

#[tokio::test]
async fn s3_server_that_never_answers_times_out_as_unavailable() -> anyhow::Result<()> {
    // Accepts connections and never says a word: only the SDK timeouts can end the call.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = listener.local_addr()?.port();
    let stop = Arc::new(AtomicBool::new(false));
    let held = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut open = Vec::new();
            listener.set_nonblocking(true).ok();
            while !stop.load(Ordering::Relaxed) {
                if let Ok((conn, _)) = listener.accept() {
                    open.push(conn);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let mut cfg = config(format!("http://127.0.0.1:{port}"));
    cfg.attempt_timeout_secs = 1;
    cfg.operation_timeout_secs = 2;
    let store = S3Store::from_sdk_config(&cfg, &sdk("AKIDEXAMPLE", "secret"))?;
    let err = store
        .put("objects/sha256/00", b"x", "text/plain")
        .await
        .expect_err("never answers");
    stop.store(true, Ordering::Relaxed);
    let _ = held.join();
    assert!(matches!(err, EvidenceError::Unavailable(_)), "{err}");
    assert!(err.is_retryable());
    Ok(())
}
