//! Fuzz target `tileset_json`: see `citytwin_fuzz::tileset_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::tileset_json(data));
