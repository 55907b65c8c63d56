//! Tests of [`Detail`].

use super::*;

#[test]
fn a_detail_shows_its_text_and_keeps_its_source() {
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
    let d = Detail::caused_by("cannot read the OTLP CA /etc/ca.pem: no such file", io);
    assert_eq!(
        d.to_string(),
        "cannot read the OTLP CA /etc/ca.pem: no such file"
    );
    let source = d.source().expect("source kept");
    let io = source
        .downcast_ref::<std::io::Error>()
        .expect("an io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(Detail::from("timed out").source().is_none());
}
