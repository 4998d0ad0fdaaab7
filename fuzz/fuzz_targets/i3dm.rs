//! Fuzz target `i3dm`: see `citytwin_fuzz::i3dm`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::i3dm(data));
