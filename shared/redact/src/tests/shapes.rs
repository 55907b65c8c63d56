//! Every secret shape, as a table and as a property.

use proptest::prelude::*;

use super::*;
use crate::samples::{self, Shape};

/// Separators a secret can sit between in a pasted text.
const SEPARATORS: &[&str] = &[
    " ", "\n", "\t", " \"", "\" ", "'", " (", ") ", ", ", "; ", "\r\n",
];

fn assert_gone(out: &str, sample: &samples::Sample) {
    for s in &sample.secrets {
        assert!(
            !out.contains(s.as_str()),
            "{:?}: secret {s:?} survived in:\n{out}\n(input: {:?})",
            sample.shape,
            sample.text
        );
    }
}

#[test]
fn every_shape_is_redacted_alone_in_a_line_and_in_json() {
    for seed in 0..64 {
        for sample in samples::all(seed) {
            // Alone, mid-line, and as a JSON string value (evidence, diagnosis fields).
            let alone = text(&sample.text).into_owned();
            assert_gone(&alone, &sample);
            assert!(alone.contains(REDACTED), "{:?}: {alone}", sample.shape);
            let line = format!("2026-03-03T10:00:00Z step 4/9: {} (exit 1)", sample.text);
            assert_gone(&text(&line), &sample);
            let doc = serde_json::to_vec(&json!({"message": sample.text, "args": [sample.text]}))
                .unwrap();
            let out = String::from_utf8(bytes(&doc, "application/json")).unwrap();
            assert_gone(&out, &sample);
            // Idempotent: a second pass changes nothing.
            assert_eq!(text(&alone), alone, "{:?}", sample.shape);
        }
    }
}

#[test]
fn every_shape_has_a_sample_and_the_samples_are_deterministic() {
    let a = samples::all(7);
    assert_eq!(a.len(), Shape::ALL.len());
    assert_eq!(a, samples::all(7));
    assert_ne!(a, samples::all(8));
    for s in &a {
        assert!(s.secrets.iter().all(|x| x.len() >= 6), "{s:?}");
        assert!(
            s.secrets.iter().all(|x| s.text.contains(x.as_str())),
            "{s:?}"
        );
    }
}

fn filler() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 .,:/()_-]{0,40}(\n[a-zA-Z0-9 .,:/()_-]{0,40}){0,2}")
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A random secret of each shape, anywhere in random text, never comes out.
    #[test]
    fn a_secret_embedded_anywhere_never_comes_out(
        shape in proptest::sample::select(Shape::ALL),
        seed in any::<u64>(),
        before in filler(),
        after in filler(),
        left in proptest::sample::select(SEPARATORS),
        right in proptest::sample::select(SEPARATORS),
    ) {
        let sample = samples::sample(shape, seed);
        let input = format!("{before}{left}{}{right}{after}", sample.text);
        let out = text(&input).into_owned();
        for s in &sample.secrets {
            prop_assert!(!out.contains(s.as_str()), "{:?}: {s:?} survived in {out:?}", shape);
        }
        let doc = serde_json::to_vec(&json!({"log": input})).unwrap();
        let out = String::from_utf8(bytes(&doc, "application/json")).unwrap();
        for s in &sample.secrets {
            prop_assert!(!out.contains(s.as_str()), "{:?} (json): {s:?} survived in {out:?}", shape);
        }
    }

    /// Redaction never panics and never grows clean text.
    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = bytes(&input, "application/json");
        let _ = bytes(&input, "text/plain");
        let s = String::from_utf8_lossy(&input);
        let once = text(&s).into_owned();
        prop_assert_eq!(text(&once).into_owned(), once);
    }
}
