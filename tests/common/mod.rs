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
    let msg = format!("SHARED TEST DATA MISSING at {} (set CITYTWIN_DATA): these tests did NOT run", dir.display());
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("\n!!!!! {msg} !!!!!\n");
    None
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
