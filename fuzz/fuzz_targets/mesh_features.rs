//! Fuzz target `mesh_features`: see `citytwin_fuzz::mesh_features`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| citytwin_fuzz::mesh_features(data));
