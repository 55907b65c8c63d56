//! `lastmile ci report` → NATS → the `build` function → `lastmile gate` failing the same CI
//! run with the cause.

use super::*;

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
