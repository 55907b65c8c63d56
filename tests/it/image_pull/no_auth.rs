//! An open registry: tags, repositories, platforms and references, probed directly and through the function.

use super::*;

#[tokio::test]
async fn no_auth_registry_tags_repos_platforms_and_references() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    push.image("team/app", Some("1.0"), linux("amd64"), false)
        .await
        .unwrap();
    push.image("team/app", Some("1.2.0"), linux("amd64"), true)
        .await
        .unwrap();
    push.index(
        "team/multi",
        "2.0",
        &[
            linux("amd64"),
            Plat {
                os: "linux",
                arch: "arm64",
                variant: Some("v8"),
            },
        ],
        true,
    )
    .await
    .unwrap();
    push.index(
        "team/dlist",
        "3.0",
        &[
            linux("amd64"),
            Plat {
                os: "linux",
                arch: "arm",
                variant: Some("v7"),
            },
        ],
        false,
    )
    .await
    .unwrap();
    let h = http(None);
    let host = reg.host();

    // Plain-HTTP loopback registry: HTTPS first, then the containerd-style fallback.
    let ok = run(&h, &format!("{host}/team/app:1.0"), &[], &opts(&[])).await;
    assert!(
        matches!(&ok.verdict, Verdict::Pullable { media_type, .. } if media_type.contains("docker.distribution.manifest.v2")),
        "{ok:#?}"
    );
    assert_eq!(
        ok.transcript.entries[0]
            .error
            .as_deref()
            .map(|e| e.starts_with("NotTls")),
        Some(true),
        "{:#?}",
        ok.transcript
    );
    assert_eq!(
        ok.transcript.entries[1].request_headers["accept"],
        lastmile_fn_image_pull::platform::CONTAINERD_ACCEPT
    );

    let tag = run(&h, &format!("{host}/team/app:1.1"), &[], &opts(&[])).await;
    assert_eq!(cause(&tag), Some(Cause::TagNotFound), "{tag:#?}");
    assert_eq!(
        tag.nearest_tags.first().map(String::as_str),
        Some("1.0"),
        "{:?}",
        tag.nearest_tags
    );

    let repo = run(&h, &format!("{host}/team/nope:1"), &[], &opts(&[])).await;
    assert_eq!(cause(&repo), Some(Cause::RepositoryNotFound), "{repo:#?}");

    let arm = run(
        &h,
        &format!("{host}/team/multi:2.0"),
        &[],
        &opts(&["linux/arm64"]),
    )
    .await;
    assert!(matches!(arm.verdict, Verdict::Pullable { .. }), "{arm:#?}");
    let s390 = run(
        &h,
        &format!("{host}/team/multi:2.0"),
        &[],
        &opts(&["linux/s390x"]),
    )
    .await;
    assert_eq!(cause(&s390), Some(Cause::PlatformNoMatch));
    assert_eq!(
        s390.published_platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["linux/amd64", "linux/arm64/v8"]
    );
    let armv6 = run(
        &h,
        &format!("{host}/team/dlist:3.0"),
        &[],
        &opts(&["linux/arm/v6"]),
    )
    .await;
    assert_eq!(
        cause(&armv6),
        Some(Cause::PlatformNoMatch),
        "a Docker manifest list with arm/v7 does not serve arm/v6"
    );
    let single = run(
        &h,
        &format!("{host}/team/app:1.2.0"),
        &[],
        &opts(&["linux/arm64"]),
    )
    .await;
    assert_eq!(
        cause(&single),
        Some(Cause::PlatformNoMatch),
        "single-arch OCI image's config says amd64: {single:#?}"
    );

    let invalid = run(&h, &format!("{host}/team/App:1"), &[], &opts(&[])).await;
    assert_eq!(cause(&invalid), Some(Cause::InvalidReference));
    assert!(
        invalid.transcript.entries.is_empty(),
        "an invalid reference is never sent"
    );
}

#[tokio::test]
async fn function_probes_with_the_node_platform_and_flags_stale_kubelet_text() {
    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    push.image("team/api", Some("1.4.2"), linux("amd64"), false)
        .await
        .unwrap();
    let image = format!("{}/team/api:1.4.2", reg.host());

    // The kubelet said "not found", but the tag exists now; the node is arm64 and the image
    // is amd64 only: the registry's answer wins and says so.
    let text = format!(
        "Back-off pulling image \"{image}\": ErrImagePull: failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
    );
    let inc = incident(pod_json(
        &image,
        "IfNotPresent",
        &[],
        ("ImagePullBackOff", &text),
    ));
    let out = lastmile_fn_image_pull::handle(&inc, &ctx(http(None)))
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.platform_mismatch", "{d:#?}");
    assert_eq!(d.details["differs"], true);
    assert_eq!(d.details["kubelet_cause"], "tag_not_found");
    assert!(
        d.summary
            .contains("the registry's answer now says image.platform_mismatch"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("published platforms: linux/amd64")),
        "{:?}",
        d.evidence
    );
    assert!(d.remediation.iter().any(|r| {
        r.command
            .as_deref()
            .is_some_and(|c| c.contains("kubernetes.io/arch") && c.contains("amd64"))
    }));
    let transcript = out
        .evidence
        .iter()
        .find(|e| e.name == "probe-transcript.json")
        .expect("transcript stored");
    let t: serde_json::Value = serde_json::from_slice(&transcript.bytes).unwrap();
    assert!(t[0]["transcript"]["entries"].as_array().unwrap().len() >= 3);

    // The same pod on an amd64 node would pull now: stale text, not definitive.
    let mut inc2 = inc.clone();
    std::sync::Arc::make_mut(&mut inc2.snapshot).nodes.clear();
    let out = lastmile_fn_image_pull::handle(&inc2, &ctx(http(None)))
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.not_found");
    assert!(!d.definitive && d.confidence < 0.6, "{d:#?}");
    assert!(d.summary.contains("stale"), "{}", d.summary);

    // imagePullPolicy Never: nothing is asked of the registry.
    let never = format!("Container image \"{image}\" is not present with pull policy of Never");
    let inc3 = incident(pod_json(
        &image,
        "Never",
        &[],
        ("ErrImageNeverPull", &never),
    ));
    let out = lastmile_fn_image_pull::handle(&inc3, &ctx(http(None)))
        .await
        .unwrap();
    assert_eq!(out.diagnoses[0].class.as_str(), "image.never_pull");
    assert!(
        out.evidence
            .iter()
            .all(|e| e.name != "probe-transcript.json")
    );
}
