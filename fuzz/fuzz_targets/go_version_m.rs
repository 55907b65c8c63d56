//! `go version -m` text and module listings, as pasted into `lastmile build diff`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let info = lastmile_fn_build::buildinfo::BuildInfo::parse(&text);
    // What is rendered back parses again.
    let _ = lastmile_fn_build::buildinfo::BuildInfo::parse(&info.to_text());
    let _ = lastmile_fn_build::buildinfo::modinfo::listings(&text);
});
