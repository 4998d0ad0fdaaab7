//! Render tests: the real viewer binary, windowless (`--offscreen`: no window, no X server),
//! rendering on the CPU with Mesa lavapipe, compared with the project's own golden images within a
//! tolerance.
//! `CITYTWIN_BLESS=1` rewrites the goldens (look at them before committing).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const LAVAPIPE: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

fn have_renderer() -> bool {
    let ok = Path::new(LAVAPIPE).exists();
    if !ok {
        common::missing("Mesa lavapipe is missing (apt-get install mesa-vulkan-drivers)");
    }
    ok
}

/// Renders with the viewer at 320×240 and returns the screenshot.
fn render(name: &str, args: &[&str]) -> image::RgbImage {
    render_sized(name, "320x240", args)
}

/// Renders with the viewer at `size` (WxH), the sensor layers hidden (their colours follow the
/// live readings, which no golden can hold), and returns the screenshot.
fn render_sized(name: &str, size: &str, args: &[&str]) -> image::RgbImage {
    render_with(name, size, &[&["--no-sensors"], args].concat())
}

/// Renders with the viewer at `size` with exactly these `args`.
fn render_with(name: &str, size: &str, args: &[&str]) -> image::RgbImage {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{name}.png"));
    let cache = std::env::var_os("CITYTWIN_TEST_CACHE").map(PathBuf::from).unwrap_or_else(|| dir.path().join("cache"));
    let status = Command::new("timeout")
        .arg("600")
        .arg(env!("CARGO_BIN_EXE_citytwin"))
        .args(["--offscreen", "--size", size, "--no-hud", "--exit-after-frames", "4000", "--screenshot"])
        .arg(&out)
        .args(args)
        .env("VK_ICD_FILENAMES", LAVAPIPE)
        .env("CITYTWIN_CACHE", &cache)
        .env("RUST_LOG", "warn")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .status()
        .expect("runs");
    assert!(status.success(), "{name}: the viewer failed ({status})");
    image::open(&out).unwrap_or_else(|e| panic!("{name}: no screenshot: {e}")).to_rgb8()
}

fn check(name: &str, args: &[&str]) -> image::RgbImage {
    check_against(name, name, args)
}

/// Renders as `name`, compares with the golden `golden_name`, and returns the render.
fn check_against(name: &str, golden_name: &str, args: &[&str]) -> image::RgbImage {
    against_golden(name, golden_name, render(name, args))
}

/// Compares a render with the golden `golden_name` (rewriting it when blessing) and returns the render.
fn against_golden(name: &str, golden_name: &str, img: image::RgbImage) -> image::RgbImage {
    if std::env::var("CITYTWIN_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(common::golden(golden_name).parent().unwrap()).unwrap();
        img.save(common::golden(golden_name)).unwrap();
    }
    let want = image::open(common::golden(golden_name))
        .unwrap_or_else(|e| panic!("{name}: golden {golden_name} missing ({e}); run with CITYTWIN_BLESS=1"))
        .to_rgb8();
    if let Err(e) = common::compare(&img, &want).within_tolerance() {
        let actual = common::golden(golden_name).with_extension("png.actual");
        let _ = img.save_with_format(&actual, image::ImageFormat::Png);
        panic!("{name}: {e} (the render is in {})", actual.display());
    }
    img
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
fn draws_sensor_markers_over_the_city() {
    if !have_renderer() {
        return;
    }
    // The demo city with its sensors against its golden without: they differ where markers stand,
    // and there the colours are the markers' (the city is grey, the sky a pale blue).
    let with = render_with("demo_sensors", "320x240", &[]);
    let without = image::open(common::golden("demo_city")).unwrap().to_rgb8();
    let differ: Vec<[u8; 3]> = with
        .pixels()
        .zip(without.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0).map(|(x, y)| x.abs_diff(y) as u32).sum::<u32>() > 60)
        .map(|(a, _)| a.0)
        .collect();
    assert!(differ.len() > 400, "markers cover {} pixels", differ.len());
    assert!(differ.len() < 320 * 240 / 3, "the city is still there: {} pixels changed", differ.len());
    let coloured = differ.iter().filter(|p| hue_saturation(**p).1 > 0.3).count();
    assert!(coloured * 2 > differ.len(), "{coloured} of {} changed pixels are marker colours", differ.len());
}

