//! Named values and credentials with a scheme, control-character escaping, and truncation on a
//! char boundary.

use super::*;

#[test]
fn named_values_hide_the_whole_value_under_a_secret_name() {
    assert_eq!(
        named_value("http.request.header.authorization", "Bearer x"),
        REDACTED
    );
    assert_eq!(named_value("DB_PASSWORD", "x"), REDACTED);
    assert_eq!(
        named_value("url.full", "https://u:p@r/v2/"),
        "https://[REDACTED]@r/v2/"
    );
    assert_eq!(named_value("k8s.pod.name", "api-0"), "api-0");
    assert_eq!(
        credential_with_scheme("Basic Zm9vOmJhcg=="),
        "Basic [REDACTED]"
    );
    assert_eq!(credential_with_scheme("opaque"), REDACTED);
}

#[test]
fn control_characters_are_escaped_for_terminals() {
    assert_eq!(escape_control("plain — text ✓"), "plain — text ✓");
    assert_eq!(
        escape_control("a\u{1b}[31mred\u{1b}[0m\0b\u{7}\r\n\t\u{9b}\u{202e}x"),
        "a\\x1b[31mred\\x1b[0m\\0b\\x07\\r\\n\\t\\u{9b}\\u{202e}x"
    );
    assert!(matches!(
        escape_control("clean"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[test]
fn truncation_cuts_on_a_char_boundary() {
    let mut s = "aé€😀".to_owned(); // 1 + 2 + 3 + 4 bytes
    assert!(!truncate_at_char_boundary(&mut s, 10));
    assert!(truncate_at_char_boundary(&mut s, 5));
    assert_eq!(s, "aé");
    let mut s = "😀".to_owned();
    assert!(truncate_at_char_boundary(&mut s, 3));
    assert_eq!(s, "");
}
