use super::*;
use lastmile_contract::TransportErrorKind;

#[test]
fn nearest_tag_prefers_small_edits() {
    let tags: Vec<String> = ["1.25.3", "1.26.0", "latest", "8.4.0", "7.11.2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(nearest("8.4.1", &tags, 1), ["8.4.0"]);
    assert_eq!(nearest("1.26.1", &tags, 2), ["1.26.0", "1.25.3"]);
}

#[test]
fn rustls_and_go_tls_texts_map_to_the_same_causes() {
    assert_eq!(
        transport_cause(
            TransportErrorKind::Tls,
            "invalid peer certificate: UnknownIssuer"
        ),
        Cause::TlsUnknownAuthority
    );
    assert_eq!(
        transport_cause(
            TransportErrorKind::Tls,
            "x509: certificate has expired or is not yet valid"
        ),
        Cause::TlsExpired
    );
    assert_eq!(
        transport_cause(
            TransportErrorKind::Tls,
            "invalid peer certificate: NotValidForName"
        ),
        Cause::TlsHostname
    );
    assert_eq!(
        transport_cause(TransportErrorKind::Other, "weird"),
        Cause::Unreachable
    );
}
