//! The policy's tests: the rules it inherited from the runtime (unchanged assertions), every
//! secret shape as a table and as a property, readability of real messages, escaping and
//! truncation.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::samples::{self, Shape};
use crate::*;

fn assert_absent(haystack: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !haystack.contains(s),
            "secret {s:?} survived in:\n{haystack}"
        );
    }
}

const POD_WITH_ENV: &str = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {
    "name": "api-7c9f8d6b5-x2x9q",
    "namespace": "shop",
    "annotations": {
      "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"db\"},\"stringData\":{\"password\":\"s3cr3t-Last-Applied\"}}\n"
    }
  },
  "spec": {
    "automountServiceAccountToken": false,
    "imagePullSecrets": [{"name": "regcred"}],
    "containers": [{
      "name": "api",
      "image": "registry.example.com/shop/api@sha256:4b2a1c0f3e5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
      "args": ["--db-url=postgres://shop:Pg-Pa55word@db.shop.svc:5432/shop", "--log-level=debug"],
      "env": [
        {"name": "DATABASE_HOST", "value": "db.shop.svc"},
        {"name": "STRIPE_KEY", "value": "sk_live_51HqLyjWDarjtT1zdp7dcXYZ"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
      ],
      "volumeMounts": [{"name": "creds", "mountPath": "/var/run/creds", "readOnly": true}]
    }],
    "volumes": [{"name": "creds", "secret": {"secretName": "api-creds", "defaultMode": 420}}]
  },
  "status": {"phase": "Pending"}
}"#;

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

const PROBE_TRANSCRIPT: &str = "GET /v2/shop/api/manifests/1.4.2 HTTP/1.1\r\n\
Host: registry.example.com\r\n\
Accept: application/vnd.oci.image.index.v1+json\r\n\
Authorization: Basic cm9ib3Q6Z2gwc3QtUHVsbC1Ub2tlbg==\r\n\
Cookie: session=8f14e45fceea167a5a36dedd4bea2543\r\n\
\r\n\
HTTP/1.1 401 Unauthorized\r\n\
Www-Authenticate: Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:shop/api:pull\"\r\n\
Docker-Distribution-Api-Version: registry/2.0\r\n\
\r\n\
GET /token?scope=repository:shop/api:pull&service=registry.example.com HTTP/1.1\r\n\
Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhdXRoLmV4YW1wbGUuY29tIiwic3ViIjoicm9ib3QifQ.c2lnbmF0dXJlLWJ5dGVz\r\n";

#[test]
fn probe_transcript_headers_are_redacted_challenge_kept() {
    let out = text(PROBE_TRANSCRIPT).into_owned();
    assert_absent(
        &out,
        &[
            "cm9ib3Q6Z2gwc3QtUHVsbC1Ub2tlbg",
            "8f14e45fceea167a5a36dedd4bea2543",
            "eyJpc3MiOiJhdXRo",
            "c2lnbmF0dXJlLWJ5dGVz",
        ],
    );
    assert!(out.contains("Authorization: Basic [REDACTED]\r\n"), "{out}");
    assert!(
        out.contains("Authorization: Bearer [REDACTED]\r\n"),
        "{out}"
    );
    assert!(out.contains("Cookie: [REDACTED]\r\n"), "{out}");
    assert!(
        out.contains("Www-Authenticate: Bearer realm=\"https://auth.example.com/token\""),
        "{out}"
    );
    assert!(out.contains("HTTP/1.1 401 Unauthorized"));
    assert!(out.contains("scope=repository:shop/api:pull"));
}

