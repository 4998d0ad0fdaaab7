//! Procedural cities: a deterministic street grid with arterials, blocks cut into lots, and
//! districts (downtown, commercial, residential, industrial, suburban) that set lot sizes,
//! building shapes and heights. The same seed always gives the same city.

use std::collections::HashMap;

use super::{Building, City, relief, rings};
use crate::geo::{Cartographic, LocalFrame};
use crate::protocol::roads::{NodePos, RoadWay, build_graph};
use crate::tiles::Warnings;

/// What to generate.
#[derive(Debug, Clone)]
pub struct ProceduralOptions {
    pub buildings: usize,
    pub seed: u64,
    /// Where the city stands (default: Futian, Shenzhen).
    pub origin: Cartographic,
    /// On the relief of [`super::relief`] (a river valley and hills; the default), else on flat ground.
    pub terrain: bool,
}

impl ProceduralOptions {
    pub fn new(buildings: usize, seed: u64) -> Self {
        Self { buildings, seed, origin: Cartographic::from_degrees(114.0579, 22.5431, 0.0), terrain: true }
    }
}

/// Street spacing (centre to centre) and half-widths.
const PITCH_M: f64 = 184.0;
const ARTERIAL_EVERY: i64 = 5;

fn half_width_m(line: i64) -> f64 {
    if line.rem_euclid(ARTERIAL_EVERY) == 0 { 22.0 } else { 12.0 }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum District {
    Downtown,
    Commercial,
    Residential,
    Industrial,
    Suburban,
}

impl District {
    fn lot_m(self) -> f64 {
        match self {
            District::Downtown => 42.0,
            District::Commercial => 34.0,
            District::Residential => 28.0,
            District::Industrial => 62.0,
            District::Suburban => 19.0,
        }
    }

    fn setback_m(self) -> f64 {
        match self {
            District::Downtown | District::Commercial => 3.0,
            District::Residential => 2.5,
            District::Industrial => 7.0,
            District::Suburban => 4.0,
        }
    }

    /// Height range before falloff with distance from the centre.
    fn heights_m(self) -> (f64, f64) {
        match self {
            District::Downtown => (60.0, 280.0),
            District::Commercial => (15.0, 60.0),
            District::Residential => (12.0, 36.0),
            District::Industrial => (6.0, 15.0),
            District::Suburban => (5.0, 9.0),
        }
    }

    fn kinds(self) -> &'static [&'static str] {
        match self {
            District::Downtown => &["office", "office", "hotel", "apartments"],
            District::Commercial => &["commercial", "retail", "office"],
            District::Residential => &["apartments", "apartments", "residential", "school"],
            District::Industrial => &["industrial", "warehouse"],
            District::Suburban => &["house", "house", "detached"],
        }
    }
}

/// Generates the city.
pub fn generate(o: &ProceduralOptions) -> City {
    let mut rng = fastrand::Rng::with_seed(o.seed);
    let frame = LocalFrame::new(o.origin);
    // Blocks, nearest the centre first, enough for the buildings asked for (about 14 per block).
    let blocks_needed = (o.buildings as f64 / 14.0).ceil().max(1.0);
    let mut radius = (blocks_needed / std::f64::consts::PI).sqrt() + 2.0;
    let centres = districts(&mut rng, radius);
    let mut buildings = Vec::with_capacity(o.buildings);
    let mut used_blocks = Vec::new();
    let mut done = HashMap::new();
    while buildings.len() < o.buildings {
        let r = radius.ceil() as i64;
        let mut order: Vec<(i64, i64)> =
            (-r..r).flat_map(|i| (-r..r).map(move |j| (i, j))).filter(|b| !done.contains_key(b)).collect();
        order.sort_by(|a, b| block_distance(*a).total_cmp(&block_distance(*b)).then(a.cmp(b)));
        for block in order {
            if buildings.len() >= o.buildings {
                break;
            }
            done.insert(block, ());
            if block_distance(block) > radius {
                continue;
            }
            let district = district_of(&centres, block, radius);
            fill_block(&mut rng, o, block, district, radius, &mut buildings);
            used_blocks.push(block);
        }
        radius *= 1.25;
    }
    let roads = street_graph(&frame, &used_blocks);
    let mut city =
        City { origin: o.origin, buildings, roads, ground: None, waterways: Vec::new(), warnings: Warnings::default() };
    if o.terrain {
        let (lo, hi) = city.extent_m();
        city.ground = Some(relief::relief(lo, hi));
        city.waterways.push(relief::river(lo[0], hi[0]));
    }
    city.stand_on_ground();
    city
}

