//! The ground tile: the city's terrain as a grid following the Earth's curvature (flat on the ellipsoid without a
//! DEM), with the roads draped on it as ribbons of their class's width, bridging narrow dips such as a river, and
//! the rivers' surfaces.

use glam::DVec3;

use super::City;
use super::glb::{GlbBuilder, Material};
use crate::extrude::{Mesh, ribbon_quads};
use crate::geo::LocalFrame;
use crate::protocol::roads::width_m;

const GROUND: Material = Material::opaque("ground", [0.55, 0.60, 0.50, 1.0], 1.0);
const ROAD: Material = Material::opaque("road", [0.32, 0.32, 0.34, 1.0], 0.9);
const WATER: Material = Material::opaque("water", [0.18, 0.36, 0.52, 1.0], 0.15);
/// Roads sit this far above the ground to win the depth test (the mesh's flat triangles cut a little into the
/// DEM's curves).
const ROAD_LIFT_M: f64 = 0.3;
/// Cells across flat ground (it only follows the Earth's curvature).
const FLAT_GRID: usize = 32;
/// The terrain mesh's cell, and the most cells across it.
const TERRAIN_CELL_M: f64 = 16.0;
const MAX_GRID: usize = 512;
/// Roads follow the ground in steps this long; a dip with higher ground this near on both sides is bridged.
const ROAD_STEP_M: f64 = 8.0;
const BRIDGE_REACH_M: f64 = 60.0;

/// The ground and road meshes over `[min, max]` (local metres); returns the glb and its bounds.
pub fn ground_glb(city: &City, frame: &LocalFrame, min: [f64; 2], max: [f64; 2]) -> (Vec<u8>, DVec3, DVec3) {
    let origin = DVec3::new(0.5 * (min[0] + max[0]), 0.5 * (min[1] + max[1]), 0.0);
    let (cols, rows) = match &city.ground {
        None => (FLAT_GRID, FLAT_GRID),
        Some(_) => {
            let across = |w: f64| ((w / TERRAIN_CELL_M).ceil() as usize).clamp(FLAT_GRID, MAX_GRID);
            (across(max[0] - min[0]), across(max[1] - min[1]))
        }
    };
    let (dx, dy) = ((max[0] - min[0]) / cols as f64, (max[1] - min[1]) / rows as f64);
    let height = |x: f64, y: f64| frame.surface_z(x, y) + city.ground_m([x, y]);
    let (mut zmin, mut zmax) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut ground = Mesh::default();
    for j in 0..=rows {
        for i in 0..=cols {
            let (x, y) = (min[0] + dx * i as f64, min[1] + dy * j as f64);
            let z = height(x, y);
            (zmin, zmax) = (zmin.min(z), zmax.max(z));
            // The terrain's normal from its slopes (the Earth's curvature leaves it all but vertical).
            let sx = (city.ground_m([x + dx, y]) - city.ground_m([x - dx, y])) / (2.0 * dx);
            let sy = (city.ground_m([x, y + dy]) - city.ground_m([x, y - dy])) / (2.0 * dy);
            push(&mut ground, DVec3::new(x, y, z) - origin, DVec3::new(-sx, -sy, 1.0).normalize());
        }
    }
    let row = (cols + 1) as u32;
    for j in 0..rows as u32 {
        for i in 0..cols as u32 {
            let a = j * row + i;
            ground.indices.extend_from_slice(&[a, a + 1, a + row + 1, a, a + row + 1, a + row]);
        }
    }
    let mut ribbons = Mesh::default();
    for edge in &city.roads.edges {
        let (points, along_m) = densified(&edge.geometry, ROAD_STEP_M);
        let under: Vec<f64> = points.iter().map(|&p| city.ground_m(p)).collect();
        let deck = bridged(&under, &along_m, BRIDGE_REACH_M);
        for (k, quad) in ribbon_quads(&points, width_m(&edge.class) / 2.0) {
            let corners = [0, 1, 2, 3].map(|i| {
                let (c, at) = (quad[i], [k, k + 1, k + 1, k][i]);
                let z = frame.surface_z(c[0], c[1]) + deck[at].max(city.ground_m(c)) + ROAD_LIFT_M;
                zmax = zmax.max(z);
                DVec3::new(c[0], c[1], z) - origin
            });
            push_quad(&mut ribbons, corners);
        }
    }
    let mut water = Mesh::default();
    for w in &city.waterways {
        for (k, quad) in ribbon_quads(&w.line_m, w.half_width_m) {
            let corners = [0, 1, 2, 3].map(|i| {
                let (c, at) = (quad[i], [k, k + 1, k + 1, k][i]);
                DVec3::new(c[0], c[1], frame.surface_z(c[0], c[1]) + w.level_m[at]) - origin
            });
            push_quad(&mut water, corners);
        }
    }
    let mut glb = GlbBuilder::default();
    glb.primitive(&ground, &GROUND, None);
    glb.primitive(&ribbons, &ROAD, None);
    glb.primitive(&water, &WATER, None);
    (glb.finish(origin), DVec3::new(min[0], min[1], zmin), DVec3::new(max[0], max[1], zmax.max(zmin)))
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
}