#[test]
fn projects_a_cameras_live_feed_onto_the_city() {
    if !have_renderer() {
        return;
    }
    // The demo's data server, and the viewer as its operator (who may watch feeds).
    let dir = tempfile::tempdir().unwrap();
    let cache = std::env::var_os("CITYTWIN_TEST_CACHE").map(PathBuf::from).unwrap_or_else(|| dir.path().join("cache"));
    let demo = citytwin::viewer::embedded::start_demo(&cache, None).unwrap();
    let url = demo.server.url();
    let list = format!("{url}/api/cameras?limit=1&access_token={}", demo.operator_token);
    let page: serde_json::Value = reqwest::blocking::get(&list).unwrap().json().unwrap();
    let camera: citytwin::protocol::catalog::Camera = serde_json::from_value(page["cameras"][0].clone()).unwrap();
    // The same view behind camera 1, without and with its feed.
    let view = citytwin::viewer::cctv::behind(&camera).to_string();
    let args = ["--server", &url, "--token", &demo.operator_token, "--camera", &view];
    let without = render_sized("cctv_without", "320x240", &args);
    let id = camera.id.to_string();
    let with = render_sized("cctv_feed", "320x240", &[&args[..], &["--cctv", &id]].concat());
    let _ = with.save(dir.path().join("cctv_feed.png"));
    // The feed covers the road and the buildings ahead: many pixels change, and among them the
    // feed's own colours: its green verges and its dark asphalt, which the city does not have.
    let changed: Vec<[u8; 3]> = with
        .pixels()
        .zip(without.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0).map(|(x, y)| x.abs_diff(y) as u32).sum::<u32>() > 45)
        .map(|(a, _)| a.0)
        .collect();
    assert!(changed.len() > 320 * 240 / 20, "the feed covers {} pixels", changed.len());
    let verge = changed
        .iter()
        .filter(|p| (70.0..140.0).contains(&hue_saturation(**p).0) && hue_saturation(**p).1 > 0.2)
        .count();
    let asphalt = changed.iter().filter(|p| p.iter().all(|c| *c < 90)).count();
    assert!(
        verge > changed.len() / 10 && asphalt > changed.len() / 20,
        "{verge} verge, {asphalt} asphalt of {}",
        changed.len()
    );
    demo.server.stop().unwrap();
}

/// Pixels that differ between two renders by more than noise.
fn changed(a: &image::RgbImage, b: &image::RgbImage) -> Vec<[u8; 3]> {
    a.pixels()
        .zip(b.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0).map(|(x, y)| x.abs_diff(y) as u32).sum::<u32>() > 45)
        .map(|(a, _)| a.0)
        .collect()
}

#[test]
fn bim_tools_cut_filter_and_xray_the_duplex_in_the_city() {
    if !have_renderer() {
        return;
    }
    let Some(data) = common::data_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let cache = std::env::var_os("CITYTWIN_TEST_CACHE").map(PathBuf::from).unwrap_or_else(|| dir.path().join("cache"));
    // The demo stands the shared Duplex on a lot (the server's catalog lists it); look at it.
    let demo = citytwin::viewer::embedded::start_demo(&cache, None).unwrap();
    let model = citytwin::tiler::demo::ensure_demo_model(&cache, &data.join("bim/duplex/duplex.glb")).unwrap();
    let centre = model.placement.ecef_of(glam::DVec3::new(4.4, -8.9, 3.0));
    let view = citytwin::viewer::GeoCamera::looking_at(centre, 12.0).bookmark().unwrap().to_string();
    let url = demo.server.url();
    let shot = |name: &str, bim: &str| {
        let mut args = vec!["--server", &url, "--camera", &view];
        if !bim.is_empty() {
            args.extend(["--bim", bim]);
        }
        let img = render_sized(name, "320x240", &args);
        if let Some(out) = std::env::var_os("CITYTWIN_RENDER_ARTIFACTS") {
            let _ = img.save(Path::new(&out).join(format!("{name}.png")));
        }
        img
    };
    let plain = shot("bim_plain", "");
    let red = |p: &[u8; 3]| {
        let (h, s) = hue_saturation(*p);
        !(20.0..340.0).contains(&h) && s > 0.45
    };
    let green = |p: &[u8; 3]| (90.0..150.0).contains(&hue_saturation(*p).0) && hue_saturation(*p).1 > 0.4;
    let pixels = |img: &image::RgbImage| img.pixels().map(|p| p.0).collect::<Vec<_>>();
    let roof = pixels(&plain).iter().filter(|p| green(p)).count();
    assert!(roof > 500, "the Duplex's green roof is in view: {roof} pixels");
    assert_eq!(pixels(&plain).iter().filter(|p| red(p)).count(), 0, "no cap colour without a section");

    // A section at 1.5 m: the roof and the upper walls go, the cut walls show red caps.
    let section = shot("bim_section", "section=z:1.5");
    let caps = pixels(&section).iter().filter(|p| red(p)).count();
    assert!(caps > 300, "filled caps on the cut: {caps} pixels");
    assert_eq!(pixels(&section).iter().filter(|p| green(p)).count(), 0, "the roof is cut away");

    // The storey cut at Level 1: the roof goes, no caps (nothing is cut, storeys are hidden).
    let storey = shot("bim_storey", "storey=Level 1");
    assert_eq!(pixels(&storey).iter().filter(|p| green(p)).count(), 0, "the roof storey is hidden");
    assert!(changed(&storey, &plain).len() > roof, "the upper storey is gone");
    assert_eq!(pixels(&storey).iter().filter(|p| red(p)).count(), 0);

    // The stair isolated, the rest x-rayed: drawn every other pixel, so the roof's green thins to
    // about half and the city shows through. (Isolating does not fly there, as selecting does.)
    let xray = shot("bim_xray", "isolate=21ldoMpbP4VfsJ0XGY_34d,xray");
    let thinned = pixels(&xray).iter().filter(|p| green(p)).count();
    assert!((roof / 4..roof * 3 / 4).contains(&thinned), "x-rayed roof: {thinned} of {roof} green pixels");
    demo.server.stop().unwrap();
}

