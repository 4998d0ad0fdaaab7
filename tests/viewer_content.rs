//! Content preparation (`tiles::prepare`, engine-free) under hostile tiles (`tests/corpus/invalid/viewer/`): each is
//! an error for its tile with a clear message, never a panic, and costs bounded memory and time.

use std::path::Path;

use citytwin::tiles::UpAxis;
use citytwin::tiles::content::{self, Model, TileContent};
use citytwin::tiles::prepare::prepare;
use glam::DMat4;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap()
}

#[test]
fn hostile_tiles_are_refused_by_content_preparation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/invalid/viewer");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    let before = rss_kib();
    for path in &names {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        // The core may already refuse it; if it accepts it, the viewer must.
        let message = match content::decode(&bytes) {
            Err(e) => format!("core: {e}"),
            Ok((content, _)) => match prepare(&content, UpAxis::Y, &DMat4::IDENTITY) {
                Ok(p) => panic!("{name}: prepared into {} parts", p.len()),
                Err(e) => e,
            },
        };
        assert!(message.len() > 15, "{name}: unhelpful {message:?}");
        eprintln!("{name:<28} {message}");
    }
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert!(grown_mib < 64, "preparing the hostile tiles grew memory by {grown_mib} MiB");
}

#[test]
fn the_viewer_refuses_what_the_core_accepts() {
    // Every file but the one whose buffer view the core's own glb checks catch reaches the viewer.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/invalid/viewer");
    for name in [
        "index-out-of-range.glb",
        "huge-declared-count.glb",
        "node-cycle.glb",
        "normals-too-short.glb",
        "giant-texture.glb",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let model = Model {
            gltf: bytes,
            is_json: false,
            rtc_center: None,
            batch_length: 0,
            feature_table: None,
            batch_table: None,
        };
        let e = prepare(&TileContent::Model(model), UpAxis::Y, &DMat4::IDENTITY).unwrap_err();
        let expected = match name {
            "index-out-of-range.glb" => "out of range",
            "huge-declared-count.glb" => "do not fit",
            "node-cycle.glb" => "reached twice",
            "normals-too-short.glb" => "normals for 3 vertices",
            _ => "larger than",
        };
        assert!(e.contains(expected), "{name}: {e}");
    }
}
