//! `.dockerignore` patterns and Dockerfile `COPY`/`ADD` sources (`lastmile build context`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lastmile_fn_build::buildctx::ignore::IgnoreFile::parse(&text);
    let _ = lastmile_fn_build::buildctx::dockerfile::context_sources(&text);
});