/// Hue (degrees) and saturation (0–1) of an sRGB colour, as HSV has them.
fn hue_saturation([r, g, b]: [u8; 3]) -> (f64, f64) {
    let [r, g, b] = [r, g, b].map(|v| v as f64 / 255.0);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let d = max - min;
    let hue = if d == 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (hue, if max == 0.0 { 0.0 } else { d / max })
}

#[test]
fn colours_the_city_by_height_on_the_legends_ramp() {
    if !have_renderer() {
        return;
    }
    let themed = check("demo_theme_height", &["--theme", "height"]);
    let plain = image::open(common::golden("demo_city")).unwrap().to_rgb8();
    // The buildings: what is neutral grey in the plain city (the ground is green-grey, the sky blue).
    let grey = |p: &image::Rgb<u8>| common::is_content(p) && hue_saturation(p.0).1 < 0.06;
    let buildings: Vec<(u32, u32)> =
        plain.enumerate_pixels().filter(|(_, _, p)| grey(p)).map(|(x, y, _)| (x, y)).collect();
    assert!(buildings.len() > 5000, "{} building pixels", buildings.len());
    let share = |f: &dyn Fn((f64, f64)) -> bool| {
        let n = buildings.iter().filter(|(x, y)| f(hue_saturation(themed.get_pixel(*x, *y).0))).count();
        n as f64 / buildings.len() as f64
    };
    // The legend's ends: its first (lowest) and last (highest) colour, lit and tone-mapped.
    let theme = citytwin::theme::Theme::Ramp { property: "height".into(), min: 0.0, max: 1.0 };
    let legend = theme.legend();
    let (low_hue, high_hue) = (hue_saturation(legend[0].1).0, hue_saturation(legend[4].1).0);
    let near = |h: f64, target: f64| (h - target).abs().min(360.0 - (h - target).abs()) < 30.0;
    let coloured = share(&|(_, s)| s > 0.25);
    assert!(coloured > 0.5, "{:.0} % of the buildings are coloured", coloured * 100.0);
    let (low, high) = (share(&|(h, s)| s > 0.25 && near(h, low_hue)), share(&|(h, s)| s > 0.25 && near(h, high_hue)));
    assert!(low > 0.05 && high > 0.05, "low buildings {:.0} %, high {:.0} %", low * 100.0, high * 100.0);
    // Viridis has no red or orange: no building turns those colours.
    let off_ramp = share(&|(h, s)| s > 0.25 && !(40.0..=300.0).contains(&h));
    assert!(off_ramp < 0.01, "{:.1} % red or orange", off_ramp * 100.0);
}

