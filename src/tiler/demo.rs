//! The demo city of the viewer's embedded default: procedural, made on first use, then cached.

use std::path::{Path, PathBuf};

use super::procedural::{ProceduralOptions, generate};
use super::{TileOptions, write_city};

/// Buildings in the demo city; the version names the cache entry, so a change regenerates it.
pub const DEMO_BUILDINGS: usize = 20_000;
pub const DEMO_SEED: u64 = 1;
const DEMO_VERSION: &str = "v1";

/// Returns the demo city's `tileset.json` under `cache_dir`, generating it the first time. It is
/// written beside its final place and renamed, so a crash never leaves a half-written city.
pub fn ensure_demo_city(cache_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = cache_dir.join(format!("demo-city-{DEMO_VERSION}-{DEMO_BUILDINGS}-{DEMO_SEED}"));
    let tileset = dir.join("tileset.json");
    if tileset.is_file() {
        return Ok(tileset);
    }
    std::fs::create_dir_all(cache_dir)?;
    let staging = cache_dir.join(format!(".staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let city = generate(&ProceduralOptions::new(DEMO_BUILDINGS, DEMO_SEED));
    write_city(&city, &staging, &TileOptions::default())?;
    match std::fs::rename(&staging, &dir) {
        Ok(()) => Ok(tileset),
        // Another process finished first: use its city.
        Err(_) if tileset.is_file() => {
            std::fs::remove_dir_all(&staging)?;
            Ok(tileset)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_reused() {
        let cache = tempfile::tempdir().unwrap();
        let first = ensure_demo_city(cache.path()).unwrap();
        let made = std::fs::metadata(&first).unwrap().modified().unwrap();
        let second = ensure_demo_city(cache.path()).unwrap();
        assert_eq!(first, second);
        assert_eq!(std::fs::metadata(&second).unwrap().modified().unwrap(), made, "not regenerated");
        assert!(first.parent().unwrap().join("ground.glb").is_file());
        let staging: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".staging"))
            .collect();
        assert!(staging.is_empty());
    }
}
