//! The demo city of the viewer's embedded default: procedural, made on first use, then cached.

use std::path::{Path, PathBuf};

use glam::{DVec2, DVec3};

use super::bim::{self, BimModel, Placement};
use super::procedural::{ProceduralOptions, generate};
use super::{Building, TileOptions, write_city};
use crate::geo::LocalFrame;
use crate::protocol::catalog::{Design, Massing, Scenario, Setback, Variant};

/// Buildings in the demo city; the version names the cache entry, so a change regenerates it.
pub const DEMO_BUILDINGS: usize = 20_000;
pub const DEMO_SEED: u64 = 1;
const DEMO_VERSION: &str = "v6";
/// The demo's planning site in the city's local metres (min, max): a downtown block east of the
/// centre, between the streets. The city builds on it; the viewer hides those buildings while a
/// variant stands there (through their feature state).
pub const DEMO_SITE_M: ([f64; 2], [f64; 2]) = ([210.0, 40.0], [300.0, 120.0]);

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
    write_city(&demo_city(), &staging, &TileOptions::default())?;
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

/// The demo city: procedural.
pub fn demo_city() -> super::City {
    generate(&ProceduralOptions::new(DEMO_BUILDINGS, DEMO_SEED))
}

/// The demo's BIM model on its lot: the tileset, the city building it replaces, where it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DemoModel {
    pub tileset: PathBuf,
    pub replaces: String,
    pub placement: Placement,
}

/// Where the demo puts its model: the lot nearest this point (the city's local metres) whose
/// building's footprint is most like the model's.
const DEMO_MODEL_NEAR_M: [f64; 2] = [-120.0, 60.0];

/// Tiles the model `glb` (the shared data's Duplex) onto a lot of the demo city the first time,
/// under `cache_dir`, and returns it; the lot's building is the one it replaces.
pub fn ensure_demo_model(cache_dir: &Path, glb: &Path) -> Result<DemoModel, bim::BimError> {
    let dir = cache_dir.join(format!("demo-model-{DEMO_VERSION}-{DEMO_BUILDINGS}-{DEMO_SEED}"));
    let lot = dir.join("lot.json");
    if let Some(model) = std::fs::read(&lot).ok().and_then(|b| serde_json::from_slice(&b).ok()) {
        return Ok(model);
    }
    let model = BimModel::from_glb(&std::fs::read(glb)?)?;
    let (lo, hi) = model
        .with_geometry()
        .filter_map(|p| p.bounds())
        .fold((DVec3::INFINITY, DVec3::NEG_INFINITY), |(a, b), (lo, hi)| (a.min(lo), b.max(hi)));
    // glTF y-up: the model's plan is x and −z.
    let (min, max) = (DVec2::new(lo.x, -hi.z), DVec2::new(hi.x, -lo.z));
    let city = demo_city();
    let building = lot_for(&city.buildings, max - min).ok_or(bim::BimError::Empty)?;
    let placement = place_on(building, min, max);
    bim::write_model(&model, placement, &dir)?;
    let demo = DemoModel { tileset: dir.join("tileset.json"), replaces: building.id.clone(), placement };
    std::fs::write(&lot, serde_json::to_vec_pretty(&demo).expect("JSON"))?;
    Ok(demo)
}

/// A footprint's bounding box in local metres.
fn footprint_box(b: &Building) -> (DVec2, DVec2) {
    b.outer
        .iter()
        .map(|p| DVec2::from(*p))
        .fold((DVec2::INFINITY, DVec2::NEG_INFINITY), |(a, c), p| (a.min(p), c.max(p)))
}

/// The building whose footprint best fits a model of plan `size` (either way round), near
/// [`DEMO_MODEL_NEAR_M`].
fn lot_for(buildings: &[Building], size: DVec2) -> Option<&Building> {
    let score = |b: &Building| {
        let (lo, hi) = footprint_box(b);
        let (d, near) = (hi - lo, DVec2::from(DEMO_MODEL_NEAR_M));
        let fit = (d - size).abs().element_sum().min((d - DVec2::new(size.y, size.x)).abs().element_sum());
        fit + (0.5 * (lo + hi)).distance(near) / 50.0
    };
    buildings.iter().min_by(|a, b| score(a).total_cmp(&score(b)))
}