#[test]
fn renders_the_city_at_night() {
    if !have_renderer() {
        return;
    }
    // No golden: a picture this dark is one the comparison cannot tell from its mirror image
    // (mean |Δ| 2.5). What matters is checked directly, against the day's golden.
    let night = render("demo_night", &["--night"]);
    let day = image::open(common::golden("demo_city")).unwrap().to_rgb8();
    let luminance = |p: &image::Rgb<u8>| {
        let [r, g, b] = p.0.map(f64::from);
        0.2126 * r + 0.7152 * g + 0.0722 * b
    };
    let mean = |img: &image::RgbImage, city: bool| {
        let px: Vec<f64> = img
            .enumerate_pixels()
            .filter(|(x, y, _)| common::is_content(day.get_pixel(*x, *y)) == city)
            .map(|(_, _, p)| luminance(p))
            .collect();
        px.iter().sum::<f64>() / px.len().max(1) as f64
    };
    let (sky, city, day_city) = (mean(&night, false), mean(&night, true), mean(&day, true));
    assert!(sky < 25.0, "the night sky is dark: {sky:.0}");
    // Where the day shows sky, the night shows the night sky (the city stands where it stood).
    let c = citytwin::viewer::NIGHT_SKY.to_srgba();
    let night_sky = [c.red, c.green, c.blue].map(|v| (v * 255.0).round() as u8);
    let off_sky = night
        .enumerate_pixels()
        .filter(|(x, y, _)| !common::is_content(day.get_pixel(*x, *y)))
        .filter(|(_, _, p)| p.0.iter().zip(night_sky).any(|(a, b)| a.abs_diff(b) > 10))
        .count();
    assert!(off_sky < 200, "{off_sky} pixels of the day's sky are not the night sky");
    assert!(city < 0.6 * day_city, "the city is darker by night: {city:.0} vs {day_city:.0} by day");
    assert!(city > sky + 10.0, "and still stands out from the sky: {city:.0} vs {sky:.0}");
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
    let mut config = common::server_config(state.path());
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

/// Deliberately broken versions of each golden: the comparison must refuse every one, and accept
/// the golden itself and the golden with a little noise. This proves the tolerance, image by image.
#[test]
fn the_comparison_refuses_broken_pictures_of_every_golden() {
    type Break = fn(&image::RgbImage) -> image::RgbImage;
    let content_map = |img: &image::RgbImage, f: &mut dyn FnMut(u32, u32, image::Rgb<u8>) -> image::Rgb<u8>| {
        image::RgbImage::from_fn(img.width(), img.height(), |x, y| {
            let p = *img.get_pixel(x, y);
            if common::is_content(&p) { f(x, y, p) } else { p }
        })
    };
    let sky = image::Rgb(common::SKY);
    let breaks: [(&str, Break); 6] = [
        ("mirrored", |i| image::imageops::flip_horizontal(i)),
        ("upside down", |i| image::imageops::flip_vertical(i)),
        ("shifted 6 px", |i| {
            image::RgbImage::from_fn(i.width(), i.height(), |x, y| {
                if x >= 6 { *i.get_pixel(x - 6, y) } else { image::Rgb(common::SKY) }
            })
        }),
        ("all black", |i| {
            image::RgbImage::from_fn(i.width(), i.height(), |x, y| {
                let p = *i.get_pixel(x, y);
                if common::is_content(&p) { image::Rgb([0, 0, 0]) } else { p }
            })
        }),
        ("only sky", |i| image::RgbImage::from_pixel(i.width(), i.height(), image::Rgb(common::SKY))),
        ("darker by a third", |i| {
            image::RgbImage::from_fn(i.width(), i.height(), |x, y| {
                let p = *i.get_pixel(x, y);
                if common::is_content(&p) { image::Rgb(p.0.map(|v| (v as u32 * 2 / 3) as u8)) } else { p }
            })
        }),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut goldens: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    goldens.retain(|p| p.extension().is_some_and(|e| e == "png"));
    goldens.sort();
    assert!(goldens.len() >= 5, "{goldens:?}");
    let mut swaps_refused = 0;
    for path in &goldens {
        let name = path.file_stem().unwrap().to_string_lossy();
        let golden = image::open(path).unwrap().to_rgb8();
        assert!(common::compare(&golden, &golden).within_tolerance().is_ok(), "{name}: itself");
        let mut seed = 7u32;
        let noisy = content_map(&golden, &mut |_, _, p| {
            p.0.map(|v| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (v as i32 + (seed >> 29) as i32 - 3).clamp(0, 255) as u8
            })
            .into()
        });
        assert!(common::compare(&noisy, &golden).within_tolerance().is_ok(), "{name}: with ±3 noise");
        for (what, broken) in &breaks {
            let cmp = common::compare(&broken(&golden), &golden);
            assert!(cmp.within_tolerance().is_err(), "{name} {what} passed: {cmp:?}");
        }
        // The right half of the content gone.
        let (lo, hi) = golden
            .enumerate_pixels()
            .filter(|(_, _, p)| common::is_content(p))
            .fold((u32::MAX, 0), |(lo, hi), (x, _, _)| (lo.min(x), hi.max(x)));
        let half = content_map(&golden, &mut |x, _, p| if x > (lo + hi) / 2 { sky } else { p });
        assert!(common::compare(&half, &golden).within_tolerance().is_err(), "{name}: half missing passed");
        // Red and blue swapped: refused wherever the content is not grey on average.
        let swapped = content_map(&golden, &mut |_, _, p| image::Rgb([p[2], p[1], p[0]]));
        let cmp = common::compare(&swapped, &golden);
        if cmp.within_tolerance().is_err() {
            swaps_refused += 1;
        } else {
            assert!(cmp.channel_shift < 6.0, "{name}: a swap that shifts the channels passed: {cmp:?}");
        }
    }
    assert!(swaps_refused >= 1, "a channel swap is refused on the known-colour golden at least");
}

/// Three unlit squares 20 m wide on the ground: red at a point, green 30 m east of it, blue 30 m
/// north, with a tileset placing them there.
fn colour_squares(dir: &Path, lon_deg: f64, lat_deg: f64) -> PathBuf {
    use citytwin::geo::{Cartographic, WGS84, ecef_from_enu};
    // glTF is y-up: east is +x, north is −z.
    let square = |east: f32, north: f32| -> Vec<f32> {
        let (x, z) = (east, -north);
        let c = [[x - 10.0, z - 10.0], [x + 10.0, z - 10.0], [x + 10.0, z + 10.0], [x - 10.0, z + 10.0]];
        [0, 1, 2, 0, 2, 3].iter().flat_map(|i| [c[*i][0], 0.0, c[*i][1]]).collect()
    };
    let mut bin = Vec::new();
    let (mut views, mut accessors, mut meshes, mut materials) = (vec![], vec![], vec![], vec![]);
    for (i, (east, north, rgb)) in
        [(0.0, 0.0, [1, 0, 0]), (30.0, 0.0, [0, 1, 0]), (0.0, 30.0, [0, 0, 1])].iter().enumerate()
    {
        let v = square(*east, *north);
        views.push(serde_json::json!({"buffer": 0, "byteOffset": bin.len(), "byteLength": v.len() * 4}));
        let (min, max) = ([east - 10.0, 0.0, -north - 10.0], [east + 10.0, 0.0, -north + 10.0]);
        accessors.push(serde_json::json!({"bufferView": i, "componentType": 5126, "count": 6, "type": "VEC3", "min": min, "max": max}));
        meshes.push(serde_json::json!({"primitives": [{"attributes": {"POSITION": i}, "material": i}]}));
        materials.push(serde_json::json!({"pbrMetallicRoughness": {"baseColorFactor": [rgb[0], rgb[1], rgb[2], 1]},
            "doubleSided": true, "extensions": {"KHR_materials_unlit": {}}}));
        bin.extend(citytwin::tiles::content::write::f32_bytes(&v));
    }
    let gltf = serde_json::json!({"asset": {"version": "2.0"}, "extensionsUsed": ["KHR_materials_unlit"], "scene": 0,
        "scenes": [{"nodes": [0, 1, 2]}], "nodes": [{"mesh": 0}, {"mesh": 1}, {"mesh": 2}], "meshes": meshes,
        "materials": materials, "accessors": accessors, "bufferViews": views, "buffers": [{"byteLength": bin.len()}]});
    let glb = citytwin::tiles::content::write::glb(&serde_json::to_vec(&gltf).unwrap(), Some(&bin));
    std::fs::write(dir.join("squares.glb"), glb).unwrap();
    let origin = WGS84.ecef_from_cartographic(Cartographic::from_degrees(lon_deg, lat_deg, 0.0));
    let tileset = serde_json::json!({"asset": {"version": "1.1"}, "geometricError": 100, "root": {
        "transform": ecef_from_enu(origin).to_cols_array(), "refine": "ADD", "geometricError": 0,
        "boundingVolume": {"box": [15, 15, 0, 30, 0, 0, 0, 30, 0, 0, 0, 5]}, "content": {"uri": "squares.glb"}}});
    let path = dir.join("tileset.json");
    std::fs::write(&path, serde_json::to_vec(&tileset).unwrap()).unwrap();
    path
}

/// Known geometry at known pixels, independent of any golden: from 100 m straight above with a 50°
/// vertical field of view on 240 rows, a metre on the ground is 120 / (100 · tan 25°) = 2.57 px, so
/// red is at the centre, green 77 px right, blue 77 px up, and 15 m east (between them) is sky.
/// Pure red, green and blue also make the channel order visible.
#[test]
fn known_colours_land_on_known_pixels() {
    if !have_renderer() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tileset = colour_squares(dir.path(), 114.06, 22.54);
    let img = check("colour_squares", &["--tileset", tileset.to_str().unwrap(), "--camera", "114.06,22.54,100,0,-90"]);
    let px_per_m = 120.0 / (100.0 * 25f64.to_radians().tan());
    let at = |east_m: f64, north_m: f64| {
        let (x, y) = (160.0 + east_m * px_per_m, 120.0 - north_m * px_per_m);
        // The mean of a 5 × 5 patch around the point.
        let mut sum = [0u32; 3];
        for dy in -2..=2 {
            for dx in -2..=2 {
                let p = img.get_pixel((x as i32 + dx) as u32, (y as i32 + dy) as u32);
                (0..3).for_each(|k| sum[k] += p[k] as u32);
            }
        }
        sum.map(|v| (v / 25) as i32)
    };
    let dominant = |c: [i32; 3], k: usize| c[k] > 120 && (0..3).all(|j| j == k || c[k] > c[j] + 80);
    for (east, north, k, what) in
        [(0.0, 0.0, 0, "red"), (30.0, 0.0, 1, "green"), (0.0, 30.0, 2, "blue"), (7.0, -7.0, 0, "red")]
    {
        let c = at(east, north);
        assert!(dominant(c, k), "{what} expected {east} m east, {north} m north: got {c:?}");
    }
    for (east, north) in [(15.0, 0.0), (0.0, 15.0), (-20.0, -20.0), (30.0, 30.0)] {
        let c = at(east, north);
        assert!((0..3).all(|k| (c[k] - common::SKY[k] as i32).abs() < 12), "sky expected at {east}, {north}: {c:?}");
    }
}

/// Where the camera looks at the demo's planning site from: south of it, high over the downtown
/// towers: (metres south of the site's centre, metres up, pitch in degrees).
const SITE_VIEW: (f64, f64, f64) = (330.0, 700.0, -62.0);

/// The `--camera` value of `SITE_VIEW`, and the site.
fn site_view() -> (String, citytwin::scenario::Site) {
    let scenario = citytwin::tiler::demo::demo_scenario();
    let site = citytwin::scenario::Site::new(&scenario.site).unwrap();
    let (south, up, pitch) = SITE_VIEW;
    let c = site.frame.to_geodetic(0.0, -south);
    (format!("{},{},{up},0,{pitch}", c.lon_rad.to_degrees(), c.lat_rad.to_degrees()), site)
}

/// Where a point (site metres) lands in a `width`×`height` render from `site_view`: a pinhole
/// with the viewer's 50° vertical field of view.
fn site_pixel_in(p: glam::DVec3, width: f64, height: f64) -> (f64, f64) {
    use glam::DVec3;
    let eye = DVec3::new(0.0, -SITE_VIEW.0, SITE_VIEW.1);
    let pitch = SITE_VIEW.2.to_radians();
    let forward = DVec3::new(0.0, pitch.cos(), pitch.sin());
    let up = DVec3::X.cross(forward);
    let v = p - eye;
    let focal_px = height / 2.0 / 25f64.to_radians().tan();
    (width / 2.0 + focal_px * v.x / v.dot(forward), height / 2.0 - focal_px * v.dot(up) / v.dot(forward))
}

/// A ground point's pixel in a 320×240 render from `site_view`.
fn site_pixel(p: [f64; 2]) -> (f64, f64) {
    site_pixel_in(glam::DVec3::new(p[0], p[1], 0.0), 320.0, 240.0)
}

/// The pixels (x range, y range) where the demo site and anything up to 135 m on it can appear in
/// a `width`×`height` render from `site_view`, clipped to `x_range`.
fn site_box(width: f64, height: f64, x_range: (u32, u32)) -> (u32, u32, u32, u32) {
    let corners = [-50.0, 50.0].into_iter().flat_map(|x| [-45.0, 45.0].map(move |y| (x, y)));
    let pixels: Vec<(f64, f64)> = corners
        .flat_map(|(x, y)| [0.0, 135.0].map(|z| site_pixel_in(glam::DVec3::new(x, y, z), width, height)))
        .collect();
    let (x0, x1) = pixels.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = pixels.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let x0 = (x0.floor().max(0.0) as u32).max(x_range.0);
    let x1 = (x1.ceil().min(width) as u32).min(x_range.1);
    (x0, y0.floor().max(0.0) as u32, x1 - x0, (y1.ceil().min(height) as u32) - y0.floor().max(0.0) as u32)
}

/// `img` cut to `(x, y, w, h)`.
fn crop(img: &image::RgbImage, (x, y, w, h): (u32, u32, u32, u32)) -> image::RgbImage {
    image::imageops::crop_imm(img, x, y, w, h).to_image()
}

/// The demo site's comparison at 12:00 on the March equinox, as `args` add to it; without
/// shadows, which only the city casts while two views compare.
fn render_site(name: &str, size: &str, extra: &[&str]) -> image::RgbImage {
    let (camera, _) = site_view();
    let mut args = vec!["--scenario", "demo-site", "--sun", "2026-03-20T12:00", "--no-shadows", "--camera", &camera];
    args.extend(extra);
    let img = render_sized(name, size, &args);
    img.save(std::env::temp_dir().join(format!("citytwin-{name}.png"))).unwrap();
    img
}

/// `part` must match `same` within the render tolerance, and must not match `other`: it shows the
/// one variant and not the other.
fn shows(what: &str, part: &image::RgbImage, same: &image::RgbImage, other: &image::RgbImage) {
    let c = common::compare(part, same);
    assert!(c.within_tolerance().is_ok(), "{what}: {c:?}");
    let wrong = common::compare(part, other);
    assert!(wrong.within_tolerance().is_err(), "{what} also passes for the other variant: {wrong:?}");
}

#[test]
fn a_swipe_shows_a_left_of_the_divider_and_b_right_of_it() {
    if !have_renderer() {
        return;
    }
    let swipe = render_site("swipe", "320x240", &["--variant", "tower", "--other", "midrise", "--compare", "swipe"]);
    let tower = render_site("tower_alone", "320x240", &["--variant", "tower"]);
    let midrise = render_site("midrise_alone", "320x240", &["--variant", "midrise"]);
    // The divider starts at the middle, over the site's centre.
    let (left, right) = (site_box(320.0, 240.0, (0, 160)), site_box(320.0, 240.0, (160, 320)));
    shows("left of the divider: A, the tower", &crop(&swipe, left), &crop(&tower, left), &crop(&midrise, left));
    shows("right of it: B, the block", &crop(&swipe, right), &crop(&midrise, right), &crop(&tower, right));
}

#[test]
fn side_by_side_shows_a_and_b_whole() {
    if !have_renderer() {
        return;
    }
    let both = render_site(
        "side_by_side",
        "320x240",
        &["--variant", "tower", "--other", "midrise", "--compare", "side-by-side"],
    );
    let tower = render_site("tower_half", "160x240", &["--variant", "tower"]);
    let midrise = render_site("midrise_half", "160x240", &["--variant", "midrise"]);
    let site = site_box(160.0, 240.0, (0, 160));
    let left = crop(&both, (0, 0, 160, 240));
    let right = crop(&both, (160, 0, 160, 240));
    shows("the left view: A, the tower", &crop(&left, site), &crop(&tower, site), &crop(&midrise, site));
    shows("the right view: B, the block", &crop(&right, site), &crop(&midrise, site), &crop(&tower, site));
}

/// Mean luminance (0–255) of the pixels within 3 px of each point.
fn luminance_at(img: &image::RgbImage, points: &[(f64, f64)]) -> f64 {
    let mut sum = 0.0;
    let mut n = 0;
    for &(x, y) in points {
        for dy in -3..=3 {
            for dx in -3..=3 {
                let (px, py) = (x.round() as i64 + dx, y.round() as i64 + dy);
                if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                    let [r, g, b] = img.get_pixel(px as u32, py as u32).0.map(f64::from);
                    sum += 0.2126 * r + 0.7152 * g + 0.0722 * b;
                    n += 1;
                }
            }
        }
    }
    sum / n.max(1) as f64
}

