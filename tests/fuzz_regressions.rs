//! Every input the fuzzers ever failed on (`tests/corpus/fuzz/<target>/`), and the fuzz seeds, run
//! through the same target code in the normal suite: none may panic. `fuzz/run.sh` finds them.

use std::path::Path;

#[path = "../fuzz/src/lib.rs"]
mod targets;

#[test]
fn every_input_that_once_failed_a_fuzzer_is_handled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (name, target) in targets::TARGETS {
        for dir in [root.join("tests/corpus/fuzz").join(name), root.join("fuzz/seeds").join(name)] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                eprintln!("{name}: {}", path.display());
                target(&std::fs::read(&path).unwrap());
                ran += 1;
            }
        }
    }
    assert!(ran >= 10, "only {ran} inputs");
}
