//! What people paste into `lastmile explain`: `kubectl get … -o json` (lists, single
//! objects, events), wrong-typed fields, garbage.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = lastmile_intake::read_json(data);
});
