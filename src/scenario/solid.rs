//! Solids for planning analysis in local metres (x east, y north, z up): prisms (massings and city
//! buildings) and the triangle sets sun rays are cast against.

use glam::DVec3;

use crate::geo::{ray_hits_box, ray_triangle, ring_area_m2};

/// A vertical prism: a counter-clockwise outline extruded from `base_m` to `top_m`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prism {
    pub outline: Vec<[f64; 2]>,
    pub base_m: f64,
    pub top_m: f64,
    /// Storeys inside, when known (massings); 0 when not.
    pub floors: u32,
}

impl Prism {
    pub fn area_m2(&self) -> f64 {
        ring_area_m2(&self.outline).abs()
    }

    pub fn volume_m3(&self) -> f64 {
        self.area_m2() * (self.top_m - self.base_m).max(0.0)
    }

    /// The walls as triangles, each quad split in two. Roofs and floors are left out: a sun ray
    /// starts below the roof it could hit or above it, and rises, so it always meets a wall first.
    pub fn wall_triangles(&self) -> Vec<[DVec3; 3]> {
        let n = self.outline.len();
        let mut out = Vec::with_capacity(2 * n);
        for i in 0..n {
            let (a, b) = (self.outline[i], self.outline[(i + 1) % n]);
            let p = |q: [f64; 2], z: f64| DVec3::new(q[0], q[1], z);
            let (a0, b0, b1, a1) = (p(a, self.base_m), p(b, self.base_m), p(b, self.top_m), p(a, self.top_m));
            out.push([a0, b0, b1]);
            out.push([a0, b1, a1]);
        }
        out
    }
}

/// Triangles with their bounding box, so most rays are rejected by one box test.
#[derive(Debug, Clone, Default)]
pub struct Obstacle {
    pub triangles: Vec<[DVec3; 3]>,
    pub min: DVec3,
    pub max: DVec3,
}

impl Obstacle {
    pub fn new(triangles: Vec<[DVec3; 3]>) -> Self {
        let (mut min, mut max) = (DVec3::splat(f64::INFINITY), DVec3::splat(f64::NEG_INFINITY));
        for p in triangles.iter().flatten() {
            min = min.min(*p);
            max = max.max(*p);
        }
        Self { triangles, min, max }
    }

    pub fn from_prism(prism: &Prism) -> Self {
        Self::new(prism.wall_triangles())
    }

    /// One obstacle per feature (a building of a tile), so a ray tests only the buildings whose
    /// boxes it crosses. Keys are ordered, so the result does not depend on input order.
    pub fn by_feature<K: Ord>(triangles: impl IntoIterator<Item = ([DVec3; 3], K)>) -> Vec<Self> {
        let mut groups: std::collections::BTreeMap<K, Vec<[DVec3; 3]>> = Default::default();
        for (t, feature) in triangles {
            groups.entry(feature).or_default().push(t);
        }
        groups.into_values().map(Self::new).collect()
    }

    /// True when the ray from `origin` along unit `dir` hits a triangle more than a millimetre
    /// away (nearer is the ray's own surface).
    pub fn blocks(&self, origin: DVec3, dir: DVec3) -> bool {
        ray_hits_box(origin, dir, self.min, self.max)
            && self.triangles.iter().any(|t| ray_triangle(origin, dir, t).is_some_and(|d| d > 1e-3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube(x0: f64, y0: f64, side: f64, height: f64) -> Prism {
        let outline = vec![[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side]];
        Prism { outline, base_m: 0.0, top_m: height, floors: 0 }
    }

    #[test]
    fn triangles_group_into_one_obstacle_per_feature() {
        let walls = |x0: f64, f: u32| {
            Obstacle::from_prism(&cube(x0, 0.0, 10.0, 10.0)).triangles.into_iter().map(move |t| (t, f))
        };
        let all: Vec<_> = walls(0.0, 7).chain(walls(100.0, 3)).collect();
        let obstacles = Obstacle::by_feature(all);
        assert_eq!(obstacles.len(), 2);
        // Feature 3 (x 100–110) first; each box is its own building's.
        assert_eq!((obstacles[0].min.x, obstacles[0].max.x), (100.0, 110.0));
        assert_eq!((obstacles[1].min.x, obstacles[1].max.x), (0.0, 10.0));
    }

    #[test]
    fn prism_measures() {
        let p = cube(0.0, 0.0, 10.0, 30.0);
        assert_eq!(p.area_m2(), 100.0);
        assert_eq!(p.volume_m3(), 3000.0);
        assert_eq!(p.wall_triangles().len(), 8);
    }

    #[test]
    fn rays_hit_walls_they_cross_and_miss_what_they_pass() {
        let o = Obstacle::from_prism(&cube(0.0, 0.0, 10.0, 10.0));
        let from = DVec3::new(5.0, 20.0, 0.0); // 10 m north of the north wall
        let south = |elevation_deg: f64| {
            let e = elevation_deg.to_radians();
            DVec3::new(0.0, -e.cos(), e.sin())
        };
        // The wall top is 10 m up and 10 m away: below 45° the ray hits, above it clears.
        assert!(o.blocks(from, south(40.0)));
        assert!(!o.blocks(from, south(50.0)));
        // Looking away (north) never hits; east along the wall line passes beside it.
        assert!(!o.blocks(from, DVec3::new(0.0, 0.6, 0.8)));
        assert!(!o.blocks(DVec3::new(-1.0, 20.0, 0.0), DVec3::new(0.0, -0.8, 0.6).normalize()));
        // A ray starting on a wall does not hit that wall itself.
        assert!(!o.blocks(DVec3::new(5.0, 10.0, 2.0), DVec3::new(0.0, 0.6, 0.8)));
    }
}
