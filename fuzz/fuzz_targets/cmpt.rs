//! Fuzz target `cmpt`: see `citytwin_fuzz::cmpt`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::cmpt(data));
