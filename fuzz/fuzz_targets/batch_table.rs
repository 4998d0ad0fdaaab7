//! Fuzz target `batch_table`: see `citytwin_fuzz::batch_table`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::batch_table(data));
