//! Secret redaction: the one step every byte passes before it is written to evidence, and
//! that logs and spans can use for any text they echo.
//!
//! Two views of the same policy:
//! - [`json`] walks a JSON document: values under sensitive keys (`password`, `token`,
//!   `authorization`, `.dockerconfigjson`, …, case-insensitive), every value of a Kubernetes
//!   Secret's `data` / `stringData`, every container `env[].value` (env values are secrets by
//!   policy), `{"name": "Authorization", "value": …}` pairs, and JSON embedded in strings
//!   (`kubectl.kubernetes.io/last-applied-configuration`). Every other string goes through
//!   the text rules. Names stay (`imagePullSecrets`, `secretKeyRef.name`) because they are
//!   the evidence of what is missing.
//! - [`text`] rewrites free text: `Authorization:` / `Cookie:` / `X-Hub-Signature:` headers,
//!   `Bearer` tokens, `scheme://user:pass@host` URLs, JWTs, AWS access key ids, well-known
//!   token formats, `password=…`-style pairs, PEM private keys and base64 docker configs.
//!
//! Why rules over a secret scanner's entropy heuristics: evidence must stay readable (digests,
//! image names, UIDs are high-entropy and are the proof), and a false negative is a leak,
//! so the rules aim at where secrets *are* by construction (keys, headers, env) rather than
//! at what they look like. Redaction fails closed: bytes that cannot be parsed as the
//! declared type still get the text rules.

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine as _;
use regex::bytes::{Captures, Regex};
use serde_json::Value;

/// What replaces every secret.
pub const REDACTED: &str = "[REDACTED]";

/// Redacts `bytes` of media type `media_type` (JSON-aware for `application/json`,
/// `*+json` and NDJSON; text rules for everything else). Returns the input unchanged when
/// nothing needed redacting, so content hashes of clean evidence are the hashes of its bytes.
pub fn bytes(input: &[u8], media_type: &str) -> Vec<u8> {
    if is_json_media_type(media_type)
        && let Some(out) = json_bytes(input)
    {
        return out;
    }
    text_bytes(input).into_owned()
}

/// Redacts free text (a log line, an event message, an HTTP transcript).
pub fn text(input: &str) -> Cow<'_, str> {
    match text_bytes(input.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(input),
        // The rules replace ASCII spans with ASCII, so valid UTF-8 stays valid; be lossy
        // rather than panic should that ever change.
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// Redacts a JSON document in place. Returns true when anything was replaced.
pub fn json(value: &mut Value) -> bool {
    walk(value, false)
}

/// True for media types whose bytes are JSON documents (or JSON lines).
pub fn is_json_media_type(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/x-ndjson"
        || essence == "application/jsonl"
        || essence == "application/json-seq"
}

/// JSON (or JSON-lines) bytes redacted and re-serialised; `None` when they are not JSON.
fn json_bytes(input: &[u8]) -> Option<Vec<u8>> {
    if let Ok(mut value) = serde_json::from_slice::<Value>(input) {
        if !json(&mut value) {
            return Some(input.to_vec());
        }
        return serde_json::to_vec_pretty(&value).ok();
    }
    // JSON lines: every non-empty line must be a document.
    let text = std::str::from_utf8(input).ok()?;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.trim().is_empty() {
            out.push('\n');
            continue;
        }
        let mut value = serde_json::from_str::<Value>(line).ok()?;
        json(&mut value);
        out.push_str(&serde_json::to_string(&value).ok()?);
        out.push('\n');
    }
    Some(out.into_bytes())
}

/// Walks `value`; `sensitive` says the enclosing key names a secret, so scalars go.
fn walk(value: &mut Value, sensitive: bool) -> bool {
    match value {
        Value::String(_) | Value::Number(_) if sensitive => replace_scalar(value),
        Value::String(s) => redact_string(s),
        Value::Array(items) => {
            let mut changed = redact_header_pair(items);
            for item in items.iter_mut() {
                changed |= walk(item, sensitive);
            }
            changed
        }
        Value::Object(map) => {
            let secret_object = map.get("kind").and_then(Value::as_str) == Some("Secret");
            let mut changed = false;
            // `{"name": "Authorization", "value": "…"}` (HAR headers, HTTP probes).
            if map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(is_sensitive_key)
                && let Some(v) = map.get_mut("value")
            {
                changed |= walk(v, true);
            }
            for (key, child) in map.iter_mut() {
                changed |= if secret_object && (key == "data" || key == "stringData") {
                    redact_all_values(child)
                } else if key == "env" {
                    redact_env(child)
                } else {
                    walk(child, is_sensitive_key(key))
                };
            }
            changed
        }
        Value::Bool(_) | Value::Null | Value::Number(_) => false,
    }
}

