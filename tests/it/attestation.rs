//! The attestation round trip against real servers: Go programs built here with Debian's
//! `golang-go` from a local file proxy, `lastmile ci collect` signing a DSSE attestation,
//! images pushed to a real `docker-registry` with the binary in a layer, and
//! `lastmile image check --attestation` / `gate --attestation` reading the binary back out
//! of the registry. Then `lastmile ci report` → NATS → the `build` function hosted on its
//! JetStream consumer → `lastmile gate` failing the same CI run with the cause.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lastmile_tests::bin::lastmile_bin;
use lastmile_tests::gobuild::GoWork;
use lastmile_tests::nats::NatsServer;
use lastmile_tests::registry::{
    Pusher, Registry, RegistryAuth, TarEntry, TokenUser, linux, tar_gz, token_registry,
};

const GITHUB_ENV: &[(&str, &str)] = &[
    ("GITHUB_ACTIONS", "true"),
    ("GITHUB_SERVER_URL", "https://github.com"),
    ("GITHUB_REPOSITORY", "acme/app"),
    ("GITHUB_RUN_ID", "4242"),
    ("GITHUB_RUN_ATTEMPT", "1"),
    ("GITHUB_WORKFLOW", "ci"),
    (
        "GITHUB_WORKFLOW_REF",
        "acme/app/.github/workflows/ci.yml@refs/heads/main",
    ),
    ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
];

