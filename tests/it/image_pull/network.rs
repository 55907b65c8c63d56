//! TLS from a test CA, network failures and a 429 server.

use super::*;

#[tokio::test]
async fn tls_registry_trusted_untrusted_and_wrong_name() {
    let ca = TestCa::new("lastmile test CA").unwrap();
    let reg = Registry::start(
        RegistryAuth::None,
        Some(ca.issue(&["127.0.0.1", "localhost"]).unwrap()),
    )
    .await
    .unwrap();
    Pusher::new(&reg.base_url(), None, Some(&ca.pem()))
        .unwrap()
        .image("team/app", Some("1"), linux("amd64"), false)
        .await
        .unwrap();
    let image = format!("{}/team/app:1", reg.host());

    let untrusted = run(&http(None), &image, &[], &opts(&[])).await;
    assert_eq!(
        cause(&untrusted),
        Some(Cause::TlsUnknownAuthority),
        "{untrusted:#?}"
    );
    let trusted = run(&http(Some(&ca.pem())), &image, &[], &opts(&[])).await;
    assert!(
        matches!(trusted.verdict, Verdict::Pullable { .. }),
        "{trusted:#?}"
    );

    let misnamed = Registry::start(
        RegistryAuth::None,
        Some(ca.issue(&["registry.example.com"]).unwrap()),
    )
    .await
    .unwrap();
    let r = run(
        &http(Some(&ca.pem())),
        &format!("{}/team/app:1", misnamed.host()),
        &[],
        &opts(&[]),
    )
    .await;
    assert_eq!(cause(&r), Some(Cause::TlsHostname), "{r:#?}");

    let expired = Registry::start(
        RegistryAuth::None,
        Some(ca.issue_expired(&["127.0.0.1"]).unwrap()),
    )
    .await
    .unwrap();
    let r = run(
        &http(Some(&ca.pem())),
        &format!("{}/team/app:1", expired.host()),
        &[],
        &opts(&[]),
    )
    .await;
    assert_eq!(cause(&r), Some(Cause::TlsExpired), "{r:#?}");
}

#[tokio::test]
async fn network_failures_and_rate_limits_are_real() {
    let h = http(None);
    let dns = run(
        &h,
        "registry.lastmile-test.invalid/team/app:1",
        &[],
        &opts(&[]),
    )
    .await;
    assert_eq!(cause(&dns), Some(Cause::Dns), "{dns:#?}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = run(&h, &format!("127.0.0.1:{port}/team/app:1"), &[], &opts(&[])).await;
    assert_eq!(cause(&refused), Some(Cause::Refused), "{refused:#?}");

    // A server that accepts connections and never answers: the per-request timeout fires.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_host = silent.local_addr().unwrap().to_string();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            held.push(conn);
        }
    });
    let o = ProbeOptions {
        timeout: Duration::from_millis(500),
        plain_http: vec![silent_host.clone()],
        ..opts(&[])
    };
    let timeout = run(&h, &format!("{silent_host}/team/app:1"), &[], &o).await;
    assert_eq!(cause(&timeout), Some(Cause::Timeout), "{timeout:#?}");
    holder.abort();

    let limited = RateLimitedRegistry::start().await.unwrap();
    let o = ProbeOptions {
        plain_http: vec![limited.host()],
        ..opts(&[])
    };
    let r = run(
        &h,
        &format!("{}/library/busybox:latest", limited.host()),
        &[],
        &o,
    )
    .await;
    assert_eq!(cause(&r), Some(Cause::RateLimited), "{r:#?}");
    let rl = r.rate_limit.clone().unwrap();
    assert_eq!(rl.remaining.as_deref(), Some("0;w=21600"));
    assert_eq!(rl.retry_after.as_deref(), Some("3600"));
}
