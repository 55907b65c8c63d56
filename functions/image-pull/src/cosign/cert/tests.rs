use super::*;

#[test]
fn garbage_and_truncation_are_not_certificates() {
    assert_eq!(identity(b""), None);
    assert_eq!(identity(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    assert_eq!(identity(&[0x30, 0x03, 0x30, 0x05, 0x00]), None);
    assert_eq!(identity(&[0x02, 0x01, 0x00]), None);
}

#[test]
fn reads_san_and_fulcio_issuer_from_extensions() {
    // SEQ{ SEQ{ [3]{ SEQ{ SEQ{OID san, OCTET{SEQ{[1] "a@b"}}},
    //                     SEQ{OID issuer v1, OCTET "https://i"} } } } }
    let san = [
        &[0x30, 0x0c, 0x06, 0x03][..],
        SAN,
        &[0x04, 0x05, 0x30, 0x03, 0x81, 0x01, b'a'][..],
    ]
    .concat();
    let iss = [
        &[0x30, 0x15, 0x06, 0x0a][..],
        FULCIO_ISSUER_V1,
        &[0x04, 0x07][..],
        b"https:x",
    ]
    .concat();
    let exts = [&[0x30, (san.len() + iss.len()) as u8][..], &san, &iss].concat();
    let a3 = [&[0xa3, exts.len() as u8][..], &exts].concat();
    let tbs = [&[0x02, 0x01, 0x01][..], &a3].concat();
    let tbs = [&[0x30, tbs.len() as u8][..], &tbs].concat();
    let cert = [&[0x30, tbs.len() as u8][..], &tbs].concat();
    assert_eq!(
        identity(&cert),
        Some(CertIdentity {
            san: Some("a".into()),
            issuer: Some("https:x".into())
        })
    );
    // Fulcio's v2 issuer extension wraps the URL in a UTF8String, and a URI SAN.
    let uri = [
        &[0x30, 0x0c, 0x06, 0x03][..],
        SAN,
        &[0x04, 0x05, 0x30, 0x03, 0x86, 0x01, b'u'][..],
    ]
    .concat();
    let iss = [
        &[0x30, 0x11, 0x06, 0x0a][..],
        FULCIO_ISSUER_V2,
        &[0x04, 0x03, 0x0c, 0x01, b'i'][..],
    ]
    .concat();
    let exts = [&[0x30, (uri.len() + iss.len()) as u8][..], &uri, &iss].concat();
    let a3 = [&[0xa3, exts.len() as u8][..], &exts].concat();
    let tbs = [&[0x30, a3.len() as u8][..], &a3].concat();
    let cert = [&[0x30, tbs.len() as u8][..], &tbs].concat();
    assert_eq!(
        identity(&cert),
        Some(CertIdentity {
            san: Some("u".into()),
            issuer: Some("i".into())
        })
    );
}
