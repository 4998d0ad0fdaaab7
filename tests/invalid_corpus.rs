//! The invalid-data corpus: every file in `tests/corpus/invalid` is rejected with an error.

use std::path::Path;

use citytwin::tiles::implicit::parse_subtree;
use citytwin::tiles::model::{SubdivisionScheme, parse_tileset};
use citytwin::tiles::{TilesError, content};

fn read_as(path: &Path, bytes: &[u8]) -> Result<(), TilesError> {
    let name = path.file_name().unwrap().to_string_lossy();
    if name.ends_with(".json") || name.ends_with(".json.gz") {
        parse_tileset(bytes).map(|_| ())
    } else if name.ends_with(".subtree") {
        parse_subtree(bytes, SubdivisionScheme::Quadtree, 3).map(|_| ())
    } else {
        content::decode(bytes).map(|_| ())
    }
}

#[test]
fn every_invalid_file_is_an_error_with_a_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // viewer/ holds tiles the core accepts and the viewer refuses: tests/viewer_content.rs.
        if path.is_dir() || path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        match read_as(&path, &bytes) {
            Ok(()) => panic!("{} was accepted", path.display()),
            Err(e) => {
                let message = e.to_string();
                assert!(message.len() > 10, "{}: unhelpful error {message:?}", path.display());
                eprintln!("{:<40} {message}", path.file_name().unwrap().to_string_lossy());
            }
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} corpus files");
}
