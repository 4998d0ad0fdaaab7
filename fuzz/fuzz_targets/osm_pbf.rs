//! Fuzz target `osm_pbf`: see `citytwin_fuzz::osm_pbf`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: {
    // The reader turns panics inside the PBF decoder (a dependency) into errors with catch_unwind;
    // libfuzzer-sys's panic hook would abort before that. A panic escaping the reader still aborts:
    // libfuzzer-sys treats an unwinding target as a crash.
    let _ = std::panic::take_hook();
}, |data: &[u8]| citytwin_fuzz::osm_pbf(data));