/// The placement that stands a model of plan bounds `min`..`max` (model metres) on `building`'s
/// lot: centred on it, turned so the long sides agree, on the ground under it.
fn place_on(building: &Building, min: DVec2, max: DVec2) -> Placement {
    let (lo, hi) = footprint_box(building);
    let (lot, model) = (hi - lo, max - min);
    let heading_deg: f64 = if (lot.x > lot.y) == (model.x > model.y) { 0.0 } else { 90.0 };
    // ENU = R(−heading) · model: at 90° the model's +Y points east and +X south.
    let (s, c) = (-heading_deg.to_radians()).sin_cos();
    let centre = 0.5 * (min + max);
    let turned = DVec2::new(c * centre.x - s * centre.y, s * centre.x + c * centre.y);
    let origin = 0.5 * (lo + hi) - turned;
    let frame = LocalFrame::new(ProceduralOptions::new(DEMO_BUILDINGS, DEMO_SEED).origin);
    let at = frame.to_geodetic(origin.x, origin.y);
    Placement {
        lon_deg: at.lon_rad.to_degrees(),
        lat_deg: at.lat_rad.to_degrees(),
        // The building's base is the ground's height above the ellipsoid, in the frame that curves away.
        height_m: building.base_z_m - frame.surface_z(building.center()[0], building.center()[1]),
        heading_deg,
    }
}

