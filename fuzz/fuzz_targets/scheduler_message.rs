//! Scheduler and admission messages (`0/5 nodes are available: …`, quota, LimitRange).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let findings = lastmile_fn_pending::messages::scan(&text);
    let _ = lastmile_fn_pending::messages::merge(findings);
});
