//! Fuzz target `pnts`: see `citytwin_fuzz::pnts`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::pnts(data));
