//! Kubelet/containerd image-pull messages (`Failed to pull image …`, `ErrImagePull: …`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = lastmile_fn_image_pull::message::classify(&text);
});
