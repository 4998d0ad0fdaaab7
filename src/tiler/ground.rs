//! The ground tiles: the city's terrain as grids following the Earth's curvature (flat on the ellipsoid without a
//! DEM), with the roads draped on it as ribbons of their class's width, bridging narrow dips such as a river, and
//! the rivers' surfaces; cut into a quadtree (`ground/L/X_Y.glb`) whose coarser tiles have coarser grids and only
//! the widest roads, so a view loads the ground it needs, not the whole city's.

use std::path::Path;

use glam::DVec3;
use serde_json::{Value, json};

use super::City;
use super::glb::{GlbBuilder, Material};
use super::output::box_json;
use crate::extrude::{Mesh, ribbon_quads};
use crate::geo::LocalFrame;
use crate::protocol::roads::width_m;

const GROUND: Material = Material::opaque("ground", [0.55, 0.60, 0.50, 1.0], 1.0);
const ROAD: Material = Material::opaque("road", [0.32, 0.32, 0.34, 1.0], 0.9);
const WATER: Material = Material::opaque("water", [0.18, 0.36, 0.52, 1.0], 0.15);
/// Roads sit this far above the ground to win the depth test (the mesh's flat triangles cut a little into the
/// DEM's curves).
const ROAD_LIFT_M: f64 = 0.3;
/// Cells across a tile's grid: on relief (the leaves' cells are then at most `LEAF_SIDE_M / TERRAIN_GRID` = 16 m),
/// and on flat ground (it only follows the Earth's curvature).
const TERRAIN_GRID: usize = 64;
const FLAT_GRID: usize = 8;
/// A leaf tile's side, at most, and the deepest level.
const LEAF_SIDE_M: f64 = 1024.0;
const MAX_LEVEL: u32 = 8;
/// A coarser tile draws at most this many road quads: the widest classes that fit.
const MAX_ROAD_QUADS: usize = 16_384;
/// Roads follow the ground in steps this long; a dip with higher ground this near on both sides is bridged.
const ROAD_STEP_M: f64 = 8.0;
const BRIDGE_REACH_M: f64 = 60.0;

/// The ground's tiles as written: its root tile's content and children (for the tileset's root), what they
/// leave out from afar, and their bounds (local metres).
pub struct GroundTiles {
    pub content_uri: String,
    pub children: Vec<Value>,
    pub geometric_error_m: f64,
    pub min: DVec3,
    pub max: DVec3,
    pub tiles: usize,
    pub bytes: u64,
}

/// A quad of a road's or a river's surface: corners in local metres, counter-clockwise seen from above.
struct Quad {
    corners: [DVec3; 4],
    center: [f64; 2],
    water: bool,
    /// The road's width; rivers are always drawn (infinite).
    width_m: f64,
}

/// The square cell of a ground tile.
#[derive(Clone, Copy)]
struct Cell {
    level: u32,
    x: u32,
    y: u32,
    min: [f64; 2],
    side_m: f64,
}

impl Cell {
    fn contains(&self, p: [f64; 2]) -> bool {
        (0..2).all(|k| p[k] >= self.min[k] && p[k] < self.min[k] + self.side_m)
    }

    fn quadrants(&self) -> [Cell; 4] {
        let half = self.side_m / 2.0;
        [0, 1, 2, 3].map(|q| Cell {
            level: self.level + 1,
            x: self.x * 2 + q % 2,
            y: self.y * 2 + q / 2,
            min: [self.min[0] + half * (q % 2) as f64, self.min[1] + half * (q / 2) as f64],
            side_m: half,
        })
    }
}

/// The city's ground, ready to cut into tiles.
struct Ground<'a> {
    city: &'a City,
    frame: &'a LocalFrame,
    grid: usize,
    leaf_level: u32,
    /// The extent: a tile edge on it gets no skirt.
    root: Cell,
    /// How far tile edges hang down, to hide the cracks between tiles of different levels.
    skirt_m: f64,
    quads: Vec<Quad>,
}

