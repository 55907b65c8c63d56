//! The image check behind a token-auth registry: anonymous and logged-in Bearer tokens.

use super::*;

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