fn block_distance((i, j): (i64, i64)) -> f64 {
    ((i as f64 + 0.5).powi(2) + (j as f64 + 0.5).powi(2)).sqrt()
}

/// District centres in block units: downtown at the middle, the rest scattered. Kinds come
/// from cycles, so every city of a few thousand buildings has the whole mix.
fn districts(rng: &mut fastrand::Rng, radius: f64) -> Vec<([f64; 2], District)> {
    use District::*;
    const INNER: [District; 6] = [Commercial, Residential, Industrial, Residential, Commercial, Residential];
    const OUTER: [District; 4] = [Suburban, Residential, Industrial, Suburban];
    let mut out = vec![([0.0, 0.0], Downtown)];
    let (mut inner, mut outer) = (rng.usize(0..INNER.len()), rng.usize(0..OUTER.len()));
    let n = (radius * radius / 40.0).ceil().max(8.0) as usize;
    for k in 0..n {
        // Alternate inner and outer rings so both exist even in small cities.
        let far = k % 2 == 1;
        let (lo, hi) = if far { (0.6, 1.0) } else { (0.25, 0.6) };
        let (a, d) = (rng.f64() * std::f64::consts::TAU, radius * (lo + (hi - lo) * rng.f64()));
        let district = if far {
            outer += 1;
            OUTER[outer % OUTER.len()]
        } else {
            inner += 1;
            INNER[inner % INNER.len()]
        };
        out.push(([a.cos() * d, a.sin() * d], district));
    }
    out
}

