//! htpasswd Basic credentials from pull secrets, and Bearer tokens from a test issuer.

use super::*;

#[tokio::test]
async fn htpasswd_registry_credentials_from_pull_secrets_and_no_secret_in_evidence() {
    const PASSWORD: &str = "s3cr3t-Pa55word-xyz";
    let reg = Registry::start(
        RegistryAuth::Htpasswd(vec![("ci".into(), PASSWORD.into())]),
        None,
    )
    .await
    .unwrap();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("ci:{PASSWORD}"))
    );
    let push = Pusher::new(&reg.base_url(), Some(basic.clone()), None).unwrap();
    push.image("team/private", Some("1"), linux("arm64"), false)
        .await
        .unwrap();
    let h = http(None);
    let image = format!("{}/team/private:1", reg.host());

    assert_eq!(
        cause(&run(&h, &image, &[], &opts(&[])).await),
        Some(Cause::NoCredentials)
    );
    let wrong = run(&h, &image, &[login("ci", "nope")], &opts(&[])).await;
    assert_eq!(cause(&wrong), Some(Cause::BadCredentials), "{wrong:#?}");
    let ok = run(&h, &image, &[login("ci", PASSWORD)], &opts(&[])).await;
    assert!(matches!(ok.verdict, Verdict::Pullable { .. }), "{ok:#?}");

    let kubelet = format!(
        "Failed to pull image \"{image}\": failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials"
    );
    let inc = incident(pod_json(
        &image,
        "IfNotPresent",
        &["regcred"],
        ("ErrImagePull", &kubelet),
    ));
    let o = ProbeOptions {
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let c = ctx(h.clone());

    // The pull secret lives in another namespace: auth, with the copy command.
    let elsewhere = ProbeCredentials {
        secrets: vec![docker_secret(
            "build",
            "regcred",
            &reg.host(),
            "ci",
            PASSWORD,
        )],
        complete: true,
        ..Default::default()
    };
    let out = lastmile_fn_image_pull::diagnose::diagnose(&inc, &c, &elsewhere, &o)
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert_eq!(d.class.as_str(), "image.auth");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("exists only in namespace build")),
        "{:?}",
        d.evidence
    );
    assert!(
        d.remediation[0]
            .command
            .as_deref()
            .unwrap()
            .contains("kubectl get secret regcred --namespace build")
    );

    // A secret with the wrong password in the right namespace: the registry rejects it.
    let wrong = ProbeCredentials {
        secrets: vec![docker_secret(
            "ci",
            "regcred",
            &reg.host(),
            "ci",
            "old-password",
        )],
        complete: true,
        ..Default::default()
    };
    let out = lastmile_fn_image_pull::diagnose::diagnose(&inc, &c, &wrong, &o)
        .await
        .unwrap();
    assert_eq!(
        out.diagnoses[0].details["registry_cause"],
        "bad_credentials"
    );

    // Fixed secret: the registry serves the image, so the kubelet's text is stale.
    let fixed = ProbeCredentials {
        secrets: vec![docker_secret("ci", "regcred", &reg.host(), "ci", PASSWORD)],
        complete: true,
        ..Default::default()
    };
    let out = lastmile_fn_image_pull::diagnose::diagnose(&inc, &c, &fixed, &o)
        .await
        .unwrap();
    let d = &out.diagnoses[0];
    assert!(d.summary.contains("stale"), "{}", d.summary);
    assert!(
        d.evidence.iter().any(|e| e.contains("secret ci/regcred")),
        "{:?}",
        d.evidence
    );

    // No secret value anywhere: not the password, not the base64 auth, not the header.
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("ci:{PASSWORD}"));
    let diagnoses = serde_json::to_string(&out.diagnoses).unwrap();
    let mut everything = diagnoses.clone();
    for e in &out.evidence {
        everything.push_str(&String::from_utf8_lossy(&e.bytes));
    }
    everything.push_str(&format!("{fixed:?}{:?}", ok));
    for secret in [PASSWORD, encoded.as_str(), "old-password"] {
        assert!(
            !everything.contains(secret),
            "secret value leaked into evidence or debug output"
        );
    }
    assert!(
        everything.contains("Basic [REDACTED]"),
        "the transcript shows that Basic auth was sent, redacted"
    );
}

#[tokio::test]
async fn bearer_token_registry_scopes_and_bad_credentials() {
    let users = vec![
        TokenUser {
            name: "reader".into(),
            password: "reader-pw-123".into(),
            grants: vec![("team/app".into(), vec!["pull".into()])],
        },
        TokenUser {
            name: "outsider".into(),
            password: "outsider-pw-456".into(),
            grants: vec![("other/thing".into(), vec!["pull".into()])],
        },
    ];
    let (issuer, reg, push) = token_registry(
        users,
        vec![("public/base".into(), vec!["pull".into()])],
        &["team/app", "public/base"],
    )
    .await
    .unwrap();
    push.image("team/app", Some("1.0"), linux("amd64"), true)
        .await
        .unwrap();
    let token = issuer
        .mint("ci", &[("public/base", &["pull", "push"])])
        .unwrap();
    Pusher::new(&reg.base_url(), Some(format!("Bearer {token}")), None)
        .unwrap()
        .image("public/base", Some("1"), linux("amd64"), true)
        .await
        .unwrap();
    let h = http(None);
    let image = format!("{}/team/app:1.0", reg.host());

    let public = run(
        &h,
        &format!("{}/public/base:1", reg.host()),
        &[],
        &opts(&[]),
    )
    .await;
    assert!(
        matches!(public.verdict, Verdict::Pullable { .. }),
        "anonymous token with pull scope: {public:#?}"
    );
    let anon = run(&h, &image, &[], &opts(&[])).await;
    assert_eq!(cause(&anon), Some(Cause::AccessDenied), "{anon:#?}");
    let wrong = run(&h, &image, &[login("reader", "nope")], &opts(&[])).await;
    assert_eq!(cause(&wrong), Some(Cause::BadCredentials), "{wrong:#?}");
    let outsider = run(
        &h,
        &image,
        &[login("outsider", "outsider-pw-456")],
        &opts(&[]),
    )
    .await;
    assert_eq!(
        cause(&outsider),
        Some(Cause::InsufficientScope),
        "{outsider:#?}"
    );
    let reader = run(&h, &image, &[login("reader", "reader-pw-123")], &opts(&[])).await;
    assert!(
        matches!(reader.verdict, Verdict::Pullable { .. }),
        "{reader:#?}"
    );

    // The transcript shows the token step but never the token or the password.
    let json = serde_json::to_string(&reader.transcript).unwrap();
    assert!(
        json.contains("\"step\":\"token\"") && json.contains("Bearer [REDACTED]"),
        "{json}"
    );
    assert!(
        !json.contains("reader-pw-123") && !json.contains("eyJ"),
        "{json}"
    );
}