/// Replaces a non-empty string or a number; returns true when it changed anything.
fn replace_scalar(value: &mut Value) -> bool {
    match value {
        Value::String(s) if s.is_empty() || s == REDACTED => false,
        Value::String(_) | Value::Number(_) => {
            *value = Value::String(REDACTED.to_owned());
            true
        }
        Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

/// A free string: JSON embedded in it is redacted as JSON, anything else by the text rules.
fn redact_string(s: &mut String) -> bool {
    let trimmed = s.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(mut inner) = serde_json::from_str::<Value>(s)
    {
        if json(&mut inner)
            && let Ok(out) = serde_json::to_string(&inner)
        {
            *s = out;
            return true;
        }
        return false;
    }
    match text(s) {
        Cow::Borrowed(_) => false,
        Cow::Owned(out) => {
            *s = out;
            true
        }
    }
}

/// `["Authorization", "Bearer …"]` header pairs.
fn redact_header_pair(items: &mut [Value]) -> bool {
    if let [Value::String(name), value @ Value::String(_)] = items
        && is_sensitive_key(name)
    {
        return replace_scalar(value);
    }
    false
}

/// Every value of a Secret's `data` / `stringData` map, keys kept.
fn redact_all_values(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => map
            .values_mut()
            .fold(false, |c, v| redact_all_values(v) | c),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |c, v| redact_all_values(v) | c),
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => replace_scalar(value),
    }
}

/// Container `env`: `[{name, value | valueFrom}]`. Values go, names and refs stay.
fn redact_env(value: &mut Value) -> bool {
    let Value::Array(items) = value else {
        return walk(value, false);
    };
    let mut changed = false;
    for item in items {
        if let Value::Object(var) = item
            && var.contains_key("name")
            && let Some(v) = var.get_mut("value")
        {
            changed |= redact_all_values(v);
        }
        changed |= walk(item, false);
    }
    changed
}

/// Key names that hold secrets, compared lowercase with `-`, `_`, `.` and spaces removed.
const SENSITIVE_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "bearertoken",
    "sessiontoken",
    "secret",
    "clientsecret",
    "secretaccesskey",
    "authorization",
    "proxyauthorization",
    "auth",
    "dockerconfigjson",
    "dockercfg",
    "apikey",
    "privatekey",
    "cookie",
    "setcookie",
    "xhubsignature",
    "xhubsignature256",
    "xgitlabtoken",
    "identitytoken",
    "registrytoken",
    "credentials",
];

/// Suffixes that make a compound key sensitive (`githubToken`, `db_password`).
const SENSITIVE_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "token",
    "secret",
    "apikey",
    "privatekey",
    "secretkey",
];

/// True when a JSON key or header name names a secret.
pub fn is_sensitive_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    SENSITIVE_KEYS.contains(&norm.as_str())
        || norm.starts_with("xhubsignature")
        || SENSITIVE_SUFFIXES.iter().any(|s| norm.ends_with(s))
}

/// The words that make a `key=value` key secret (case-insensitive, as a key suffix).
const SECRET_WORDS: &str = r"(?:password|passwd|pwd|passphrase|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|auth)";
/// Where a header name may start: line start, right after a quote, after curl's `-H`.
const HEADER_AT: &str = r#"(?:^[ \t]*|["']|(?:-H|--header)[ \t=]+)"#;
/// An unquoted value: not starting with a bracket, so `[REDACTED]` is never re-matched.
const BARE_VALUE: &str = r#"[^\s"'&,;\[\]{}][^\s"'&,;\]}]*"#;

struct Rule {
    re: Regex,
    /// Replacement with `$name` groups kept; the secret part becomes [`REDACTED`].
    keep: &'static str,
}