#[test]
fn the_buildings_on_the_site_make_way_for_a_variant() {
    if !have_renderer() {
        return;
    }
    // The park leaves most of the site open: as built, the city's buildings stand there.
    let as_built = render_site("site_as_built", "320x240", &["--variant", "none"]);
    let park = render_site("site_park", "320x240", &["--variant", "park"]);
    let site = site_box(320.0, 240.0, (0, 320));
    let on_site = common::compare(&crop(&park, site), &crop(&as_built, site));
    assert!(on_site.within_tolerance().is_err(), "the site looks as built with the park on it: {on_site:?}");
    // Away from the site (the top of the picture, far behind it) nothing changed.
    let far = (0, 0, 320, site.1.min(60));
    let elsewhere = common::compare(&crop(&park, far), &crop(&as_built, far));
    assert!(elsewhere.within_tolerance().is_ok(), "the city away from the site changed: {elsewhere:?}");
    // The site's open ground, clear of the pavilion (20 × 12 m at its centre), is as bright as
    // open ground: no hidden building is drawn there, nor casts its shadow.
    let open: Vec<(f64, f64)> = [(-35.0, -30.0), (35.0, -30.0), (-35.0, 30.0), (35.0, 30.0), (0.0, -30.0)]
        .into_iter()
        .map(|(x, y)| site_pixel([x, y]))
        .collect();
    let ground = luminance_at(&park, &open);
    let street = luminance_at(&park, &[site_pixel([0.0, -52.0])]);
    assert!((ground - street).abs() < 0.15 * street, "site ground {ground:.0} vs the street south of it {street:.0}");
}

