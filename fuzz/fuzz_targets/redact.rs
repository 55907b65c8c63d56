//! The one secret policy: any text (and JSON) must come out without panicking, and redacting
//! twice changes nothing more than redacting once.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = lastmile_redact::text(&text).into_owned();
    let twice = lastmile_redact::text(&once).into_owned();
    assert_eq!(once, twice, "redaction is not idempotent");
    let _ = lastmile_redact::bytes(data, "application/json");
});
