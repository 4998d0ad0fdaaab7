//! Fuzz target `sta_request`: see `citytwin_fuzz::sta_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::sta_request(data));
