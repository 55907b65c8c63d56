use super::*;

#[test]
fn a_pem_block_quoted_line_by_line_is_still_scrubbed() {
    let input = "deploy failed\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
    let known = Known::find(input);
    let mut quoted = "\"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\"".to_owned();
    assert!(known.scrub(&mut quoted));
    assert_eq!(quoted, "\"[REDACTED]\"");
    let mut bytes = b"line: BKcwggSjAgEAAoIBAQC7 end".to_vec();
    assert!(known.scrub_bytes(&mut bytes));
    assert_eq!(bytes, b"line: [REDACTED] end");
    let mut clean = "deploy failed".to_owned();
    assert!(!known.scrub(&mut clean));
    assert!(Known::find("no secrets here: 0/3 nodes are available").is_empty());
}
