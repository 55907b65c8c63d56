//! The policy's tests: the rules it inherited from the runtime (unchanged assertions), every
//! secret shape as a table and as a property, readability of real messages, escaping and
//! truncation.
#![allow(clippy::unwrap_used)]

mod headers;
mod objects;
mod shapes;
mod text_rules;
mod values;

use serde_json::{Value, json};

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
