//! The ground tile: a grid following the Earth's curvature under the city, with the roads drawn
//! on it as ribbons of their class's width.

use glam::DVec3;

use super::glb::{GlbBuilder, Material};
use crate::extrude::Mesh;
use crate::geo::LocalFrame;
use crate::protocol::roads::{RoadGraph, width_m};

const GROUND: Material = Material::opaque("ground", [0.55, 0.60, 0.50, 1.0], 1.0);
const ROAD: Material = Material::opaque("road", [0.32, 0.32, 0.34, 1.0], 0.9);
/// Roads sit this far above the ground to win the depth test.
const ROAD_LIFT_M: f64 = 0.15;
const GRID: usize = 32;

/// The ground and road meshes over `[min, max]` (local metres); returns the glb and its bounds.
pub fn ground_glb(frame: &LocalFrame, min: [f64; 2], max: [f64; 2], roads: &RoadGraph) -> (Vec<u8>, DVec3, DVec3) {
    let origin = DVec3::new(0.5 * (min[0] + max[0]), 0.5 * (min[1] + max[1]), 0.0);
    let mut ground = Mesh::default();
    let mut zmin = f64::INFINITY;
    for j in 0..=GRID {
        for i in 0..=GRID {
            let x = min[0] + (max[0] - min[0]) * i as f64 / GRID as f64;
            let y = min[1] + (max[1] - min[1]) * j as f64 / GRID as f64;
            let z = frame.surface_z(x, y);
            zmin = zmin.min(z);
            push(&mut ground, DVec3::new(x, y, z) - origin, DVec3::Z);
        }
    }
    let row = (GRID + 1) as u32;
    for j in 0..GRID as u32 {
        for i in 0..GRID as u32 {
            let a = j * row + i;
            ground.indices.extend_from_slice(&[a, a + 1, a + row + 1, a, a + row + 1, a + row]);
        }
    }
    let mut ribbons = Mesh::default();
    for edge in &roads.edges {
        let half = width_m(&edge.class) / 2.0;
        for seg in edge.geometry.windows(2) {
            let (p0, p1) = (seg[0], seg[1]);
            let (dx, dy) = (p1[0] - p0[0], p1[1] - p0[1]);
            let len = dx.hypot(dy);
            if len < 1e-3 {
                continue;
            }
            // Left of the direction of travel, then the quad counter-clockwise from above.
            let (lx, ly) = (-dy / len * half, dx / len * half);
            let corner = |p: [f64; 2], s: f64| {
                let (x, y) = (p[0] + lx * s, p[1] + ly * s);
                DVec3::new(x, y, frame.surface_z(x, y) + ROAD_LIFT_M) - origin
            };
            let base = ribbons.positions.len() as u32;
            for p in [corner(p0, -1.0), corner(p1, -1.0), corner(p1, 1.0), corner(p0, 1.0)] {
                push(&mut ribbons, p, DVec3::Z);
            }
            ribbons.indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
        }
    }
    let mut glb = GlbBuilder::default();
    glb.primitive(&ground, &GROUND, None);
    glb.primitive(&ribbons, &ROAD, None);
    let lo = DVec3::new(min[0], min[1], zmin);
    let hi = DVec3::new(max[0], max[1], ROAD_LIFT_M);
    (glb.finish(origin), lo, hi)
}

fn push(mesh: &mut Mesh, p: DVec3, n: DVec3) {
    mesh.positions.push([p.x as f32, p.z as f32, -p.y as f32]);
    mesh.normals.push([n.x as f32, n.z as f32, -n.y as f32]);
    mesh.feature_ids.push(0.0);
}