fn district_of(centres: &[([f64; 2], District)], (i, j): (i64, i64), radius: f64) -> District {
    let p = [i as f64 + 0.5, j as f64 + 0.5];
    // Downtown keeps a core of a fifth of the city's radius (at least two blocks).
    if (p[0] * p[0] + p[1] * p[1]).sqrt() < (radius * 0.2).max(2.0) {
        return District::Downtown;
    }
    centres[1..].iter().min_by(|a, b| dist2(a.0, p).total_cmp(&dist2(b.0, p))).map_or(District::Residential, |c| c.1)
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

fn street_name(axis: char, line: i64) -> String {
    if axis == 'x' { format!("Avenue {}", line + 1000) } else { format!("Street {}", line + 1000) }
}

/// Cuts a block into lots and puts a building on each (perimeter lots only in courtyard blocks).
fn fill_block(
    rng: &mut fastrand::Rng,
    o: &ProceduralOptions,
    (i, j): (i64, i64),
    district: District,
    radius: f64,
    out: &mut Vec<Building>,
) {
    let x0 = i as f64 * PITCH_M + half_width_m(i);
    let x1 = (i + 1) as f64 * PITCH_M - half_width_m(i + 1);
    let y0 = j as f64 * PITCH_M + half_width_m(j);
    let y1 = (j + 1) as f64 * PITCH_M - half_width_m(j + 1);
    let lot = district.lot_m() * (0.9 + 0.2 * rng.f64());
    let (nx, ny) = (((x1 - x0) / lot).floor().max(1.0) as usize, ((y1 - y0) / lot).floor().max(1.0) as usize);
    let (lw, lh) = ((x1 - x0) / nx as f64, (y1 - y0) / ny as f64);
    let courtyard_block =
        matches!(district, District::Residential | District::Commercial) && nx >= 3 && ny >= 3 && rng.f64() < 0.6;
    let falloff = (1.0 - 0.5 * block_distance((i, j)) / radius).clamp(0.45, 1.0);
    for a in 0..nx {
        for b in 0..ny {
            if out.len() >= o.buildings {
                return;
            }
            let perimeter = a == 0 || b == 0 || a + 1 == nx || b + 1 == ny;
            if courtyard_block && !perimeter {
                continue;
            }
            let (lx, ly) = (x0 + a as f64 * lw, y0 + b as f64 * lh);
            let s = district.setback_m() * (0.7 + 0.6 * rng.f64());
            let (bx0, by0, bx1, by1) = (lx + s, ly + s, lx + lw - s, ly + lh - s);
            if bx1 - bx0 < 4.0 || by1 - by0 < 4.0 {
                continue;
            }
            let (outer, holes) = footprint(rng, district, [bx0, by0], [bx1, by1]);
            let (lo, hi) = district.heights_m();
            // Skewed towards the low end, as real skylines are.
            let h = (lo + (hi - lo) * rng.f64().powi(3))
                * if district == District::Downtown { falloff.sqrt() } else { falloff };
            let height_m = (h * 10.0).round() / 10.0;
            let storey = if district == District::Suburban { 3.0 } else { 3.4 };
            let kinds = district.kinds();
            let kind = kinds[rng.usize(0..kinds.len())];
            let n = out.len();
            let name = if height_m > 150.0 { format!("{} Tower", street_name('x', i)) } else { String::new() };
            if o.terrain && !relief::clear_of_river(&outer) {
                continue;
            }
            out.push(Building {
                id: format!("procedural/{n}"),
                outer,
                holes,
                // Set on the ground once the city is laid out.
                base_z_m: 0.0,
                min_height_m: 0.0,
                height_m,
                levels: Some(((height_m / storey).round() as u32).max(1)),
                kind: kind.to_owned(),
                name,
                address: format!("{} {}", 1 + 2 * (a * ny + b), street_name('y', j)),
            });
        }
    }
}

/// A rectangle, an L, or a courtyard building within `[lo, hi]`.
fn footprint(
    rng: &mut fastrand::Rng,
    district: District,
    lo: [f64; 2],
    hi: [f64; 2],
) -> (Vec<[f64; 2]>, Vec<Vec<[f64; 2]>>) {
    let (w, h) = (hi[0] - lo[0], hi[1] - lo[1]);
    let rect = |a: [f64; 2], b: [f64; 2]| vec![a, [b[0], a[1]], b, [a[0], b[1]]];
    let pick = rng.f64();
    if pick < 0.12 && w > 24.0 && h > 24.0 && district != District::Suburban {
        let (ix, iy) = (w * 0.3, h * 0.3);
        let hole =
            rings::clean(rect([lo[0] + ix, lo[1] + iy], [hi[0] - ix, hi[1] - iy]), false).expect("non-degenerate");
        return (rect(lo, hi), vec![hole]);
    }
    if pick < 0.30 && w > 10.0 && h > 10.0 {
        // An L: the north-east quarter cut away.
        let (mx, my) = (lo[0] + w * (0.45 + 0.2 * rng.f64()), lo[1] + h * (0.45 + 0.2 * rng.f64()));
        return (vec![lo, [hi[0], lo[1]], [hi[0], my], [mx, my], [mx, hi[1]], [lo[0], hi[1]]], vec![]);
    }
    (rect(lo, hi), vec![])
}

/// The street grid around the blocks that were built: intersections and street stretches.
fn street_graph(frame: &LocalFrame, blocks: &[(i64, i64)]) -> super::RoadGraph {
    let built: std::collections::HashSet<(i64, i64)> = blocks.iter().copied().collect();
    let id = |i: i64, j: i64| (i + (1 << 20)) * (1 << 21) + (j + (1 << 20));
    let mut pos = HashMap::new();
    let mut ways = Vec::new();
    let mut node = |i: i64, j: i64| {
        let (x, y) = (i as f64 * PITCH_M, j as f64 * PITCH_M);
        let g = frame.to_geodetic(x, y);
        pos.insert(
            id(i, j),
            NodePos { xy_m: [x, y], lon_deg: g.lon_rad.to_degrees(), lat_deg: g.lat_rad.to_degrees() },
        );
        id(i, j)
    };
    for &(i, j) in blocks {
        // The block's south and west sides; north and east when no built block shares them.
        let mut sides = vec![((i, j), (i + 1, j), 'y', j), ((i, j), (i, j + 1), 'x', i)];
        if !built.contains(&(i, j + 1)) {
            sides.push(((i, j + 1), (i + 1, j + 1), 'y', j + 1));
        }
        if !built.contains(&(i + 1, j)) {
            sides.push(((i + 1, j), (i + 1, j + 1), 'x', i + 1));
        }
        for (a, b, axis, line) in sides {
            let nodes = vec![node(a.0, a.1), node(b.0, b.1)];
            let class = if line.rem_euclid(ARTERIAL_EVERY) == 0 { "primary" } else { "residential" };
            ways.push(RoadWay { nodes, class: class.to_owned(), name: street_name(axis, line), oneway: false });
        }
    }
    let (graph, _) = build_graph(&ways, &pos, frame.origin.lon_rad.to_degrees(), frame.origin.lat_rad.to_degrees());
    graph
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_city() {
        let a = generate(&ProceduralOptions::new(3000, 7));
        let b = generate(&ProceduralOptions::new(3000, 7));
        let c = generate(&ProceduralOptions::new(3000, 8));
        assert_eq!(a.buildings.len(), 3000);
        assert_eq!(a.buildings, b.buildings);
        assert_eq!(a.roads, b.roads);
        assert_ne!(a.buildings, c.buildings);
    }

    #[test]
    fn districts_shape_the_skyline_and_every_footprint_is_valid() {
        let city = generate(&ProceduralOptions::new(20_000, 1));
        let tallest = city.buildings.iter().map(|b| b.height_m).fold(0.0, f64::max);
        assert!(tallest > 120.0, "downtown towers: {tallest}");
        let kinds: std::collections::HashSet<&str> = city.buildings.iter().map(|b| b.kind.as_str()).collect();
        for k in ["office", "apartments", "house", "industrial"] {
            assert!(kinds.contains(k), "{k} missing from {kinds:?}");
        }
        // Downtown is taller than the edge.
        let mean = |f: &dyn Fn(&Building) -> bool| {
            let v: Vec<f64> = city.buildings.iter().filter(|b| f(b)).map(|b| b.height_m).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let r = |b: &Building| b.center()[0].hypot(b.center()[1]);
        assert!(mean(&|b| r(b) < 600.0) > 2.0 * mean(&|b| r(b) > 3000.0));
        for b in &city.buildings {
            assert!(crate::geo::ring_area_m2(&b.outer) > 10.0, "{} is CCW with area", b.id);
            assert!(b.holes.iter().all(|h| crate::geo::ring_area_m2(h) < 0.0));
            assert!(b.height_m > 0.0 && relief::clear_of_river(&b.outer), "{}", b.id);
        }
        assert!(
            city.buildings.iter().any(|b| !b.holes.is_empty()) && city.buildings.iter().any(|b| b.outer.len() == 6)
        );
        // The street graph is connected: every node reaches node 0.
        let g = &city.roads;
        let mut adj = vec![vec![]; g.nodes.len()];
        for e in &g.edges {
            adj[e.from].push(e.to);
            adj[e.to].push(e.from);
        }
        let mut seen = vec![false; g.nodes.len()];
        let mut stack = vec![0];
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(&adj[n]);
            }
        }
        assert!(seen.iter().all(|s| *s), "street graph is connected");
        assert!(
            g.edges.iter().any(|e| e.class == "primary") && g.edges.iter().all(|e| (e.length_m - PITCH_M).abs() < 1e-6)
        );
    }

    #[test]
    fn the_city_stands_on_its_relief() {
        let city = generate(&ProceduralOptions::new(20_000, 1));
        let frame = LocalFrame::new(city.origin);
        let (lo, hi) = city.extent_m();
        let ground = city.ground.as_ref().expect("a DEM");
        assert!(ground.grid.extent_m().0 == lo && ground.grid.extent_m().1[0] >= hi[0]);
        let on_hills =
            city.buildings.iter().filter(|b| b.base_z_m > frame.surface_z(b.center()[0], b.center()[1]) + 10.0);
        assert!(on_hills.count() > 100, "buildings climb the hills");
        for b in &city.buildings {
            let c = b.center();
            let under = b.outer.iter().map(|&p| city.ground_m(p)).fold(f64::INFINITY, f64::min);
            let base = b.base_z_m - frame.surface_z(c[0], c[1]);
            assert!(base <= under + 1e-9 && base >= under - 1.0, "{} stands on the ground: {base} vs {under}", b.id);
        }
        for n in &city.roads.nodes {
            assert!((n.height_m - relief::ground_m(n.x_m, n.y_m)).abs() < 0.5, "road node {} keeps its height", n.id);
        }
        let flat = generate(&ProceduralOptions { terrain: false, ..ProceduralOptions::new(2000, 1) });
        assert!(flat.ground.is_none() && flat.roads.nodes.iter().all(|n| n.height_m == 0.0));
    }
}
