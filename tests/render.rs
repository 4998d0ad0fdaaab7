//! Render tests: the real viewer binary in a real window under Xvfb, rendering on the CPU with
//! Mesa lavapipe, compared with the project's own golden images within a tolerance.
//! `CITYTWIN_BLESS=1` rewrites the goldens (look at them before committing).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const LAVAPIPE: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

fn have_renderer() -> bool {
    let ok = Path::new(LAVAPIPE).exists() && Command::new("xvfb-run").arg("--help").output().is_ok();
    if !ok {
        common::missing(
            "xvfb-run or Mesa lavapipe MISSING (apt-get install xvfb mesa-vulkan-drivers): render tests did NOT run",
        );
    }
    ok
}

/// Renders with the viewer and returns the screenshot.
fn render(name: &str, args: &[&str]) -> image::RgbImage {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{name}.png"));
    let cache = std::env::var_os("CITYTWIN_TEST_CACHE").map(PathBuf::from).unwrap_or_else(|| dir.path().join("cache"));
    let status = Command::new("timeout")
        .args(["600", "xvfb-run", "-a", "-s", "-screen 0 1280x720x24"])
        .arg(env!("CARGO_BIN_EXE_citytwin"))
        .args(["--size", "320x240", "--no-hud", "--exit-after-frames", "4000", "--screenshot"])
        .arg(&out)
        .args(args)
        .env("VK_ICD_FILENAMES", LAVAPIPE)
        .env("CITYTWIN_CACHE", &cache)
        .env("RUST_LOG", "warn")
        .status()
        .expect("runs");
    assert!(status.success(), "{name}: the viewer failed ({status})");
    image::open(&out).unwrap_or_else(|e| panic!("{name}: no screenshot: {e}")).to_rgb8()
}

fn check(name: &str, args: &[&str]) {
    check_against(name, name, args);
}

/// Renders as `name` and compares with the golden `golden_name`.
fn check_against(name: &str, golden_name: &str, args: &[&str]) {
    let img = render(name, args);
    if std::env::var("CITYTWIN_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(common::golden(golden_name).parent().unwrap()).unwrap();
        img.save(common::golden(golden_name)).unwrap();
    }

    let scene = common::scene_pixels(&img);
    assert!(
        scene as f64 > 0.005 * (img.width() * img.height()) as f64,
        "{name}: the image is (almost) only sky: {scene} pixels"
    );
    let want = image::open(common::golden(golden_name))
        .unwrap_or_else(|e| panic!("{name}: golden {golden_name} missing ({e}); run with CITYTWIN_BLESS=1"))
        .to_rgb8();
    let (mean, off) = common::difference(&img, &want);
    assert!(
        mean < 6.0 && off < 0.04,
        "{name}: differs from its golden: mean {mean:.2}, {:.1}% pixels off",
        off * 100.0
    );
}

fn sample(rel: &str) -> Option<String> {
    common::data_dir().map(|d| d.join("3dtiles").join(rel).to_string_lossy().into_owned())
}

#[test]
fn renders_the_demo_city() {
    if have_renderer() {
        check("demo_city", &[]);
    }
}

#[test]
fn renders_a_b3dm_sample() {
    let Some(t) = sample("3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.without_dragon_high.json") else {
        return;
    };
    if have_renderer() {
        check("b3dm_dragon", &["--tileset", &t]);
    }
}

#[test]
fn renders_a_pnts_sample() {
    let Some(t) = sample("cesiumjs-1.53-sampledata/PointCloud/PointCloudRGB/tileset.json") else { return };
    if have_renderer() {
        check("pnts_rgb", &["--tileset", &t]);
    }
}

#[test]
fn renders_an_i3dm_sample() {
    let Some(t) = sample("cesiumjs-1.53-sampledata/Instanced/InstancedOrientation/tileset.json") else { return };
    if have_renderer() {
        check("i3dm_orientation", &["--tileset", &t]);
    }
}

#[test]
fn streams_a_servers_catalog_over_http() {
    // The same dragon, served by the data server and found through its catalog (`--server`),
    // must look exactly like the dragon read from disk.
    let Some(data) = common::data_dir() else { return };
    if !have_renderer() {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut config = citytwin_server::Config {
        listen: ([127, 0, 0, 1], 0).into(),
        data_dir: state.path().into(),
        ..Default::default()
    };
    config.sensors.count = 10;
    config.cameras.count = 0;
    config.tilesets.push(citytwin_server::config::TilesetConfig {
        id: "dragon".into(),
        name: "Dragon".into(),
        dir: data.join("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD"),
        entry: "tileset.without_dragon_high.json".into(),
    });
    let server = citytwin_server::ServerHandle::start(config).unwrap();
    check_against("server_dragon", "b3dm_dragon", &["--server", &server.url()]);
    server.stop().unwrap();
}
