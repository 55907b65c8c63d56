use proptest::prelude::*;

use super::{BASE64_RUN, has_run};

#[test]
fn the_byte_scan_agrees_with_the_pattern() {
    let long = "A".repeat(23);
    for text in [
        "",
        "Back-off pulling image \"registry.example.com/shop/api:1.4.2\"",
        "eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6e319fQ==",
        "sha256:0123456789abcdef0123456789abcdef",
        "a/b+c/d+e/f+g/h+i/j+k/l+m",
        "twenty-three then a space: AAAAAAAAAAAAAAAAAAAAAAA end",
        "é".repeat(40).as_str(),
        long.as_str(),
        &format!("{long}B"),
        &format!("{long}.{long}"),
    ] {
        assert_eq!(
            has_run(text.as_bytes()),
            BASE64_RUN.is_match(text.as_bytes()),
            "{text:?}"
        );
    }
}

proptest! {
    /// Runs of every length around the threshold, broken by every kind of byte.
    #[test]
    fn the_window_scan_agrees_with_the_pattern_on_any_text(
        text in proptest::collection::vec(
            prop_oneof![
                4 => proptest::sample::select(b"Aa0+/".to_vec()),
                1 => proptest::sample::select(b" .-=_:\"\n\xc3\xa9".to_vec()),
            ],
            0..120,
        )
    ) {
        prop_assert_eq!(has_run(&text), BASE64_RUN.is_match(&text));
    }
}
