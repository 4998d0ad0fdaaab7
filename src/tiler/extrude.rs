//! Extrusion: building footprints to triangle meshes (glTF y-up, positions relative to an origin).

use geo::{Coord, LineString, Polygon, TriangulateEarcut};
use glam::DVec3;

use super::Building;

/// An indexed triangle mesh with normals and one feature ID per vertex.
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    pub positions: Vec<[f32; 3]>,
    pub normals: Vec<[f32; 3]>,
    pub feature_ids: Vec<f32>,
    pub indices: Vec<u32>,
}

/// Local east-north-up (z up) to glTF (y up): x → x, z → y, y → −z.
fn gltf(v: DVec3) -> [f32; 3] {
    [v.x as f32, v.z as f32, -v.y as f32]
}

impl Mesh {
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    fn vertex(&mut self, p: DVec3, n: DVec3, feature: u32) -> u32 {
        self.positions.push(gltf(p));
        self.normals.push(gltf(n));
        self.feature_ids.push(feature as f32);
        (self.positions.len() - 1) as u32
    }

    /// Adds a building, footprint given by `outer` (CCW) and `holes` (CW), relative to `origin`.
    /// Returns false when nothing could be triangulated.
    pub fn add_building(
        &mut self,
        b: &Building,
        outer: &[[f64; 2]],
        holes: &[Vec<[f64; 2]>],
        feature: u32,
        origin: DVec3,
    ) -> bool {
        let bottom = b.base_z_m + b.min_height_m;
        let top = b.base_z_m + b.height_m;
        let at = |p: [f64; 2], z: f64| DVec3::new(p[0], p[1], z) - origin;
        let start = self.indices.len();
        // Walls: each edge a quad facing outwards (courtyard walls face into the courtyard).
        for ring in std::iter::once(outer).chain(holes.iter().map(Vec::as_slice)) {
            for i in 0..ring.len() {
                let (p0, p1) = (ring[i], ring[(i + 1) % ring.len()]);
                let (dx, dy) = (p1[0] - p0[0], p1[1] - p0[1]);
                let len = dx.hypot(dy);
                if len < 1e-6 {
                    continue;
                }
                let n = DVec3::new(dy / len, -dx / len, 0.0);
                let v = [at(p0, bottom), at(p1, bottom), at(p1, top), at(p0, top)].map(|p| self.vertex(p, n, feature));
                self.indices.extend_from_slice(&[v[0], v[1], v[2], v[0], v[2], v[3]]);
            }
        }
        // Roof (and a floor when the building is raised off the ground).
        let ring =
            |r: &[[f64; 2]]| LineString::new(r.iter().chain(r.first()).map(|p| Coord { x: p[0], y: p[1] }).collect());
        let polygon = Polygon::new(ring(outer), holes.iter().map(|h| ring(h)).collect());
        let tri = polygon.earcut_triangles_raw();
        let caps: &[(f64, f64)] = if b.min_height_m > 0.0 { &[(top, 1.0), (bottom, -1.0)] } else { &[(top, 1.0)] };
        for &(z, up) in caps {
            let n = DVec3::new(0.0, 0.0, up);
            let base = self.positions.len() as u32;
            for v in &tri.vertices {
                self.vertex(at(*v, z), n, feature);
            }
            for t in tri.triangle_indices.chunks_exact(3) {
                let (a, b2, c) = (tri.vertices[t[0]], tri.vertices[t[1]], tri.vertices[t[2]]);
                let ccw = (b2[0] - a[0]) * (c[1] - a[1]) - (b2[1] - a[1]) * (c[0] - a[0]) > 0.0;
                let (i, j, k) = (base + t[0] as u32, base + t[1] as u32, base + t[2] as u32);
                // Counter-clockwise seen from where the normal points.
                if ccw == (up > 0.0) {
                    self.indices.extend_from_slice(&[i, j, k]);
                } else {
                    self.indices.extend_from_slice(&[i, k, j]);
                }
            }
        }
        self.indices.len() > start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn building(outer: Vec<[f64; 2]>, holes: Vec<Vec<[f64; 2]>>, min: f64) -> Building {
        Building {
            id: "t".into(),
            outer,
            holes,
            base_z_m: 0.0,
            min_height_m: min,
            height_m: 10.0,
            levels: None,
            kind: "yes".into(),
            name: String::new(),
            address: String::new(),
        }
    }

    fn tri_normal(m: &Mesh, t: &[u32]) -> glam::Vec3 {
        let p = |i: u32| glam::Vec3::from(m.positions[i as usize]);
        (p(t[1]) - p(t[0])).cross(p(t[2]) - p(t[0]))
    }

    #[test]
    fn box_faces_point_outwards_and_roof_up() {
        let b = building(vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]], vec![], 0.0);
        let mut m = Mesh::default();
        assert!(m.add_building(&b, &b.outer, &b.holes, 7, DVec3::ZERO));
        assert_eq!(m.triangle_count(), 4 * 2 + 2);
        // Every triangle's winding agrees with its vertices' normal: front faces face out.
        for t in m.indices.chunks_exact(3) {
            let n = glam::Vec3::from(m.normals[t[0] as usize]);
            assert!(tri_normal(&m, t).dot(n) > 0.0, "triangle {t:?} faces inwards");
        }
        let centre = glam::Vec3::new(5.0, 5.0, -5.0);
        for (p, n) in m.positions.iter().zip(&m.normals) {
            if n[1] == 0.0 {
                assert!((glam::Vec3::from(*p) - centre).dot(glam::Vec3::from(*n)) > 0.0, "wall normal points inwards");
            }
        }
        assert!(m.feature_ids.iter().all(|f| *f == 7.0));
        assert!(m.positions.iter().all(|p| p[1] == 0.0 || p[1] == 10.0));
    }

    #[test]
    fn courtyards_get_inward_facing_walls_and_raised_parts_a_floor() {
        let hole = vec![[3.0, 3.0], [3.0, 7.0], [7.0, 7.0], [7.0, 3.0]];
        let b = building(vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]], vec![hole], 4.0);
        let mut m = Mesh::default();
        assert!(m.add_building(&b, &b.outer, &b.holes, 0, DVec3::ZERO));
        for t in m.indices.chunks_exact(3) {
            let n = glam::Vec3::from(m.normals[t[0] as usize]);
            assert!(tri_normal(&m, t).dot(n) > 0.0);
        }
        // Courtyard walls face the courtyard's centre.
        let court = glam::Vec3::new(5.0, 7.0, -5.0);
        let inner_walls = m
            .positions
            .iter()
            .zip(&m.normals)
            .filter(|(p, n)| n[1] == 0.0 && (3.0..=7.0).contains(&p[0]) && (-7.0..=-3.0).contains(&p[2]));
        for (p, n) in inner_walls {
            assert!((court - glam::Vec3::from(*p)).dot(glam::Vec3::from(*n)) > 0.0);
        }
        assert!(m.normals.iter().any(|n| n[1] < 0.0), "a floor under a raised part");
        // Roof area: 100 − 16 m², at y = 10.
        let roof: f32 = m
            .indices
            .chunks_exact(3)
            .filter(|t| m.normals[t[0] as usize][1] > 0.0)
            .map(|t| tri_normal(&m, t).length() * 0.5)
            .sum();
        assert!((roof - 84.0).abs() < 1e-3, "{roof}");
    }
}