#[test]
fn renders_a_planning_variant_in_the_sun() {
    if have_renderer() {
        let (camera, _) = site_view();
        let args = ["--scenario", "demo-site", "--variant", "tower", "--sun", "2026-03-20T15:00", "--camera", &camera];
        check("planning_tower", &args);
    }
}

#[test]
fn the_towers_shadow_falls_away_from_the_sun() {
    if !have_renderer() {
        return;
    }
    let (camera, site) = site_view();
    let render_at = |name: &str, variant: &str, shadows: bool| {
        let mut args = vec!["--scenario", "demo-site", "--variant", variant, "--sun", "2026-03-20T15:00"];
        args.extend(["--camera", &camera]);
        if !shadows {
            args.push("--no-shadows");
        }
        let img = render(name, &args);
        img.save(std::env::temp_dir().join(format!("citytwin-{name}.png"))).unwrap();
        img
    };
    // 15:00 at UTC+8 on the March equinox: the sun in the south-west, 42° up; the 130 m tower's
    // shadow falls north-east, over the cleared site. Downtown towers shade parts of the site too,
    // so the tower's own shadow is what the tower adds to the cleared site (the park, whose
    // pavilion stands at the centre, clear of the points measured).
    let (lon, lat) = (site.frame.origin.lon_rad.to_degrees(), site.frame.origin.lat_rad.to_degrees());
    let sun = citytwin::scenario::sun::sun_position(time::macros::datetime!(2026-03-20 07:00 UTC), lon, lat);
    assert!(sun.azimuth_deg > 200.0 && sun.azimuth_deg < 260.0 && sun.true_elevation_deg > 30.0, "{sun:?}");
    // Ground points on the site 30–50 m from the tower's centre, away from the sun and towards it.
    let along = |azimuth_deg: f64| -> Vec<(f64, f64)> {
        let a = azimuth_deg.to_radians();
        (0..5).map(|k| 30.0 + 5.0 * k as f64).map(|d| site_pixel([d * a.sin(), d * a.cos()])).collect()
    };
    let (away, towards) = (along(sun.azimuth_deg + 180.0), along(sun.azimuth_deg));
    let shadows = render_at("tower_shadows", "tower", true);
    let no_shadows = render_at("tower_no_shadows", "tower", false);
    let as_built = render_at("park_shadows", "park", true);
    let lum = |img: &image::RgbImage, pts: &[(f64, f64)]| luminance_at(img, pts);
    let (dark, lit, bare) = (lum(&shadows, &away), lum(&no_shadows, &away), lum(&as_built, &away));
    assert!(dark < 0.6 * lit, "shadows on must darken the ground behind the tower: {dark:.0} vs {lit:.0} off");
    assert!(dark < 0.75 * bare, "the tower's own shadow: {dark:.0} with it vs {bare:.0} with the park");
    let (sunny, sunny_bare) = (lum(&shadows, &towards), lum(&as_built, &towards));
    assert!((sunny - sunny_bare).abs() < 0.1 * sunny_bare, "no shadow towards the sun: {sunny:.0} vs {sunny_bare:.0}");
}

