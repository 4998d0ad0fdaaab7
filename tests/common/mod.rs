//! Shared helpers for integration tests: the shared data directory and a file loader.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use citytwin::tiles::LoadError;

/// The shared test data (`CITYTWIN_DATA`, default `../shared/data`). Missing data is a loud
/// skip locally and a failure under `CI=true`.
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CITYTWIN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("3dtiles").is_dir() {
        return Some(dir);
    }
    missing(&format!("SHARED TEST DATA MISSING at {} (set CITYTWIN_DATA): these tests did NOT run", dir.display()));
    None
}

/// Reports a missing prerequisite: a loud skip locally, a failure under `CI=true`.
pub fn missing(msg: &str) {
    assert!(std::env::var("CI").map_or(true, |v| v != "true"), "{msg}");
    eprintln!("\n!!!!! {msg} !!!!!\n");
}

/// Every file under `dir` (recursively) whose name ends with one of `suffixes`, sorted.
pub fn files_with(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable data dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if suffixes.iter().any(|s| p.to_string_lossy().ends_with(s)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub fn file_url(p: &Path) -> String {
    url::Url::from_file_path(p.canonicalize().expect("exists")).expect("absolute").to_string()
}

/// Loads `file://` URLs, as an engine would.
pub fn load_file(url: &str) -> Result<Vec<u8>, LoadError> {
    let path = url::Url::parse(url)
        .ok()
        .and_then(|u| u.to_file_path().ok())
        .ok_or_else(|| LoadError::Io(format!("not a file URL: {url}")))?;
    std::fs::read(&path).map_err(|e| LoadError::Io(format!("{}: {e}", path.display())))
}

/// Tilesets (JSON files with a `root`) under a directory.
pub fn tilesets(dir: &Path) -> Vec<PathBuf> {
    files_with(dir, &[".json"])
        .into_iter()
        .filter(|p| {
            std::fs::read(p)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| v.get("root").is_some())
        })
        .collect()
}

/// Mean absolute difference per channel (0–255) and the share of pixels off by more than 48.
pub fn difference(a: &image::RgbImage, b: &image::RgbImage) -> (f64, f64) {
    assert_eq!(a.dimensions(), b.dimensions());
    let (mut sum, mut off) = (0u64, 0usize);
    for (p, q) in a.pixels().zip(b.pixels()) {
        let d: Vec<u64> = (0..3).map(|k| (p[k] as i64 - q[k] as i64).unsigned_abs()).collect();
        sum += d.iter().sum::<u64>();
        off += d.iter().any(|x| *x > 48) as usize;
    }
    let n = (a.width() * a.height()) as f64;
    (sum as f64 / n / 3.0, off as f64 / n)
}

/// Pixels that are not the viewer's sky colour: a real scene has many.
pub fn scene_pixels(img: &image::RgbImage) -> usize {
    let sky = image::Rgb([158u8, 189, 219]);
    img.pixels().filter(|p| (0..3).any(|k| (p[k] as i32 - sky[k] as i32).abs() > 24)).count()
}

/// The golden image `name` in `tests/golden/`.
pub fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.png"))
}