fn lastmile(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(lastmile_bin().unwrap());
    c.args(args).env_remove("LASTMILE_CI_RUN");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

async fn push_binary(push: &Pusher, tag: &str, bin: &Path) -> String {
    let bytes = std::fs::read(bin).unwrap();
    let layer = tar_gz(&[
        TarEntry::File("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        TarEntry::File("usr/local/bin/app", &bytes),
    ])
    .unwrap();
    let (digest, _, _) = push
        .image_with_layers(
            "team/app",
            Some(tag),
            linux("amd64"),
            true,
            &[("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
        )
        .await
        .unwrap();
    digest
}

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

/// The image check behind a token-auth registry (distribution's `auth.token`, as Docker Hub,
/// GHCR and Harbor run it): an anonymously pullable repository is read through the
/// anonymous Bearer token the registry's challenge points to; a private one is refused in
/// one line that says how to log in, never a pass, and read with a docker config's login.
#[tokio::test(flavor = "multi_thread")]
async fn the_image_check_reads_through_anonymous_and_logged_in_bearer_tokens() {
    let (_issuer, reg, push) = token_registry(
        vec![TokenUser {
            name: "ci-reader".into(),
            password: "reader-pw-789".into(),
            grants: vec![("team/app".into(), vec!["pull".into()])],
        }],
        vec![("public/app".into(), vec!["pull".into()])],
        &["public/app", "team/app"],
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let built = dir.path().join("app");
    std::fs::copy(NatsServer::binary().unwrap(), &built).unwrap();
    let bytes = std::fs::read(&built).unwrap();
    let layer = tar_gz(&[TarEntry::File("usr/local/bin/app", &bytes)]).unwrap();
    for repo in ["public/app", "team/app"] {
        push.image_with_layers(
            repo,
            Some("1"),
            linux("amd64"),
            true,
            &[("application/vnd.oci.image.layer.v1.tar+gzip", layer.clone())],
        )
        .await
        .unwrap();
    }
    let att = dir.path().join("attestation.json");
    let o = lastmile(
        &[
            "ci",
            "collect",
            p(&built),
            "--out",
            p(&att),
            "--evidence-dir",
            p(&dir.path().join("ev")),
        ],
        GITHUB_ENV,
    );
    assert!(o.status.success(), "{}", text(&o));
    let host = reg.host();
    let check = |repo: &str, pull_secret: Option<&Path>| {
        let image = format!("{host}/{repo}:1");
        let mut args = vec![
            "image",
            "check",
            &image,
            "--plain-http",
            &host,
            "--attestation",
            p(&att),
        ];
        if let Some(cfg) = pull_secret {
            args.extend(["--pull-secret", p(cfg)]);
        }
        // HOME without a docker login, so only --pull-secret can log in.
        lastmile(
            &args,
            &[("HOME", p(dir.path())), ("DOCKER_CONFIG", p(dir.path()))],
        )
    };
    let docker_config = |name: &str, password: &str| {
        let path = dir.path().join(format!("{name}.json"));
        let auth = STANDARD.encode(format!("ci-reader:{password}"));
        let json = serde_json::json!({"auths": {host.clone(): {"auth": auth}}});
        std::fs::write(&path, json.to_string()).unwrap();
        path
    };
    let o = check("public/app", None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("matches the UNSIGNED attestation (app)"),
        "{}",
        text(&o)
    );
    let o = check("team/app", None);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("refused anonymous access") && text(&o).contains("--pull-secret"),
        "{}",
        text(&o)
    );
    // The login of a docker config: Basic at the token service, then the Bearer token.
    let o = check("team/app", Some(&docker_config("good", "reader-pw-789")));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("matches the UNSIGNED attestation (app)"),
        "{}",
        text(&o)
    );
    let o = check("team/app", Some(&docker_config("bad", "wrong-pw-000")));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the token service refused the login from file")
            && !text(&o).contains("wrong-pw-000")
            && !text(&o).contains(&STANDARD.encode("ci-reader:wrong-pw-000")),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_build_step_reported_in_ci_fails_the_gate_of_that_run_with_the_cause() {
    let nats = NatsServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut host = Command::new(lastmile_bin().unwrap())
        .args(["function", "build", "--kube", "off"])
        .env("NATS_URL", nats.url())
        .env("LASTMILE_EVIDENCE_DIR", dir.path().join("evidence"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let log = dir.path().join("build.log");
    std::fs::write(
        &log,
        "+ go build ./...\ngo: downloading example.com/greet v1.1.0\nverifying example.com/greet@v1.1.0: checksum mismatch\n\tdownloaded: h1:4AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\tgo.sum:     h1:9BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n\nSECURITY ERROR\nThis download does NOT match an earlier download recorded in go.sum.\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    )
    .unwrap();
    let url = nats.url();

    // `ci collect --nats` publishes the attestation as a CI event of this run (the
    // nats-server release binary stands in for what CI built: a real Go binary).
    let client = async_nats::connect(url.as_str()).await.unwrap();
    let mut sub = client.subscribe("lastmile.ci.>").await.unwrap();
    client.flush().await.unwrap();
    let server_bin = std::env::var("LASTMILE_NATS_SERVER").unwrap();
    let att = dir.path().join("att.json");
    let o = lastmile(
        &[
            "ci",
            "collect",
            &server_bin,
            "--out",
            p(&att),
            "--evidence-dir",
            p(&dir.path().join("ci-evidence")),
            "--nats",
            &url,
        ],
        GITHUB_ENV,
    );
    assert!(o.status.success(), "{}", text(&o));
    let msg = tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut sub))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(msg.subject.as_str(), "lastmile.ci.github.build_attested");
    let ce: serde_json::Value = serde_json::from_slice(&msg.payload).unwrap();
    assert_eq!(ce["specversion"], "1.0");
    assert_eq!(ce["type"], "dev.lastmile.attestation.v1");
    assert_eq!(ce["data"]["run"]["run_id"], "4242");
    assert_eq!(ce["data"]["subjects"][0]["name"], "nats-server");
    assert_eq!(ce["data"]["signed"], false);

    let o = lastmile(
        &["ci", "report", "--log", p(&log), "--nats", &url],
        GITHUB_ENV,
    );
    assert!(o.status.success(), "{}", text(&o));

    let o = lastmile(
        &[
            "gate",
            "--ci-run",
            "github/4242",
            "--nats-url",
            &url,
            "--timeout",
            "60s",
            "--progress",
            "5s",
        ],
        &[],
    );
    let _ = host.kill();
    let _ = host.wait();
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("build.checksum_mismatch"), "{out}");
    assert!(out.contains("example.com/greet"), "{out}");
    assert!(
        !out.contains("wJalrXUtnFEMI"),
        "the log excerpt is redacted: {out}"
    );
}
