//! JSON objects as `kubectl get -o json` prints them: a pod's env, a dockerconfigjson Secret,
//! an Opaque Secret; and which keys count as sensitive.

use base64::Engine as _;

use super::*;

#[test]
fn pod_env_values_and_embedded_secrets_are_redacted_names_kept() {
    let out = String::from_utf8(bytes(POD_WITH_ENV.as_bytes(), "application/json")).unwrap();
    assert_absent(
        &out,
        &[
            "db.shop.svc\"",
            "sk_live_51HqLyjWDarjtT1zdp7dcXYZ",
            "s3cr3t-Last-Applied",
            "Pg-Pa55word",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let c = &v["spec"]["containers"][0];
    assert_eq!(c["env"][0]["name"], "DATABASE_HOST");
    assert_eq!(c["env"][0]["value"], REDACTED);
    assert_eq!(c["env"][1]["value"], REDACTED);
    assert_eq!(c["env"][2]["valueFrom"]["secretKeyRef"]["name"], "db");
    assert_eq!(c["env"][2]["valueFrom"]["secretKeyRef"]["key"], "password");
    assert_eq!(v["spec"]["imagePullSecrets"][0]["name"], "regcred");
    assert_eq!(v["spec"]["volumes"][0]["secret"]["secretName"], "api-creds");
    assert_eq!(v["spec"]["automountServiceAccountToken"], false);
    assert_eq!(
        c["image"],
        "registry.example.com/shop/api@sha256:4b2a1c0f3e5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b"
    );
    assert_eq!(
        c["args"][0],
        "--db-url=postgres://[REDACTED]@db.shop.svc:5432/shop"
    );
    assert_eq!(c["args"][1], "--log-level=debug");
    // The last-applied annotation is still JSON, with the Secret's value gone.
    let la = v["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap();
    let la: Value = serde_json::from_str(la).unwrap();
    assert_eq!(la["stringData"]["password"], REDACTED);
    assert_eq!(la["metadata"]["name"], "db");
}

#[test]
fn dockerconfigjson_secret_data_is_redacted_keys_kept() {
    let auth = base64::engine::general_purpose::STANDARD.encode("robot$ci:gh0st-Pull-Token");
    let config = format!(
        r#"{{"auths":{{"registry.example.com":{{"username":"robot$ci","password":"gh0st-Pull-Token","auth":"{auth}"}}}}}}"#
    );
    let blob = base64::engine::general_purpose::STANDARD.encode(&config);
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred", "namespace": "shop"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": blob},
    });
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [secret]});
    let out = String::from_utf8(bytes(
        &serde_json::to_vec(&list).unwrap(),
        "application/json",
    ))
    .unwrap();
    assert_absent(&out, &[&blob, &auth, "gh0st-Pull-Token"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["items"][0]["data"][".dockerconfigjson"], REDACTED);
    assert_eq!(v["items"][0]["metadata"]["name"], "regcred");
    assert_eq!(v["items"][0]["type"], "kubernetes.io/dockerconfigjson");

    // The decoded config on its own, and the blob in free text.
    let mut decoded: Value = serde_json::from_str(&config).unwrap();
    assert!(json(&mut decoded));
    let d = decoded.to_string();
    assert_absent(&d, &["gh0st-Pull-Token", &auth]);
    assert!(d.contains("robot$ci"), "usernames are not secrets: {d}");
    let t = text(&format!(
        "kubectl create secret generic x --from-literal=cfg={blob}"
    ))
    .into_owned();
    assert_absent(&t, &[&blob]);
    let t = text(&format!("data:\n  .dockerconfigjson: {blob}\n")).into_owned();
    assert_absent(&t, &[&blob]);
}

#[test]
fn opaque_secret_string_data_and_numbers_are_redacted() {
    let mut v =
        json!({"kind": "Secret", "stringData": {"PORT": 5432, "url": "x"}, "data": {"a": "YQ=="}});
    assert!(json(&mut v));
    assert_eq!(v["stringData"]["PORT"], REDACTED);
    assert_eq!(v["stringData"]["url"], REDACTED);
    assert_eq!(v["data"]["a"], REDACTED);
    // A non-Secret's `data` (a ConfigMap) stays.
    let mut cm = json!({"kind": "ConfigMap", "data": {"LOG_LEVEL": "debug"}});
    assert!(!json(&mut cm));
    assert_eq!(cm["data"]["LOG_LEVEL"], "debug");
}

#[test]
fn sensitive_keys_match_case_and_separator_insensitively() {
    for k in [
        "password",
        "PASSWORD",
        "db_password",
        "passwd",
        "token",
        "access_token",
        "refresh_token",
        "Secret",
        "client_secret",
        "Authorization",
        "auth",
        ".dockerconfigjson",
        ".dockercfg",
        "apiKey",
        "API-KEY",
        "privateKey",
        "cookie",
        "x-hub-signature",
        "X-Hub-Signature-256",
        "githubToken",
    ] {
        assert!(is_sensitive_key(k), "{k}");
    }
    for k in [
        "name",
        "imagePullSecrets",
        "secretName",
        "secretKeyRef",
        "tokenExpirationSeconds",
        "author",
        "auths",
        "key",
    ] {
        assert!(!is_sensitive_key(k), "{k}");
    }
    // Past the stack buffer (64 bytes) and outside ASCII, the allocating path decides alike.
    let long = format!("{}_PASSWORD", "x".repeat(80));
    assert!(is_sensitive_key(&long));
    assert!(!is_sensitive_key(&"x".repeat(80)));
    assert!(is_sensitive_key("größe.Token"));
    assert!(!is_sensitive_key("größe"));
    // Exactly at the buffer's size.
    assert!(is_sensitive_key(&format!("{}token", "a".repeat(59))));
}

#[test]
fn the_sensitive_key_list_stays_sorted_so_every_name_on_it_is_found() {
    let keys = crate::keys::SENSITIVE_KEYS;
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    for k in keys {
        assert!(is_sensitive_key(k), "{k}");
        assert!(is_sensitive_key(&k.to_uppercase()), "{k}");
    }
}