/// Writes the ground over `[min, max]` (local metres) as tiles under `dir/ground/`.
pub fn write_ground(
    city: &City,
    frame: &LocalFrame,
    min: [f64; 2],
    max: [f64; 2],
    dir: &Path,
) -> std::io::Result<GroundTiles> {
    let side_m = (max[0] - min[0]).max(max[1] - min[1]).max(1.0);
    let leaf_level = (side_m / LEAF_SIDE_M).log2().ceil().clamp(0.0, MAX_LEVEL as f64) as u32;
    let root = Cell { level: 0, x: 0, y: 0, min, side_m };
    let grid = if city.ground.is_some() { TERRAIN_GRID } else { FLAT_GRID };
    let mut ground = Ground { city, frame, grid, leaf_level, root, skirt_m: 0.0, quads: surfaces(city, frame) };
    // The coarsest grid strays from the ground the most: every skirt reaches that far below.
    ground.skirt_m = ground.terrain_error_m(&root) + 1.0;
    let dir = dir.join("ground");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let mut written = Written { tiles: 0, bytes: 0 };
    let all: Vec<u32> = (0..ground.quads.len() as u32).collect();
    let mut tile = ground.write(root, all, &dir, &mut written)?;
    let children = match tile.json.as_object_mut().and_then(|o| o.remove("children")) {
        Some(Value::Array(children)) => children,
        _ => Vec::new(),
    };
    Ok(GroundTiles {
        content_uri: tile.content_uri,
        children,
        geometric_error_m: tile.error_m,
        min: tile.min,
        max: tile.max,
        tiles: written.tiles,
        bytes: written.bytes,
    })
}

struct Written {
    tiles: usize,
    bytes: u64,
}

/// A ground tile as written: its JSON (with its children's), and what its parent needs of it.
struct Tile {
    json: Value,
    content_uri: String,
    error_m: f64,
    min: DVec3,
    max: DVec3,
}

