//! Fuzz target `b3dm`: see `citytwin_fuzz::b3dm`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::b3dm(data));
