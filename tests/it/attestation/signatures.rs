//! Signed attestations read back out of the registry: an attested image passes, a drifted
//! rebuild and a tampered signature fail, and a cosign encrypted key signs with
//! `COSIGN_PASSWORD`.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn attested_image_passes_drifted_rebuild_and_tampered_signature_fail() {
    let go = GoWork::new().unwrap();
    go.publish("proxy", "v1.0.0", "hello").unwrap();
    go.publish("proxy", "v1.1.0", "hello again").unwrap();
    go.app("v1.0.0").unwrap();
    std::fs::create_dir_all(go.path("ci")).unwrap();
    std::fs::create_dir_all(go.path("drift")).unwrap();
    let built = go.path("ci/app");
    go.build(&built, &["-trimpath"], "proxy", "ci").unwrap();

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let (key_pem, pub_pem) = (go.path("cosign.key"), go.path("cosign.pub"));
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    std::fs::write(&pub_pem, key.public_key_pem()).unwrap();

    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    let digest = push_binary(&push, "1", &built).await;
    let image = format!("{}/team/app:1", reg.host());

    let att = go.path("attestation.json");
    let evidence = go.path("evidence");
    let o = lastmile(
        &[
            "ci",
            "collect",
            p(&built),
            "--image",
            &format!("{}/team/app@{digest}", reg.host()),
            "--go-sum",
            p(&go.path("app/go.sum")),
            "--key",
            p(&key_pem),
            "--out",
            p(&att),
            "--evidence-dir",
            p(&evidence),
        ],
        GITHUB_ENV,
    );
    assert!(o.status.success(), "{}", text(&o));
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&att).unwrap()).unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let statement: serde_json::Value = serde_json::from_slice(
        &STANDARD
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(statement["subject"][0]["name"], "app");
    assert_eq!(
        statement["subject"][1]["digest"]["sha256"],
        digest.trim_start_matches("sha256:")
    );
    let pred = &statement["predicate"];
    assert_eq!(
        pred["runDetails"]["metadata"]["invocationId"],
        "https://github.com/acme/app/actions/runs/4242/attempts/1"
    );
    let deps = pred["buildDefinition"]["resolvedDependencies"].to_string();
    assert!(
        deps.contains("go.sum") && deps.contains("pkg:golang/example.com/greet@v1.0.0"),
        "{deps}"
    );
    assert_eq!(
        pred["buildDefinition"]["internalParameters"]["binaries"][0]["settings"]["-trimpath"],
        "true"
    );
    // Stored as evidence: the attestation object is in the directory.
    let stored = std::fs::read_dir(evidence.join("objects/sha256"))
        .unwrap()
        .count();
    assert_eq!(stored, 1);

    let check = |image: &str, att: &Path, key: bool| {
        let mut args = vec![
            "image",
            "check",
            image,
            "--plain-http",
            Box::leak(reg.host().into_boxed_str()),
            "--attestation",
            p(att),
        ];
        if key {
            args.extend(["--public-key", p(&pub_pem)]);
        }
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        lastmile(&args, &[])
    };

    // The image CI built and attested passes.
    let o = check(&image, &att, true);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("matches the signed attestation (app)"),
        "{}",
        text(&o)
    );

    // Rebuilt with the dependency drifted to v1.1.0 and pushed under another tag: fails,
    // naming the module and both versions.
    go.app("v1.1.0").unwrap();
    let drifted = go.path("drift/app");
    go.build(&drifted, &["-trimpath"], "proxy", "drift")
        .unwrap();
    push_binary(&push, "2", &drifted).await;
    let image2 = format!("{}/team/app:2", reg.host());
    let o = check(&image2, &att, true);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("build.dependency_drift"), "{out}");
    assert!(
        out.contains("example.com/greet") && out.contains("v1.0.0") && out.contains("v1.1.0"),
        "{out}"
    );
    // The gate option reaches the same verdict.
    let host = reg.host();
    let o = lastmile(
        &[
            "gate",
            "--attestation",
            p(&att),
            "--image",
            &image2,
            "--public-key",
            p(&pub_pem),
            "--plain-http",
            &host,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("example.com/greet"), "{}", text(&o));

    // A tampered statement (the attested sha256 swapped for the drifted binary's) no
    // longer verifies: refused, never a pass.
    let mut tampered = envelope.clone();
    let forged = serde_json::to_string(&statement)
        .unwrap()
        .replace("\"v1.0.0\"", "\"v1.1.0\"");
    tampered["payload"] = STANDARD.encode(forged).into();
    let bad = go.path("tampered.json");
    std::fs::write(&bad, serde_json::to_vec(&tampered).unwrap()).unwrap();
    let o = check(&image2, &bad, true);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("signature does not verify"),
        "{}",
        text(&o)
    );
    // Another key: refused too.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    std::fs::write(&pub_pem, other.public_key_pem()).unwrap();
    let o = check(&image, &att, true);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// A key made by `cosign generate-key-pair` (here: the same format written by Go's own
/// scrypt and secretbox) signs with `COSIGN_PASSWORD`, and `cosign.pub` verifies the image;
/// a missing or wrong password is refused in one line that never echoes it.
#[tokio::test(flavor = "multi_thread")]
async fn a_cosign_encrypted_key_signs_with_cosign_password_and_the_image_check_verifies() {
    let go = GoWork::new().unwrap();
    std::fs::create_dir_all(go.path("ci")).unwrap();
    // The Go binary attested: the real nats-server release the test set-up installs.
    let built = go.path("ci/app");
    std::fs::copy(NatsServer::binary().unwrap(), &built).unwrap();
    let password = "c0rrect-h0rse-battery";
    let (key_pem, pub_pem) = go.cosign_key_pair(&go.path("ci"), password).unwrap();
    assert!(
        std::fs::read_to_string(&key_pem)
            .unwrap()
            .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    );

    let reg = Registry::start(RegistryAuth::None, None).await.unwrap();
    let push = Pusher::new(&reg.base_url(), None, None).unwrap();
    let digest = push_binary(&push, "1", &built).await;
    let att = go.path("attestation.json");
    let evidence = go.path("evidence");
    let image_ref = format!("{}/team/app@{digest}", reg.host());
    let collect = |env: &[(&str, &str)]| {
        lastmile(
            &[
                "ci",
                "collect",
                p(&built),
                "--image",
                &image_ref,
                "--key",
                p(&key_pem),
                "--out",
                p(&att),
                "--evidence-dir",
                p(&evidence),
            ],
            env,
        )
    };
    // No password, then a wrong one: exit 2, one line naming the variable, no secret.
    let o = collect(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("COSIGN_PASSWORD"), "{}", text(&o));
    let o = collect(&[("COSIGN_PASSWORD", "hunter2-wrong")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("wrong COSIGN_PASSWORD") && !text(&o).contains("hunter2-wrong"),
        "{}",
        text(&o)
    );
    assert!(
        !att.exists(),
        "nothing is written when the key does not open"
    );

    let mut env = GITHUB_ENV.to_vec();
    env.push(("COSIGN_PASSWORD", password));
    let o = collect(&env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains(password), "{}", text(&o));
    let host = reg.host();
    let o = lastmile(
        &[
            "image",
            "check",
            &format!("{host}/team/app:1"),
            "--plain-http",
            &host,
            "--attestation",
            p(&att),
            "--public-key",
            p(&pub_pem),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("matches the signed attestation (app)"),
        "{}",
        text(&o)
    );
}
