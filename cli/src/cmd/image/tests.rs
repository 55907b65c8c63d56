use super::*;

#[test]
fn images_are_read_from_multi_doc_yaml_lists_and_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
            dir.path().join("deploy.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: migrate\n        image: ghcr.io/acme/migrate:1.2\n      containers:\n      - name: api\n        image: ghcr.io/acme/api:1.2\n---\napiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: c\n            image: busybox\n",
        )
        .unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/pod.json"), r#"{"kind":"List","items":[{"kind":"Pod","spec":{"containers":[{"name":"x","image":"nginx:1.27"}]}}]}"#).unwrap();
    std::fs::write(dir.path().join("README.md"), "image: not-me").unwrap();
    let imgs = images_in_manifests(dir.path()).unwrap();
    assert_eq!(
        imgs,
        [
            "ghcr.io/acme/migrate:1.2",
            "ghcr.io/acme/api:1.2",
            "busybox",
            "nginx:1.27"
        ]
    );
}

#[test]
fn pull_secret_files_in_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("s.yaml");
    // {"auths":{"r.example":{"auth":"dTpw"}}} base64-encoded, as kubectl prints it.
    std::fs::write(&secret, "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/dockerconfigjson\nmetadata:\n  name: regcred\ndata:\n  .dockerconfigjson: eyJhdXRocyI6eyJyLmV4YW1wbGUiOnsiYXV0aCI6ImRUcHcifX19\n").unwrap();
    assert_eq!(
        read_pull_secret(&secret).unwrap().registries(),
        ["r.example"]
    );
    let cfg = dir.path().join("config.json");
    std::fs::write(
        &cfg,
        r#"{"auths":{"ghcr.io":{"username":"u","password":"topsecret"}}}"#,
    )
    .unwrap();
    assert_eq!(read_pull_secret(&cfg).unwrap().registries(), ["ghcr.io"]);
    std::fs::write(&cfg, r#"{"auths":{"ghcr.io":{"auth":"topsecret!!"}}}"#).unwrap();
    let err = read_pull_secret(&cfg).unwrap_err().to_string();
    assert!(!err.contains("topsecret"), "{err}");
}
