//! Fuzz target `glb`: see `citytwin_fuzz::glb`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::glb(data));