/// A colour test on a pixel's hue (degrees), saturation and value (0–255).
type Colour<'a> = &'a dyn Fn(f64, f64, u8) -> bool;

/// A drill at one moment, seen from above at 480 × 270, against its golden; then, for each `(what, colour, least)`,
/// at least `least` pixels of that colour.
fn check_drill(name: &str, drill: &str, camera: &str, wanted: &[(&str, Colour, usize)]) {
    let img = against_golden(name, name, render_sized(name, "480x270", &["--drill", drill, "--camera", camera]));
    for (what, colour, least) in wanted {
        let n = img
            .pixels()
            .filter(|p| {
                let (hue, saturation) = hue_saturation(p.0);
                colour(hue, saturation, *p.0.iter().max().unwrap())
            })
            .count();
        assert!(n >= *least, "{name}: {n} pixels of {what}, fewer than {least}");
    }
}

/// The hazard levels' red, orange and yellow, saturated (buildings in the hazard, zones, a cordon, jammed roads).
fn level_colour(hue: f64, saturation: f64, _: u8) -> bool {
    !(55.0..=345.0).contains(&hue) && saturation > 0.45
}

#[test]
fn renders_a_flood_over_the_terrain() {
    // 19 minutes in: the breach of the south levee has spread water along its foot, and the flooded buildings
    // turn red. The flood's water is cyan to navy (the river's own surface is a lit blue, hue 210°).
    let water = |h: f64, s: f64, _| (170.0..200.0).contains(&h) && s > 0.35;
    let wanted: [(&str, Colour, usize); 2] = [("flood water", &water, 400), ("flooded buildings", &level_colour, 400)];
    if have_renderer() {
        check_drill("drill_flood", "flood-drill@1140", "114.0550,22.5385,1400,0,-85", &wanted);
    }
}

#[test]
fn renders_a_gas_plume_and_its_evacuation() {
    // 20 minutes in: the buildings downwind of the leak in their zones (red, orange, yellow), and the routes out
    // of the 10 % LEL zone.
    let routes = |h: f64, s: f64, _| (120.0..160.0).contains(&h) && s > 0.3;
    let wanted: [(&str, Colour, usize); 2] = [("gas zones", &level_colour, 800), ("evacuation routes", &routes, 50)];
    if have_renderer() {
        check_drill("drill_plume", "gas-leak-drill@1200", "114.0605,22.5425,900,0,-80", &wanted);
    }
}

#[test]
fn renders_an_evacuation_on_the_roads() {
    // 15 minutes after a downtown cordon: the buildings inside, the cordon, the routes jammed red with the
    // vehicles on them (violet).
    let vehicles = |h: f64, s: f64, _| (250.0..300.0).contains(&h) && s > 0.25;
    let wanted: [(&str, Colour, usize); 2] =
        [("buildings, cordon and jammed routes", &level_colour, 2500), ("vehicles", &vehicles, 20)];
    if have_renderer() {
        check_drill("drill_evacuation", "evacuation-drill@900", "114.0637,22.5430,1800,0,-80", &wanted);
    }
}