#[test]
fn probe_transcript_as_json_redacts_header_values() {
    let doc = json!({
        "request": {
            "method": "GET",
            "url": "https://ci-bot:glpat-AbCdEfGhIjKlMnOpQrSt@gitlab.example.com/api/v4/projects",
            "headers": {"Authorization": "Bearer short", "X-Hub-Signature-256": "sha256=9f86d081884c7d659a2feaa0c55ad015", "Accept": "*/*"},
            "headerList": [["authorization", "Basic Zm9vOmJhcg=="], ["accept", "*/*"]],
            "har": [{"name": "Proxy-Authorization", "value": "Basic Zm9vOmJhcg=="}, {"name": "Accept", "value": "*/*"}]
        },
        "response": {"status": 401, "headers": {"Set-Cookie": "sid=abc123; HttpOnly"}}
    });
    let out = String::from_utf8(bytes(
        &serde_json::to_vec(&doc).unwrap(),
        "application/json; charset=utf-8",
    ))
    .unwrap();
    assert_absent(
        &out,
        &[
            "short",
            "9f86d081884c7d659a2feaa0c55ad015",
            "Zm9vOmJhcg",
            "abc123",
            "glpat-AbCd",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["request"]["headers"]["Accept"], "*/*");
    assert_eq!(v["request"]["headerList"][1][1], "*/*");
    assert_eq!(v["request"]["har"][1]["value"], "*/*");
    assert_eq!(v["response"]["status"], 401);
    assert_eq!(
        v["request"]["url"],
        "https://[REDACTED]@gitlab.example.com/api/v4/projects"
    );
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
}

#[test]
fn text_rules_cover_common_leaks() {
    let cases = [
        ("curl -H 'Authorization: Bearer abc' https://r", "abc"),
        (
            "curl --header \"Authorization: token abc\" https://r",
            "abc",
        ),
        (
            r#"{\"Authorization\": \"Basic Zm9vOmJhcg==\"}"#,
            "Zm9vOmJhcg",
        ),
        ("  Cookie: sid=1234", "sid=1234"),
        (
            "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPLE",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
        ),
        ("mysql -u root --password=hunter2 -h db", "hunter2"),
        ("PGPASSWORD=Pg-Pa55word psql", "Pg-Pa55word"),
        (
            "curl https://api.example.com/?access_token=tok123abc&page=2",
            "tok123abc",
        ),
        (
            "git clone https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r",
            "ghs_16C7e42F",
        ),
        (
            "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        ("{\"password\": \"p@ss w0rd\"}", "p@ss"),
        ("client_secret: 7f3c9a1e", "7f3c9a1e"),
        (
            "id_token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "dozjgNryP4J3jVmNHl0w5N",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n",
            "MIIEowIBAAKCAQEA7",
        ),
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/2024/us-east-1/s3/aws4_request, Signature=fe5f80f77d5fa3beca038a248ff027",
            "fe5f80f77d5",
        ),
    ];
    for (input, secret) in cases {
        let out = text(input);
        assert!(!out.contains(secret), "{input:?} -> {out:?}");
        assert!(out.contains(REDACTED), "{input:?} -> {out:?}");
    }
}

#[test]
fn clean_text_and_kubernetes_messages_are_untouched() {
    for input in [
        "Failed to pull image \"org/private:1.0\": failed to pull and unpack image \"docker.io/org/private:1.0\": failed to resolve reference \"docker.io/org/private:1.0\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        "Failed to pull image \"registry.example.com/shop/api:1.4.2\": rpc error: code = Unknown desc = failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized",
        "MountVolume.SetUp failed for volume \"creds\" : secret \"api-creds\" not found",
        "Error: secret \"regcred\" not found; imagePullSecrets: regcred",
        "sha256:4b2a1c0f3e5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
        "Www-Authenticate: Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"",
        "ssh://git@github.com/org/repo.git",
    ] {
        assert_eq!(text(input), input);
    }
    let clean =
        br#"{"kind":"Event","reason":"FailedScheduling","message":"0/3 nodes are available"}"#;
    assert_eq!(
        bytes(clean, "application/json"),
        clean.to_vec(),
        "clean JSON keeps its bytes"
    );
}

#[test]
fn malformed_or_binary_input_never_panics_and_still_gets_text_rules() {
    let out = bytes(b"{\"password\": \"hunter2\", broken", "application/json");
    assert!(!String::from_utf8_lossy(&out).contains("hunter2"));
    let out = bytes(
        b"\xff\xfe password=hunter2 \x00\x01",
        "application/octet-stream",
    );
    assert!(!String::from_utf8_lossy(&out).contains("hunter2"));
    let _ = bytes(&[0xffu8; 64], "application/json");
    let _ = text("");
    let ndjson = b"{\"token\":\"abc\"}\n{\"msg\":\"ok\"}\n";
    let out = String::from_utf8(bytes(ndjson, "application/x-ndjson")).unwrap();
    assert!(!out.contains("abc") && out.contains("ok"), "{out}");
}

#[test]
fn redaction_is_idempotent() {
    let once = bytes(POD_WITH_ENV.as_bytes(), "application/json");
    let twice = bytes(&once, "application/json");
    assert_eq!(once, twice);
    let t1 = text(PROBE_TRANSCRIPT).into_owned();
    assert_eq!(text(&t1), t1);
}

// ---- every shape, as a table and as a property ------------------------------------------

/// Separators a secret can sit between in a pasted text.
const SEPARATORS: &[&str] = &[
    " ", "\n", "\t", " \"", "\" ", "'", " (", ") ", ", ", "; ", "\r\n",
];

fn assert_gone(out: &str, sample: &samples::Sample) {
    for s in &sample.secrets {
        assert!(
            !out.contains(s.as_str()),
            "{:?}: secret {s:?} survived in:\n{out}\n(input: {:?})",
            sample.shape,
            sample.text
        );
    }
}

#[test]
fn every_shape_is_redacted_alone_in_a_line_and_in_json() {
    for seed in 0..64 {
        for sample in samples::all(seed) {
            // Alone, mid-line, and as a JSON string value (evidence, diagnosis fields).
            let alone = text(&sample.text).into_owned();
            assert_gone(&alone, &sample);
            assert!(alone.contains(REDACTED), "{:?}: {alone}", sample.shape);
            let line = format!("2026-03-03T10:00:00Z step 4/9: {} (exit 1)", sample.text);
            assert_gone(&text(&line), &sample);
            let doc = serde_json::to_vec(&json!({"message": sample.text, "args": [sample.text]}))
                .unwrap();
            let out = String::from_utf8(bytes(&doc, "application/json")).unwrap();
            assert_gone(&out, &sample);
            // Idempotent: a second pass changes nothing.
            assert_eq!(text(&alone), alone, "{:?}", sample.shape);
        }
    }
}

#[test]
fn every_shape_has_a_sample_and_the_samples_are_deterministic() {
    let a = samples::all(7);
    assert_eq!(a.len(), Shape::ALL.len());
    assert_eq!(a, samples::all(7));
    assert_ne!(a, samples::all(8));
    for s in &a {
        assert!(s.secrets.iter().all(|x| x.len() >= 6), "{s:?}");
        assert!(
            s.secrets.iter().all(|x| s.text.contains(x.as_str())),
            "{s:?}"
        );
    }
}

fn filler() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 .,:/()_-]{0,40}(\n[a-zA-Z0-9 .,:/()_-]{0,40}){0,2}")
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A random secret of each shape, anywhere in random text, never comes out.
    #[test]
    fn a_secret_embedded_anywhere_never_comes_out(
        shape in proptest::sample::select(Shape::ALL),
        seed in any::<u64>(),
        before in filler(),
        after in filler(),
        left in proptest::sample::select(SEPARATORS),
        right in proptest::sample::select(SEPARATORS),
    ) {
        let sample = samples::sample(shape, seed);
        let input = format!("{before}{left}{}{right}{after}", sample.text);
        let out = text(&input).into_owned();
        for s in &sample.secrets {
            prop_assert!(!out.contains(s.as_str()), "{:?}: {s:?} survived in {out:?}", shape);
        }
        let doc = serde_json::to_vec(&json!({"log": input})).unwrap();
        let out = String::from_utf8(bytes(&doc, "application/json")).unwrap();
        for s in &sample.secrets {
            prop_assert!(!out.contains(s.as_str()), "{:?} (json): {s:?} survived in {out:?}", shape);
        }
    }

    /// Redaction never panics and never grows clean text.
    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = bytes(&input, "application/json");
        let _ = bytes(&input, "text/plain");
        let s = String::from_utf8_lossy(&input);
        let once = text(&s).into_owned();
        prop_assert_eq!(text(&once).into_owned(), once);
    }
}

