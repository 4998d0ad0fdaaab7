//! Fuzz target `live_client`: see `citytwin_fuzz::live_client`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::live_client(data));
