use super::*;

#[test]
fn targets_parse_and_print() {
    let shown: Vec<String> = [
        "tcp://postgres:5432",
        "http://orders:8080/healthz",
        "https://api.example.com",
        "dns:payments.shop.svc",
        "job:shop/migrate",
        "tcp://[::1]:6379",
    ]
    .iter()
    .map(|s| {
        Target::parse(s)
            .map(|t| t.to_string())
            .unwrap_or_else(|e| e.to_string())
    })
    .collect();
    assert_eq!(
        shown,
        vec![
            "tcp://postgres:5432",
            "http://orders:8080/healthz",
            "https://api.example.com:443/",
            "dns:payments.shop.svc",
            "job:shop/migrate",
            "tcp://::1:6379",
        ]
    );
    assert!(Target::parse("tcp://postgres").is_err());
    assert!(Target::parse("postgres:5432").is_err());
}

#[test]
fn chunked_bodies_are_joined() {
    assert_eq!(dechunk("4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n"), "{\"a\":1}");
}