#[test]
fn new_text_rules_cover_the_shapes_people_paste() {
    let cases = [
        (
            "docker login -u ci -p s3cr3tPa55 registry.example.com",
            "s3cr3tPa55",
        ),
        (
            "echo x | docker login --username ci --password hunter2xyz ghcr.io",
            "hunter2xyz",
        ),
        ("mysql -uroot -pS3cretRoot -h db", "S3cretRoot"),
        (
            "curl -u admin:Adm1nPa55 https://nexus.example.com",
            "Adm1nPa55",
        ),
        (
            "request failed: Authorization: Bearer abc123 (401)",
            "abc123",
        ),
        (
            "the proxy sent Authorization: Basic cm9ib3Q6aHVudGVyMg== upstream",
            "cm9ib3Q6aHVudGVyMg",
        ),
        (
            "using basic cm9ib3Q6aHVudGVyMg== for the mirror",
            "cm9ib3Q6aHVudGVyMg",
        ),
        ("redis://:r3disPw@cache:6379/0", "r3disPw"),
        ("amqp://guest:Gu3stPw@rabbit:5672/", "Gu3stPw"),
        ("postgres://app:p@ss@db:5432/app", "ss@db"),
        (
            "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=QUJDREVGR0g=;EndpointSuffix=core.windows.net",
            "QUJDREVGR0g",
        ),
        (
            "https://x.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=AbCdEf0123%3D",
            "AbCdEf0123",
        ),
        (
            "{\"private_key_id\": \"0123456789abcdef0123\"}",
            "0123456789abcdef",
        ),
        ("env DB_PASSWORD: Pg-Pa55word-x applied", "Pg-Pa55word-x"),
        ("glpat-AbCdEfGhIjKlMnOpQrSt", "AbCdEfGhIjKlMnOpQrSt"),
        (
            "xoxb-12345678901-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "AbCdEfGhIjKl",
        ),
        (
            "AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAA",
        ),
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGX\n-----END PGP PRIVATE KEY BLOCK-----",
            "lQOYBGX",
        ),
        (
            "https://hooks.slack.com/services/T000/B000/XXXXabcd1234",
            "XXXXabcd1234",
        ),
    ];
    for (input, secret) in cases {
        let out = text(input);
        assert!(!out.contains(secret), "{input:?} -> {out:?}");
        assert!(out.contains(REDACTED), "{input:?} -> {out:?}");
    }
}

