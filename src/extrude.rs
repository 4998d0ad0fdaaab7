//! Extrusion: footprints to triangle meshes (glTF y-up, positions relative to an origin), for the
//! tiler's buildings and the planner's massings alike.

use glam::DVec3;

/// What to extrude: an outer ring (counter-clockwise) and holes (clockwise), not closed, between
/// two heights; `floor` closes the bottom too (a part raised off the ground).
#[derive(Debug, Clone, Copy)]
pub struct Footprint<'a> {
    pub outer: &'a [[f64; 2]],
    pub holes: &'a [Vec<[f64; 2]>],
    pub bottom_m: f64,
    pub top_m: f64,
    pub floor: bool,
}

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

    /// Adds an extruded footprint, relative to `origin` (local east-north-up metres).
    /// Returns false when nothing could be triangulated.
    pub fn add_extrusion(&mut self, f: &Footprint, feature: u32, origin: DVec3) -> bool {
        let Footprint { outer, holes, bottom_m: bottom, top_m: top, floor } = *f;
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
        // Roof (and a floor under a part raised off the ground).
        let mut vertices: Vec<[f64; 2]> = outer.to_vec();
        let mut hole_starts = Vec::with_capacity(holes.len());
        for h in holes {
            hole_starts.push(vertices.len());
            vertices.extend_from_slice(h);
        }
        let mut triangles: Vec<usize> = Vec::new();
        earcut::Earcut::new().earcut(vertices.iter().copied(), &hole_starts, &mut triangles);
        let caps: &[(f64, f64)] = if floor { &[(top, 1.0), (bottom, -1.0)] } else { &[(top, 1.0)] };
        for &(z, up) in caps {
            let n = DVec3::new(0.0, 0.0, up);
            let base = self.positions.len() as u32;
            for v in &vertices {
                self.vertex(at(*v, z), n, feature);
            }
            for t in triangles.chunks_exact(3) {
                let (a, b2, c) = (vertices[t[0]], vertices[t[1]], vertices[t[2]]);
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

/// A ribbon `half_width_m` either side of a polyline (roads, routes, cordons): for each segment `k` (from point `k`
/// to `k + 1`; too short ones left out), its quad's corners counter-clockwise seen from above: right of point `k`,
/// right of point `k + 1`, left of point `k + 1`, left of point `k`.
pub fn ribbon_quads(points: &[[f64; 2]], half_width_m: f64) -> impl Iterator<Item = (usize, [[f64; 2]; 4])> + '_ {
    points.windows(2).enumerate().filter_map(move |(k, s)| {
        let (p, q) = (s[0], s[1]);
        let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
        let len = dx.hypot(dy);
        (len >= 1e-3).then(|| {
            let (lx, ly) = (-dy / len * half_width_m, dx / len * half_width_m);
            (k, [[p[0] - lx, p[1] - ly], [q[0] - lx, q[1] - ly], [q[0] + lx, q[1] + ly], [p[0] + lx, p[1] + ly]])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ribbons_run_either_side_of_their_line() {
        let quads: Vec<_> = ribbon_quads(&[[0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [10.0, 5.0]], 2.0).collect();
        assert_eq!(quads.len(), 2, "the zero-length segment is left out");
        assert_eq!(quads[0], (0, [[0.0, -2.0], [10.0, -2.0], [10.0, 2.0], [0.0, 2.0]]));
        assert_eq!(quads[1], (2, [[12.0, 0.0], [12.0, 5.0], [8.0, 5.0], [8.0, 0.0]]));
    }

    fn footprint<'a>(outer: &'a [[f64; 2]], holes: &'a [Vec<[f64; 2]>], bottom_m: f64) -> Footprint<'a> {
        Footprint { outer, holes, bottom_m, top_m: 10.0, floor: bottom_m > 0.0 }
    }

    fn tri_normal(m: &Mesh, t: &[u32]) -> glam::Vec3 {
        let p = |i: u32| glam::Vec3::from(m.positions[i as usize]);
        (p(t[1]) - p(t[0])).cross(p(t[2]) - p(t[0]))
    }

    #[test]
    fn box_faces_point_outwards_and_roof_up() {
        let outer = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let mut m = Mesh::default();
        assert!(m.add_extrusion(&footprint(&outer, &[], 0.0), 7, DVec3::ZERO));
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
        let outer = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let holes = [hole];
        let mut m = Mesh::default();
        assert!(m.add_extrusion(&footprint(&outer, &holes, 4.0), 0, DVec3::ZERO));
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
