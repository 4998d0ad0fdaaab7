//! Fuzz target `live_values`: see `citytwin_fuzz::live_values`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::live_values(data));