#[test]
fn placeholders_prose_and_evidence_stay_readable() {
    for input in [
        "kubectl create secret docker-registry regcred --namespace shop --docker-server=r.example.com --docker-username=<user> --docker-password=<password-or-token> --dry-run=client -o yaml | kubectl apply -f -",
        "echo \"$CI_REGISTRY_PASSWORD\" | docker login -u \"$CI_REGISTRY_USER\" --password-stdin $CI_REGISTRY",
        "PGPASSWORD=$DB_PASSWORD psql -h db",
        "      DB_PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false",
        "automountServiceAccountToken: false",
        "unable to retrieve auth token: invalid username/password: unauthorized: incorrect username or password",
        "Www-Authenticate: Bearer realm=\"https://auth.example.com/token\",service=\"r\",error=\"invalid_token\"",
        "the registry requires a Bearer token",
        "basic checks passed",
        "pg_isready -h db -p 5432",
        "docker run -p 8080:80 -u 1000:1000 nginx",
        "PWD=/workspace/app",
        "verifying github.com/go-swagger/go-swagger@v0.31.0: checksum mismatch\n\tdownloaded: h1:s/T8gKzyNAUMFMyTWew6Vz3+rpT2MYKQD6ez1FlkRrs=\n\tgo.sum:     h1:H8eOYQnY2u7vNKWDNykv2xJP3pBhRG/R+SOCAmKrLlc=",
        "docker://registry.example.com:5000/shop/api@sha256:4b2a1c0f3e5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
        "pod uid 3f1c9a7e-2b4d-4e8f-9a1b-0c2d3e4f5a6b",
    ] {
        assert_eq!(text(input), input);
    }
}

#[test]
fn named_values_hide_the_whole_value_under_a_secret_name() {
    assert_eq!(
        named_value("http.request.header.authorization", "Bearer x"),
        REDACTED
    );
    assert_eq!(named_value("DB_PASSWORD", "x"), REDACTED);
    assert_eq!(
        named_value("url.full", "https://u:p@r/v2/"),
        "https://[REDACTED]@r/v2/"
    );
    assert_eq!(named_value("k8s.pod.name", "api-0"), "api-0");
    assert_eq!(
        credential_with_scheme("Basic Zm9vOmJhcg=="),
        "Basic [REDACTED]"
    );
    assert_eq!(credential_with_scheme("opaque"), REDACTED);
}

#[test]
fn control_characters_are_escaped_for_terminals() {
    assert_eq!(escape_control("plain — text ✓"), "plain — text ✓");
    assert_eq!(
        escape_control("a\u{1b}[31mred\u{1b}[0m\0b\u{7}\r\n\t\u{9b}\u{202e}x"),
        "a\\x1b[31mred\\x1b[0m\\0b\\x07\\r\\n\\t\\u{9b}\\u{202e}x"
    );
    assert!(matches!(
        escape_control("clean"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn truncation_cuts_on_a_char_boundary() {
    let mut s = "aé€😀".to_owned(); // 1 + 2 + 3 + 4 bytes
    assert!(!truncate_at_char_boundary(&mut s, 10));
    assert!(truncate_at_char_boundary(&mut s, 5));
    assert_eq!(s, "aé");
    let mut s = "😀".to_owned();
    assert!(truncate_at_char_boundary(&mut s, 3));
    assert_eq!(s, "");
}
