//! Go build information in ELF, Mach-O and PE executables (inline and pointer formats).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut source = lastmile_fn_build::buildinfo::SliceSource(data);
    let _ = lastmile_fn_build::buildinfo::read(&mut source);
});