fn rule(pattern: &str, keep: &'static str) -> Option<Rule> {
    match Regex::new(pattern) {
        Ok(re) => Some(Rule { re, keep }),
        Err(e) => {
            // A bad built-in pattern is a bug caught by the unit tests; never panic in use.
            tracing::error!(error = %e, "Redaction pattern does not compile.");
            None
        }
    }
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    [
        // PEM private keys, whole block.
        rule(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\z)",
            "[REDACTED]",
        ),
        // Headers whose whole value is a secret: keep the name (and the auth scheme). Only
        // where a header is written (line start, quoted key, curl -H), never mid-sentence:
        // "may require authorization: server message: …" is the evidence, not a secret.
        rule(
            &format!(
                r#"(?im)(?P<k>{HEADER_AT}(?:proxy-)?authorization\\?"?[ \t]*[:=][ \t]*\\?"?(?:(?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)[ \t]+)?)[^\s"'\\][^"'\r\n\\]*"#
            ),
            "${k}[REDACTED]",
        ),
        rule(
            &format!(
                r#"(?im)(?P<k>{HEADER_AT}(?:set-cookie|cookie|x-hub-signature(?:-256)?|x-gitlab-token|x-api-key|api-key|private-token)\\?"?[ \t]*:[ \t]*\\?"?)[^\s"'\\][^"'\r\n\\]*"#
            ),
            "${k}[REDACTED]",
        ),
        // A bearer token anywhere (long enough not to be `Bearer realm=`).
        rule(r"(?i)(?P<k>\bbearer\s+)[A-Za-z0-9\-._~+/]{16,}=*", "${k}[REDACTED]"),
        // scheme://user:password@host
        rule(r#"(?i)(?P<k>\b[a-z][a-z0-9+.\-]*://)[^/\s:@"'<>]+:[^/\s@"'<>]*@"#, "${k}[REDACTED]@"),
        // JWTs.
        rule(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*", "[REDACTED]"),
        // AWS access key ids.
        rule(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b", "[REDACTED]"),
        // Well-known token formats: GitHub, GitLab, Slack, npm, PyPI.
        rule(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_\-]{20,}|xox[abprs]-[A-Za-z0-9\-]{10,}|npm_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_\-]{30,})",
            "[REDACTED]",
        ),
        // key=value pairs whose key names a secret (flags, env dumps, query strings).
        rule(&format!(r#"(?i)(?P<k>\b[a-z0-9_.\-]*{SECRET_WORDS}\s*=\s*")[^"\r\n]*"#), "${k}[REDACTED]"),
        rule(&format!(r#"(?i)(?P<k>\b[a-z0-9_.\-]*{SECRET_WORDS}\s*=\s*){BARE_VALUE}"#), "${k}[REDACTED]"),
        // "key": "value" in JSON that reached us as text.
        rule(&format!(r#"(?i)(?P<k>"[a-z0-9_.\-]*{SECRET_WORDS}"\s*:\s*")[^"\r\n]*"#), "${k}[REDACTED]"),
        rule(&format!(r#"(?i)(?P<k>"[a-z0-9_.\-]*{SECRET_WORDS}"\s*:\s*){BARE_VALUE}"#), "${k}[REDACTED]"),
        // `key: value` only at the start of a line (YAML, env listings): mid-sentence
        // "anonymous token: unexpected status" is an error message, not a secret.
        rule(
            &format!(
                r#"(?im)(?P<k>^[ \t]*(?:-[ \t]+)?[a-z0-9_.\-]*{SECRET_WORDS}[ \t]*:[ \t]+)(?:"[^"\r\n]*"|[^\s"'\[\]{{}}|>][^\r\n]*)"#
            ),
            "${k}[REDACTED]",
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// Base64 runs long enough to hide a docker config.
static BASE64_RUN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/]{24,}={0,2}").ok());

fn text_bytes(input: &[u8]) -> Cow<'_, [u8]> {
    let mut current: Cow<'_, [u8]> = Cow::Borrowed(input);
    for rule in RULES.iter() {
        let replaced = rule.re.replace_all(&current, |caps: &Captures<'_>| {
            let mut out = Vec::new();
            caps.expand(rule.keep.as_bytes(), &mut out);
            out
        });
        if let Cow::Owned(bytes) = replaced {
            current = Cow::Owned(bytes);
        }
    }
    if let Some(re) = BASE64_RUN.as_ref() {
        let replaced = re.replace_all(&current, |caps: &Captures<'_>| {
            let run = caps.get(0).map(|m| m.as_bytes()).unwrap_or_default();
            if base64_hides_secret(run) {
                REDACTED.as_bytes().to_vec()
            } else {
                run.to_vec()
            }
        });
        if let Cow::Owned(bytes) = replaced {
            current = Cow::Owned(bytes);
        }
    }
    // Matches replaced by themselves (a base64 run that hides nothing) are no change.
    match current {
        Cow::Owned(bytes) if bytes == input => Cow::Borrowed(input),
        other => other,
    }
}

/// True when a base64 run decodes to a docker config or a secret-keyed document.
fn base64_hides_secret(run: &[u8]) -> bool {
    let engine = base64::engine::general_purpose::STANDARD;
    let decoded = engine.decode(run).or_else(|_| {
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(run.strip_suffix(b"=").unwrap_or(run))
    });
    let Ok(decoded) = decoded else { return false };
    let Ok(decoded) = std::str::from_utf8(&decoded) else {
        return false;
    };
    let lower = decoded.to_ascii_lowercase();
    lower.contains("\"auths\"")
        || lower.contains("\"auth\"")
        || lower.contains("\"password\"")
        || lower.contains("private key-----")
        || !matches!(text(decoded), Cow::Borrowed(_))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let mut v = json!({"kind": "Secret", "stringData": {"PORT": 5432, "url": "x"}, "data": {"a": "YQ=="}});
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
}
