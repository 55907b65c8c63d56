#![allow(clippy::unwrap_used)]

use super::*;

fn req(url: String) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url,
        headers: BTreeMap::new(),
        body: Vec::new(),
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn refused_and_dns_failures_are_told_apart() {
    let http = ReqwestRegistryHttp::new(&HttpConfig::default()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = http
        .send(req(format!("http://127.0.0.1:{port}/v2/")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, TransportErrorKind::Refused, "{err}");
    let err = http
        .send(req("https://registry.lastmile-test.invalid/v2/".into()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, TransportErrorKind::Dns, "{err}");
}

#[test]
fn garbage_ca_is_rejected_with_its_position() {
    let cfg = HttpConfig {
        extra_ca_pems: vec![b"not a pem".to_vec()],
        ..Default::default()
    };
    let err = ReqwestRegistryHttp::new(&cfg).unwrap_err();
    assert!(err.to_string().contains("#0"), "{err}");
}
