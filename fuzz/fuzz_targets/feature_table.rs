//! Fuzz target `feature_table`: see `citytwin_fuzz::feature_table`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::feature_table(data));
