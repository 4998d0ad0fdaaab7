//! Fuzz target `subtree`: see `citytwin_fuzz::subtree`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::subtree(data));
