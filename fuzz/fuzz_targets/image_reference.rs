//! Image references as written in pod specs (`registry:port/repo:tag@sha256:…`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(reference) = lastmile_fn_image_pull::reference::ImageRef::parse(&text) {
        // A parsed reference renders and re-parses.
        let _ = lastmile_fn_image_pull::reference::ImageRef::parse(&reference.name());
        let _ = reference.host_name();
    }
});