impl Ground<'_> {
    fn height_m(&self, x: f64, y: f64) -> f64 {
        self.frame.surface_z(x, y) + self.city.ground_m([x, y])
    }

    /// Writes the tile of `cell` and those below it, drawing the quads `inside` it.
    fn write(&self, cell: Cell, inside: Vec<u32>, dir: &Path, out: &mut Written) -> std::io::Result<Tile> {
        let leaf = cell.level >= self.leaf_level;
        let mut children = Vec::new();
        if !leaf {
            let quadrants = cell.quadrants();
            let mut parts: [Vec<u32>; 4] = Default::default();
            for i in &inside {
                let c = self.quads[*i as usize].center;
                let q = quadrants.iter().position(|k| k.contains(c)).unwrap_or(0);
                parts[q].push(*i);
            }
            for (q, part) in quadrants.into_iter().zip(parts) {
                children.push(self.write(q, part, dir, out)?);
            }
        }
        let (drawn, dropped_width_m) = if leaf { (inside, 0.0) } else { widest(&self.quads, inside) };
        let origin = DVec3::new(cell.min[0] + cell.side_m / 2.0, cell.min[1] + cell.side_m / 2.0, 0.0);
        let (terrain, mut lo, mut hi) = self.terrain(&cell, origin);
        let mut glb = GlbBuilder::default();
        glb.primitive(&terrain, &GROUND, None);
        for (material, water) in [(&ROAD, false), (&WATER, true)] {
            let mut mesh = Mesh::default();
            for q in drawn.iter().map(|i| &self.quads[*i as usize]).filter(|q| q.water == water) {
                for p in q.corners {
                    (lo, hi) = (lo.min(p), hi.max(p));
                }
                push_quad(&mut mesh, q.corners.map(|p| p - origin));
            }
            glb.primitive(&mesh, material, None);
        }
        let glb = glb.finish(origin);
        let name = format!("{}/{}_{}.glb", cell.level, cell.x, cell.y);
        let (uri, path) = (format!("ground/{name}"), dir.join(&name));
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        std::fs::write(&path, &glb)?;
        out.tiles += 1;
        out.bytes += glb.len() as u64;
        let child_error_m = children.iter().map(|c| c.error_m).fold(0.0, f64::max);
        let error_m = if leaf {
            0.0
        } else {
            (self.terrain_error_m(&cell) + child_error_m).max(dropped_width_m).max(child_error_m + 1.0)
        };
        for c in &children {
            (lo, hi) = (lo.min(c.min), hi.max(c.max));
        }
        let mut json = json!({
            "boundingVolume": box_json(lo, hi),
            "geometricError": error_m,
            "refine": "REPLACE",
            "content": {"uri": uri},
        });
        if !children.is_empty() {
            json["children"] = children.into_iter().map(|c| c.json).collect::<Vec<_>>().into();
        }
        Ok(Tile { json, content_uri: uri, error_m, min: lo, max: hi })
    }

    /// The cell's terrain grid relative to `origin`, with skirts on its edges inside the extent; and its bounds.
    fn terrain(&self, cell: &Cell, origin: DVec3) -> (Mesh, DVec3, DVec3) {
        let n = self.grid;
        let d = cell.side_m / n as f64;
        let (mut lo, mut hi) = (DVec3::splat(f64::INFINITY), DVec3::splat(f64::NEG_INFINITY));
        let mut mesh = Mesh::default();
        for j in 0..=n {
            for i in 0..=n {
                let (x, y) = (cell.min[0] + d * i as f64, cell.min[1] + d * j as f64);
                let p = DVec3::new(x, y, self.height_m(x, y));
                (lo, hi) = (lo.min(p), hi.max(p));
                // The terrain's normal from its slopes (the Earth's curvature leaves it all but vertical).
                let sx = (self.city.ground_m([x + d, y]) - self.city.ground_m([x - d, y])) / (2.0 * d);
                let sy = (self.city.ground_m([x, y + d]) - self.city.ground_m([x, y - d])) / (2.0 * d);
                push(&mut mesh, p - origin, DVec3::new(-sx, -sy, 1.0).normalize());
            }
        }
        let row = (n + 1) as u32;
        for j in 0..n as u32 {
            for i in 0..n as u32 {
                let a = j * row + i;
                mesh.indices.extend_from_slice(&[a, a + 1, a + row + 1, a, a + row + 1, a + row]);
            }
        }
        // Skirts: each edge's vertices again, `skirt_m` lower, walls facing out.
        let root_max = [self.root.min[0] + self.root.side_m, self.root.min[1] + self.root.side_m];
        let n = n as u32;
        // South, east, north, west: whether the edge is inside the extent.
        let inner = [
            cell.min[1] > self.root.min[1],
            cell.min[0] + cell.side_m < root_max[0],
            cell.min[1] + cell.side_m < root_max[1],
            cell.min[0] > self.root.min[0],
        ];
        for side in (0..4).filter(|&side| inner[side]) {
            let ring: Vec<u32> = match side {
                0 => (0..=n).rev().collect(),
                1 => (0..=n).rev().map(|j| j * row + n).collect(),
                2 => (0..=n).map(|i| n * row + i).collect(),
                _ => (0..=n).map(|j| j * row).collect(),
            };
            let base = mesh.positions.len() as u32;
            for &v in &ring {
                let [x, y, z] = mesh.positions[v as usize];
                let normal = mesh.normals[v as usize];
                mesh.positions.push([x, y - self.skirt_m as f32, z]);
                mesh.normals.push(normal);
                mesh.feature_ids.push(0.0);
            }
            for k in 0..ring.len() as u32 - 1 {
                let (a, b) = (ring[k as usize], ring[k as usize + 1]);
                mesh.indices.extend_from_slice(&[a, base + k + 1, base + k, a, b, base + k + 1]);
            }
        }
        (mesh, lo, hi)
    }

    /// How far the cell's grid strays from the ground between its points (sampled at half its spacing).
    fn terrain_error_m(&self, cell: &Cell) -> f64 {
        let n = self.grid;
        let d = cell.side_m / n as f64;
        let mut worst: f64 = 0.0;
        for j in 0..n {
            for i in 0..n {
                let (x0, y0) = (cell.min[0] + d * i as f64, cell.min[1] + d * j as f64);
                let corners = [self.height_m(x0, y0), self.height_m(x0 + d, y0), self.height_m(x0, y0 + d)];
                let far = self.height_m(x0 + d, y0 + d);
                for (u, v) in [(0.5, 0.0), (0.0, 0.5), (0.5, 0.5), (1.0, 0.5), (0.5, 1.0)] {
                    // Bilinear over the cell (its two triangles meet on the diagonal; close enough for an error).
                    let grid = corners[0] * (1.0 - u) * (1.0 - v)
                        + corners[1] * u * (1.0 - v)
                        + corners[2] * (1.0 - u) * v
                        + far * u * v;
                    worst = worst.max((self.height_m(x0 + d * u, y0 + d * v) - grid).abs());
                }
            }
        }
        worst
    }
}

