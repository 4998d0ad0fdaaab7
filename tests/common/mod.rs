//! Shared helpers for integration tests: the shared data directory and a file loader.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use citytwin::tiles::LoadError;

/// The shared test data (`CITYTWIN_DATA`, default `../shared/data`). Missing data fails the test
/// (see [`missing`]).
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CITYTWIN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if dir.join("3dtiles").is_dir() {
        return Some(dir);
    }
    missing(&format!("the shared test data is missing at {} (set CITYTWIN_DATA to where it is)", dir.display()));
    None
}

/// A data server's configuration for a test: an ephemeral port on 127.0.0.1, its state in
/// `data_dir`, the defaults otherwise.
#[cfg(feature = "viewer")]
pub fn server_config(data_dir: &Path) -> citytwin_server::Config {
    citytwin_server::Config { listen: ([127, 0, 0, 1], 0).into(), data_dir: data_dir.into(), ..Default::default() }
}

/// The variable with which a user asks to skip tests whose prerequisites are missing.
pub const SKIP_VAR: &str = "CITYTWIN_SKIP_MISSING";

/// Whether missing prerequisites skip rather than fail: only when asked for with `SKIP_VAR=1`,
/// and never under CI (any value of `CI`).
fn skipping_allowed() -> bool {
    std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") && std::env::var_os("CI").is_none_or(|v| v.is_empty())
}

static SKIPPED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

extern "C" fn report_skips() {
    let skipped = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
    eprintln!("\n{} TEST(S) SKIPPED ({SKIP_VAR}=1): they did NOT run:", skipped.len());
    for s in skipped.iter() {
        eprintln!("  - {s}");
    }
}

/// A missing prerequisite (`what`, with how to get it) fails the test. With `SKIP_VAR=1` (and no
/// `CI`) the test returns instead; the skip is counted and printed when the test binary exits,
/// after its results.
pub fn missing(what: &str) {
    assert!(skipping_allowed(), "{what}. To skip such tests instead, set {SKIP_VAR}=1.");
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let mut skipped = SKIPPED.lock().unwrap_or_else(|p| p.into_inner());
    if skipped.is_empty() {
        // SAFETY: registers a plain function with no arguments to run at process exit.
        unsafe { libc::atexit(report_skips) };
    }
    skipped.push(format!("{test}: {what}"));
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

/// The viewer's sky (clear) colour.
pub const SKY: [u8; 3] = [158, 189, 219];

/// Whether a pixel shows something other than the sky.
pub fn is_content(p: &image::Rgb<u8>) -> bool {
    (0..3).any(|k| (p[k] as i32 - SKY[k] as i32).abs() > 24)
}

/// Pixels that are not the viewer's sky colour: a real scene has many.
pub fn scene_pixels(img: &image::RgbImage) -> usize {
    img.pixels().filter(|p| is_content(p)).count()
}

/// How a render compares with its golden, measured where the content is (the pixels that are
/// not sky in either image), so that a small object weighs as much as a whole city.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Content pixels in either image.
    pub content: usize,
    /// Intersection over union of the two content masks: 1 when the same pixels show something.
    pub overlap: f64,
    /// Mean absolute difference per channel (0–255) over the content pixels.
    pub mean: f64,
    /// The share of content pixels with a channel off by more than 48.
    pub off: f64,
    /// The largest difference of the mean red, green or blue over the content (a channel swap).
    pub channel_shift: f64,
}

impl Comparison {
    /// The render tests' tolerance (each bound is shown to reject broken images in `render.rs`).
    pub fn within_tolerance(&self) -> Result<(), String> {
        let ok =
            self.content > 0 && self.overlap >= 0.9 && self.mean < 8.0 && self.off < 0.06 && self.channel_shift < 6.0;
        if ok { Ok(()) } else { Err(format!("differs from its golden: {self:?}")) }
    }
}

/// Compares `img` with `golden` where either shows content.
pub fn compare(img: &image::RgbImage, golden: &image::RgbImage) -> Comparison {
    assert_eq!(img.dimensions(), golden.dimensions());
    let (mut union, mut both, mut sum, mut off) = (0usize, 0usize, 0u64, 0usize);
    let (mut mean_a, mut mean_b) = ([0f64; 3], [0f64; 3]);
    for (p, q) in img.pixels().zip(golden.pixels()) {
        let (a, b) = (is_content(p), is_content(q));
        if !(a || b) {
            continue;
        }
        union += 1;
        both += (a && b) as usize;
        let d: Vec<u64> = (0..3).map(|k| (p[k] as i64 - q[k] as i64).unsigned_abs()).collect();
        sum += d.iter().sum::<u64>();
        off += d.iter().any(|x| *x > 48) as usize;
        for k in 0..3 {
            mean_a[k] += p[k] as f64;
            mean_b[k] += q[k] as f64;
        }
    }
    let n = union.max(1) as f64;
    let channel_shift = (0..3).map(|k| (mean_a[k] - mean_b[k]).abs() / n).fold(0.0, f64::max);
    Comparison {
        content: union,
        overlap: both as f64 / n,
        mean: sum as f64 / n / 3.0,
        off: off as f64 / n,
        channel_shift,
    }
}

/// The golden image `name` in `tests/golden/`.
pub fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.png"))
}

/// Where the Khronos glTF validator (npm `gltf-validator`) is installed (`GLTF_VALIDATOR_DIR`,
/// default `~/.cache/citytwin-npm`, where `.ci/run` puts it); missing, it fails the test (see
/// [`missing`]).
pub fn gltf_validator() -> Option<PathBuf> {
    let dir = std::env::var_os("GLTF_VALIDATOR_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/citytwin-npm"));
    if dir.join("node_modules/gltf-validator").is_dir() {
        return Some(dir);
    }
    missing(&format!(
        "gltf-validator is missing under {} (npm install gltf-validator there, or set GLTF_VALIDATOR_DIR)",
        dir.display()
    ));
    None
}

/// The validator's report on each of `files` (one JSON object each: errors, warnings, …).
pub fn validate_gltf(validator: &Path, files: &[PathBuf]) -> Vec<serde_json::Value> {
    let out = std::process::Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/gltf-validate.js"))
        .args(files)
        .env("NODE_PATH", validator.join("node_modules"))
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}
