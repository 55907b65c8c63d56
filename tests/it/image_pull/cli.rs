//! The `image check` CLI against a real registry.

use super::*;

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