/// Of the quads `inside` a coarser tile, the widest classes that fit in [`MAX_ROAD_QUADS`] (rivers always), and
/// the width of the widest road left out.
fn widest(quads: &[Quad], mut inside: Vec<u32>) -> (Vec<u32>, f64) {
    let width = |i: &u32| quads[*i as usize].width_m;
    inside.sort_by(|a, b| width(b).total_cmp(&width(a)));
    let mut keep = inside.len();
    if keep > MAX_ROAD_QUADS {
        // Cut at a change of width, so a class is drawn whole or not at all.
        keep = MAX_ROAD_QUADS;
        while keep > 0 && width(&inside[keep - 1]) == width(&inside[keep]) && width(&inside[keep]).is_finite() {
            keep -= 1;
        }
        while keep < inside.len() && !width(&inside[keep]).is_finite() {
            keep += 1;
        }
    }
    let dropped_m = inside.get(keep).map_or(0.0, width);
    inside.truncate(keep);
    (inside, dropped_m)
}

/// Every road's and river's surface as quads: roads follow the ground (bridging dips), rivers their level.
fn surfaces(city: &City, frame: &LocalFrame) -> Vec<Quad> {
    let mut quads = Vec::new();
    let mut add = |quad: [[f64; 2]; 4], z: &dyn Fn(usize) -> f64, water: bool, width_m: f64| {
        let corners = [0, 1, 2, 3].map(|i| DVec3::new(quad[i][0], quad[i][1], z(i)));
        let center = [0.25 * quad.iter().map(|c| c[0]).sum::<f64>(), 0.25 * quad.iter().map(|c| c[1]).sum::<f64>()];
        quads.push(Quad { corners, center, water, width_m });
    };
    for edge in &city.roads.edges {
        let (points, along_m) = densified(&edge.geometry, ROAD_STEP_M);
        let under: Vec<f64> = points.iter().map(|&p| city.ground_m(p)).collect();
        let deck = bridged(&under, &along_m, BRIDGE_REACH_M);
        let width = width_m(&edge.class);
        for (k, quad) in ribbon_quads(&points, width / 2.0) {
            let z = |i: usize| {
                let (c, at) = (quad[i], [k, k + 1, k + 1, k][i]);
                frame.surface_z(c[0], c[1]) + deck[at].max(city.ground_m(c)) + ROAD_LIFT_M
            };
            add(quad, &z, false, width);
        }
    }
    for w in &city.waterways {
        for (k, quad) in ribbon_quads(&w.line_m, w.half_width_m) {
            let z = |i: usize| {
                let (c, at) = (quad[i], [k, k + 1, k + 1, k][i]);
                frame.surface_z(c[0], c[1]) + w.level_m[at]
            };
            add(quad, &z, true, f64::INFINITY);
        }
    }
    quads
}

/// A polyline with points at most `step_m` apart, and each point's distance along it.
fn densified(points: &[[f64; 2]], step_m: f64) -> (Vec<[f64; 2]>, Vec<f64>) {
    let mut out: Vec<[f64; 2]> = points.first().copied().into_iter().collect();
    let mut along = vec![0.0; out.len()];
    for s in points.windows(2) {
        let (p, q) = (s[0], s[1]);
        let len = (q[0] - p[0]).hypot(q[1] - p[1]);
        let n = (len / step_m).ceil().max(1.0) as usize;
        let start = along.last().copied().unwrap_or(0.0);
        for k in 1..=n {
            let t = k as f64 / n as f64;
            out.push([p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t]);
            along.push(start + len * t);
        }
    }
    (out, along)
}

/// Heights along a road: the ground, except where there is higher ground within `reach_m` both behind and ahead;
/// there the road runs at the lower of the two (a bridge from levee to levee, a causeway over a ditch).
fn bridged(ground_m: &[f64], along_m: &[f64], reach_m: f64) -> Vec<f64> {
    let highest = |range: &mut dyn Iterator<Item = usize>, from: f64| {
        range.take_while(|&j| (along_m[j] - from).abs() <= reach_m).map(|j| ground_m[j]).fold(f64::MIN, f64::max)
    };
    (0..ground_m.len())
        .map(|i| {
            let behind = highest(&mut (0..=i).rev(), along_m[i]);
            let ahead = highest(&mut (i..ground_m.len()), along_m[i]);
            ground_m[i].max(behind.min(ahead))
        })
        .collect()
}

/// A flat quad facing up, its corners counter-clockwise seen from above.
fn push_quad(mesh: &mut Mesh, corners: [DVec3; 4]) {
    let base = mesh.positions.len() as u32;
    for p in corners {
        push(mesh, p, DVec3::Z);
    }
    mesh.indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
}