/// The demo city's planning study: a 90 × 80 m downtown site east of the centre, and three options
/// for it (a tower on a podium, a mid-rise block, a park with a pavilion), all massings.
pub fn demo_scenario() -> Scenario {
    let frame = LocalFrame::new(ProceduralOptions::new(DEMO_BUILDINGS, DEMO_SEED).origin);
    let deg = |x: f64, y: f64| {
        let c = frame.to_geodetic(x, y);
        [c.lon_rad.to_degrees(), c.lat_rad.to_degrees()]
    };
    let rect = |x0: f64, y0: f64, x1: f64, y1: f64| vec![deg(x0, y0), deg(x1, y0), deg(x1, y1), deg(x0, y1)];
    let massing = |footprint, floors, floor_height_m, setbacks: &[(u32, f64)], usage: &str| {
        Design::Massing(Massing {
            footprint,
            floors,
            floor_height_m,
            setbacks: setbacks.iter().map(|&(from_floor, inset_m)| Setback { from_floor, inset_m }).collect(),
            usage: usage.into(),
        })
    };
    let variant = |id: &str, name: &str, design| Variant { id: id.into(), name: name.into(), design };
    Scenario {
        id: "demo-site".into(),
        name: "Downtown site: three options".into(),
        kind: "planning".into(),
        description: "A tower on a podium, a mid-rise block or a park with a pavilion on one downtown site".into(),
        site: rect(DEMO_SITE_M.0[0], DEMO_SITE_M.0[1], DEMO_SITE_M.1[0], DEMO_SITE_M.1[1]),
        variants: vec![
            variant(
                "tower",
                "A: tower on a podium",
                massing(rect(230.0, 60.0, 280.0, 100.0), 36, 3.6, &[(4, 6.0), (28, 3.0)], "office"),
            ),
            variant(
                "midrise",
                "B: mid-rise block",
                massing(rect(215.0, 45.0, 295.0, 115.0), 9, 3.2, &[(7, 3.0)], "apartments"),
            ),
            variant(
                "park",
                "C: park with a pavilion",
                massing(rect(245.0, 72.0, 265.0, 84.0), 1, 5.0, &[], "pavilion"),
            ),
        ],
        drill: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_stands_centred_on_its_lot_and_turned_to_it() {
        let frame = LocalFrame::new(ProceduralOptions::new(DEMO_BUILDINGS, DEMO_SEED).origin);
        // A 30 m (east) × 10 m (north) lot centred at (100, 50); a model 9 × 27 m in plan.
        let outer = vec![[85.0, 45.0], [115.0, 45.0], [115.0, 55.0], [85.0, 55.0]];
        let lot = Building { id: "procedural/7".into(), outer, ..Default::default() };
        let (min, max) = (DVec2::new(-0.2, -22.2), DVec2::new(9.0, 4.4));
        let p = place_on(&lot, min, max);
        assert_eq!(p.heading_deg, 90.0, "the model's long side (y) turns east");
        let centre = 0.5 * (min + max);
        let at = p.ecef_of(DVec3::new(centre.x, centre.y, 0.0));
        let want = frame.ecef_from_enu.transform_point3(DVec3::new(100.0, 50.0, frame.surface_z(100.0, 50.0)));
        assert!((at - want).length() < 0.01, "{}", (at - want).length());
        // The model's +Y end lies east.
        let east = frame.enu_from_ecef.transform_point3(p.ecef_of(DVec3::new(centre.x, max.y, 0.0)));
        assert!((east.x - (100.0 + (max.y - centre.y))).abs() < 0.01 && (east.y - 50.0).abs() < 0.01, "{east}");
        // The best fit of two buildings is the one of the model's size.
        let square = Building {
            id: "square".into(),
            outer: vec![[-120.0, 60.0], [-100.0, 60.0], [-100.0, 80.0], [-120.0, 80.0]],
            ..Default::default()
        };
        assert_eq!(lot_for(&[square, lot.clone()], max - min).unwrap().id, "procedural/7");
    }
    use crate::scenario::Site;
    use crate::scenario::metrics::variant_metrics;

    #[test]
    fn the_city_stands_on_the_planning_site() {
        // The viewer's site clearing has buildings to hide: every one whose footprint centre is on
        // the site, and not the neighbours reaching in.
        let city = demo_city();
        let site = Site::new(&demo_scenario().site).unwrap();
        let frame = LocalFrame::new(ProceduralOptions::new(DEMO_BUILDINGS, DEMO_SEED).origin);
        let on_site = |b: &&super::super::Building| {
            let (lo, hi) = b.bounds();
            let at = |x: f64, y: f64| {
                let c = frame.to_geodetic(x, y);
                site.local([c.lon_rad.to_degrees(), c.lat_rad.to_degrees()])
            };
            let (a, b) = (at(lo[0], lo[1]), at(hi[0], hi[1]));
            site.holds((glam::DVec3::new(a[0], a[1], 0.0), glam::DVec3::new(b[0], b[1], 0.0)))
        };
        assert!(city.buildings.iter().filter(on_site).count() >= 3, "downtown builds there");
        assert_eq!(city.buildings.len(), DEMO_BUILDINGS);
    }

    #[test]
    fn the_demo_scenario_is_well_formed_and_measures_as_drawn() {
        let s = demo_scenario();
        s.check().unwrap();
        let site = Site::new(&s.site).unwrap();
        assert!((site.area_m2() - 90.0 * 80.0).abs() < 1.0, "{}", site.area_m2());
        let metrics: Vec<_> = s
            .variants
            .iter()
            .map(|v| {
                let Design::Massing(m) = &v.design else { panic!("the demo's variants are massings") };
                variant_metrics(&site.massing(m).unwrap(), &site.outline_m, 3.0)
            })
            .collect();
        // The tower: 50 × 40 podium of 4 floors, 38 × 28 shaft to floor 28, 32 × 22 crown to 36.
        let tower_gfa = 4.0 * 2000.0 + 24.0 * 1064.0 + 8.0 * 704.0;
        assert!((metrics[0].gross_floor_area_m2 - tower_gfa).abs() < 5.0, "{:?}", metrics[0]);
        assert!((metrics[0].height_m - 36.0 * 3.6).abs() < 1e-9);
        // The block covers 80 × 70 of the 90 × 80 site; the park almost nothing.
        assert!((metrics[1].site_coverage - 5600.0 / 7200.0).abs() < 0.001, "{:?}", metrics[1]);
        assert!(metrics[2].site_coverage < 0.05 && metrics[2].plot_ratio < 0.05);
        // Every site point is downtown ground between the streets (block (1, 0): x 196–356, y 22–172).
        for p in &site.outline_m {
            let world = site.frame.ecef_from_enu.transform_point3(glam::DVec3::new(p[0], p[1], 0.0));
            let city = LocalFrame::new(ProceduralOptions::new(DEMO_BUILDINGS, DEMO_SEED).origin);
            let q = city.enu_from_ecef.transform_point3(world);
            assert!((196.0..=356.0).contains(&q.x) && (22.0..=172.0).contains(&q.y), "{q}");
        }
    }

    #[test]
    fn made_once_then_reused() {
        let cache = tempfile::tempdir().unwrap();
        let first = ensure_demo_city(cache.path()).unwrap();
        let made = std::fs::metadata(&first).unwrap().modified().unwrap();
        let second = ensure_demo_city(cache.path()).unwrap();
        assert_eq!(first, second);
        assert_eq!(std::fs::metadata(&second).unwrap().modified().unwrap(), made, "not regenerated");
        assert!(first.parent().unwrap().join("ground/0/0_0.glb").is_file());
        let staging: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".staging"))
            .collect();
        assert!(staging.is_empty());
    }
}
