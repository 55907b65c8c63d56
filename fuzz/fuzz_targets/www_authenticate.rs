//! `WWW-Authenticate` challenges from registries (Bearer realm/service/scope, Basic).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lastmile_fn_image_pull::challenge::parse(&text);
});