fn push(mesh: &mut Mesh, p: DVec3, n: DVec3) {
    mesh.positions.push([p.x as f32, p.z as f32, -p.y as f32]);
    mesh.normals.push([n.x as f32, n.z as f32, -n.y as f32]);
    mesh.feature_ids.push(0.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roads_bridge_a_river_between_its_levees_and_follow_a_hill() {
        // Every 8 m: plain at 0, a levee at 3 m, the channel down to -4 m, the other levee, plain.
        let along: Vec<f64> = (0..30).map(|i| i as f64 * 8.0).collect();
        let ground: Vec<f64> = along
            .iter()
            .map(|&s| match s {
                s if (80.0..=88.0).contains(&s) || (136.0..=144.0).contains(&s) => 3.0,
                s if s > 88.0 && s < 136.0 => -4.0,
                _ => 0.0,
            })
            .collect();
        let deck = bridged(&ground, &along, 60.0);
        for i in 0..along.len() {
            let s = along[i];
            if (80.0..=144.0).contains(&s) {
                assert_eq!(deck[i], 3.0, "on the bridge at {s} m");
            } else {
                assert_eq!(deck[i], ground[i], "on the ground at {s} m");
            }
        }
        // A hill is climbed, not tunnelled or bridged.
        let hill: Vec<f64> = along.iter().map(|s| 20.0 - ((s - 120.0) / 40.0).powi(2)).collect();
        assert_eq!(bridged(&hill, &along, 60.0), hill);
        let (points, along) = densified(&[[0.0, 0.0], [20.0, 0.0], [20.0, 5.0]], 8.0);
        assert_eq!(points.len(), 5);
        for (a, want) in along.iter().zip([0.0, 20.0 / 3.0, 40.0 / 3.0, 20.0, 25.0]) {
            assert!((a - want).abs() < 1e-9, "{along:?}");
        }
    }

    #[test]
    fn coarser_tiles_keep_whole_road_classes_widest_first_and_every_river() {
        let quad = |width_m: f64, water: bool| Quad { corners: [DVec3::ZERO; 4], center: [0.0; 2], water, width_m };
        let mut quads: Vec<Quad> = (0..10_000).map(|_| quad(10.0, false)).collect();
        quads.extend((0..10_000).map(|_| quad(20.0, false)));
        quads.extend((0..100).map(|_| quad(f64::INFINITY, true)));
        let (kept, dropped_m) = widest(&quads, (0..quads.len() as u32).collect());
        // 20,100 quads do not fit 16,384: the 10 m class goes whole, the 20 m class and the rivers stay.
        assert_eq!(kept.len(), 10_100);
        assert!(kept.iter().all(|i| quads[*i as usize].width_m > 10.0));
        assert_eq!(dropped_m, 10.0);
        let few: Vec<u32> = (0..100).collect();
        assert_eq!(widest(&quads, few.clone()), (few, 0.0), "what fits is all kept");
    }

    #[test]
    fn the_ground_is_a_quadtree_of_small_leaves_with_errors_falling_to_zero() {
        use crate::tiler::procedural::{ProceduralOptions, generate};
        let city = generate(&ProceduralOptions::new(3000, 3));
        let frame = LocalFrame::new(city.origin);
        let (lo, hi) = city.extent_m();
        let dir = tempfile::tempdir().unwrap();
        let ground = write_ground(&city, &frame, lo, hi, dir.path()).unwrap();
        assert!(!ground.children.is_empty(), "a city {:.0} m across is more than one tile", hi[0] - lo[0]);
        assert!(dir.path().join(&ground.content_uri).is_file());
        let mut stack: Vec<(Value, f64)> =
            ground.children.iter().map(|c| (c.clone(), ground.geometric_error_m)).collect();
        let mut tiles = 1;
        while let Some((tile, parent_error_m)) = stack.pop() {
            tiles += 1;
            let error_m = tile["geometricError"].as_f64().unwrap();
            assert!(error_m < parent_error_m, "{error_m} under {parent_error_m}");
            assert!(dir.path().join(tile["content"]["uri"].as_str().unwrap()).is_file());
            match tile["children"].as_array() {
                Some(children) => stack.extend(children.iter().map(|c| (c.clone(), error_m))),
                None => {
                    assert_eq!(error_m, 0.0, "a leaf draws everything");
                    // Half its side, plus the roads that stick out of it (a quad belongs to the tile of its centre).
                    let b = &tile["boundingVolume"]["box"];
                    let half_m = b[3].as_f64().unwrap().max(b[7].as_f64().unwrap());
                    assert!(half_m <= LEAF_SIDE_M / 2.0 + 30.0, "{half_m}");
                }
            }
        }
        assert_eq!(tiles, ground.tiles);
    }
}
