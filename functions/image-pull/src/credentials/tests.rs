use super::*;
use k8s_openapi::ByteString;

fn img(s: &str) -> ImageRef {
    ImageRef::parse(s).unwrap()
}

#[test]
fn kubelet_host_matching_rules() {
    let i = img("registry.example.com:5000/team/app:1");
    assert!(key_matches("registry.example.com:5000", &i));
    assert!(key_matches("https://registry.example.com:5000/v2/", &i));
    assert!(key_matches("*.example.com:5000", &i));
    assert!(key_matches("registry.example.com:5000/team", &i));
    assert!(!key_matches("registry.example.com:5000/other", &i));
    assert!(!key_matches("registry.example.com", &i), "port must match");
    assert!(
        !key_matches("*.com:5000", &i),
        "a glob matches one label only"
    );
    let hub = img("acme/private:1");
    for k in [
        "https://index.docker.io/v1/",
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
    ] {
        assert!(key_matches(k, &hub), "{k}");
    }
}

#[test]
fn dockerconfigjson_and_legacy_dockercfg_parse() {
    let auth = STANDARD.encode("u:p:w");
    let json = format!(
        r#"{{"auths":{{"r.example":{{"auth":"{auth}"}},"*.example":{{"username":"x","password":"y"}}}}}}"#
    );
    let cfg = DockerConfig::parse(json.as_bytes(), "t").unwrap();
    let hits = cfg.lookup(&img("r.example/a"));
    assert_eq!(
        hits.len(),
        2,
        "the exact key and the one-label glob both match"
    );
    assert_eq!(
        (hits[0].username.as_str(), hits[0].password.as_str()),
        ("u", "p:w")
    );
    let legacy = format!(r#"{{"https://r.example":{{"auth":"{auth}","email":"e"}}}}"#);
    assert_eq!(
        DockerConfig::parse(legacy.as_bytes(), "t")
            .unwrap()
            .lookup(&img("r.example/a"))
            .len(),
        1
    );
    let err = DockerConfig::parse(br#"{"auths":{"r":{"auth":"!!!"}}}"#, "t")
        .err()
        .unwrap();
    assert_eq!(err, DockerConfigError::AuthNotBase64 { entry: "r".into() });
    let err = err.to_string();
    assert!(err.contains("not base64") && !err.contains("!!!"));
}

fn secret(ns: &str, name: &str, ty: &str, key: &str, body: &str) -> Secret {
    let mut s = Secret::default();
    s.metadata.name = Some(name.into());
    s.metadata.namespace = Some(ns.into());
    s.type_ = Some(ty.into());
    s.data = Some([(key.to_owned(), ByteString(body.as_bytes().to_vec()))].into());
    s
}

fn pod_with(secrets: &[&str]) -> Pod {
    serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ci"},
            "spec": {"containers": [{"name": "c", "image": "r.example/a"}],
                     "imagePullSecrets": secrets.iter().map(|n| serde_json::json!({"name": n})).collect::<Vec<_>>()}
        }))
        .unwrap()
}

#[test]
fn secret_problems_are_named() {
    let good = r#"{"auths":{"other.example":{"auth":"dTpw"}}}"#;
    let creds = ProbeCredentials {
        secrets: vec![
            secret(
                "ci",
                "wrong-host",
                "kubernetes.io/dockerconfigjson",
                ".dockerconfigjson",
                good,
            ),
            secret("ci", "opaque", "Opaque", ".dockerconfigjson", good),
            secret(
                "prod",
                "elsewhere",
                "kubernetes.io/dockerconfigjson",
                ".dockerconfigjson",
                good,
            ),
        ],
        complete: true,
        ..Default::default()
    };
    let sel = select(
        Some(&pod_with(&["wrong-host", "opaque", "elsewhere", "gone"])),
        &img("r.example/a"),
        &creds,
    );
    assert!(sel.candidates.is_empty());
    let kinds: Vec<String> = sel
        .problems
        .iter()
        .map(|p| {
            serde_json::to_value(p).unwrap()["problem"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "no_matching_entry",
            "malformed",
            "other_namespace",
            "missing"
        ]
    );
}
