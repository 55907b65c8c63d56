//! Image layers (tar, streamed in arbitrary chunk sizes) searched for the files the base-OS
//! and Go build-info checks read.
#![no_main]
use std::collections::BTreeSet;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&chunk, body)) = data.split_first() else {
        return;
    };
    let wanted: BTreeSet<String> = ["etc/os-release", "usr/lib/os-release"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut scan = lastmile_fn_image_pull::layer_scan::TarScan::new(wanted);
    for piece in body.chunks(usize::from(chunk).max(1)) {
        scan.feed(piece);
    }
    let _ = scan.ended();
});
