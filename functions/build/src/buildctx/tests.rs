use super::*;

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// A Go service's checkout with the usual secrets lying around.
fn checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "Dockerfile", b"FROM golang:1.22 AS build\nCOPY . .\nRUN go build ./cmd/app\nFROM scratch\nCOPY --from=build /src/app /app\n");
    write(r, "go.mod", b"module example.com/app\n");
    write(r, "cmd/app/main.go", b"package main\n");
    write(r, ".git/HEAD", b"ref: refs/heads/main\n");
    write(
        r,
        ".git/config",
        b"[remote]\n url = https://x:ghp_SECRETSECRET@github.com/a/b\n",
    );
    write(r, ".env", b"DB_PASSWORD=hunter2-SECRET\n");
    write(r, ".env.production", b"TOKEN=SECRET\n");
    write(
        r,
        "deploy/tls/server.pem",
        b"-----BEGIN PRIVATE KEY-----SECRET",
    );
    write(r, "deploy/kubeconfig", b"apiVersion: v1 SECRET");
    write(
        r,
        "home/.aws/credentials",
        b"[default]\naws_secret_access_key=SECRET\n",
    );
    write(
        r,
        "keys/gcp-service-account.json",
        b"{\"private_key\":\"SECRET\"}",
    );
    write(r, "go.work", b"go 1.22\nuse ../lib\n");
    write(r, "docs/README.md", b"# docs\n");
    dir
}

#[test]
fn every_leak_kind_is_found_with_sizes_and_no_content() {
    let dir = checkout();
    let report = evaluate(dir.path(), None).unwrap();
    let paths: Vec<(&str, LeakKind)> = report
        .leaks
        .iter()
        .map(|l| (l.path.as_str(), l.kind))
        .collect();
    assert_eq!(
        paths,
        [
            (".env", LeakKind::DotEnv),
            (".env.production", LeakKind::DotEnv),
            (".git/", LeakKind::Git),
            ("deploy/kubeconfig", LeakKind::Kubeconfig),
            ("deploy/tls/server.pem", LeakKind::PrivateKey),
            ("go.work", LeakKind::GoWork),
            ("home/.aws/credentials", LeakKind::CloudCredentials),
            ("keys/gcp-service-account.json", LeakKind::CloudCredentials),
        ]
    );
    let git = report
        .leaks
        .iter()
        .find(|l| l.kind == LeakKind::Git)
        .unwrap();
    assert_eq!((git.files, git.size), (2, 21 + 58));
    assert!(!report.dockerignore);
    let subject = Subject {
        kind: "BuildContext".into(),
        namespace: None,
        name: "x".into(),
        container: None,
    };
    let d = diagnose(&report, &subject).unwrap();
    assert_eq!(d.class, Class::BuildContextLeak);
    let all = serde_json::to_string(&d).unwrap();
    assert!(!all.contains("SECRET") && !all.contains("hunter2"), "{all}");
    assert!(all.contains("deploy/tls/server.pem (33 bytes)"), "{all}");
}

#[test]
fn the_suggested_dockerignore_lines_leave_every_leak_out() {
    let dir = checkout();
    let before = evaluate(dir.path(), None).unwrap();
    let lines = ignore_lines(&before);
    write(
        dir.path(),
        ".dockerignore",
        (lines.join("\n") + "\n").as_bytes(),
    );
    let after = evaluate(dir.path(), None).unwrap();
    assert!(after.leaks.is_empty(), "{:#?}", after.leaks);
    assert!(after.dockerignore);
    // The source files still enter.
    assert!(after.files_entering >= 4, "{after:#?}");
}

#[test]
fn exceptions_re_include_inside_an_excluded_directory_and_stage_copies_do_not_count() {
    let dir = checkout();
    let r = dir.path();
    // Everything under deploy/ is excluded except the TLS directory: the key comes back.
    write(
        r,
        ".dockerignore",
        b".git\n**/.env*\nkeys\nhome\ngo.work\ndeploy\n!deploy/tls\n",
    );
    let report = evaluate(r, None).unwrap();
    let paths: Vec<&str> = report.leaks.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(paths, ["deploy/tls/server.pem"]);
    // Only named sources count: copying cmd/ and go.mod takes no leak.
    write(
        r,
        "Dockerfile",
        b"FROM golang AS b\nCOPY go.mod ./\nCOPY cmd/ cmd/\nFROM scratch\nCOPY --from=b / /\n",
    );
    let report = evaluate(r, None).unwrap();
    assert!(report.leaks.is_empty(), "{:#?}", report.leaks);
    assert_eq!(report.files_entering, 2);
}

#[test]
fn a_missing_dockerfile_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = evaluate(dir.path(), None).unwrap_err().to_string();
    assert!(
        e.starts_with("cannot read ") && e.contains("Dockerfile"),
        "{e}"
    );
}
