//! The base OS read from real gzip tar layers within the byte cap.

use super::*;

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
