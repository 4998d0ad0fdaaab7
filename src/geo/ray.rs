//! Rays against triangles and boxes (f64): picking and sun-ray casts share them.

use glam::DVec3;

/// Möller–Trumbore: the distance along the ray (`dir` need not be unit; distance in its units) to
/// the triangle, if it is hit from either side at a distance > 0.
pub fn ray_triangle(origin: DVec3, dir: DVec3, [a, b, c]: &[DVec3; 3]) -> Option<f64> {
    let (e1, e2) = (*b - *a, *c - *a);
    let p = dir.cross(e2);
    let det = e1.dot(p);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = 1.0 / det;
    let s = origin - *a;
    let u = s.dot(p) * inv;
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = s.cross(e1);
    let v = dir.dot(q) * inv;
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = e2.dot(q) * inv;
    (t > 0.0).then_some(t)
}

/// Slab test: does the ray meet the box at some distance ≥ 0?
pub fn ray_hits_box(origin: DVec3, dir: DVec3, min: DVec3, max: DVec3) -> bool {
    let (mut near, mut far) = (0.0f64, f64::INFINITY);
    for k in 0..3 {
        let (o, d) = (origin[k], dir[k]);
        if d.abs() < 1e-12 {
            if o < min[k] || o > max[k] {
                return false;
            }
            continue;
        }
        let (t0, t1) = ((min[k] - o) / d, (max[k] - o) / d);
        near = near.max(t0.min(t1));
        far = far.min(t0.max(t1));
        if near > far {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangles_are_hit_in_front_from_either_side() {
        let tri = [DVec3::new(0.0, 0.0, 1.0), DVec3::new(1.0, 0.0, 1.0), DVec3::new(0.0, 1.0, 1.0)];
        assert_eq!(ray_triangle(DVec3::new(0.2, 0.2, 0.0), DVec3::Z, &tri), Some(1.0));
        assert_eq!(ray_triangle(DVec3::new(0.2, 0.2, 3.0), -DVec3::Z * 2.0, &tri), Some(1.0), "from above");
        assert_eq!(ray_triangle(DVec3::ZERO, -DVec3::Z, &tri), None, "behind");
        assert_eq!(ray_triangle(DVec3::new(0.8, 0.8, 0.0), DVec3::Z, &tri), None, "beside");
        assert_eq!(ray_triangle(DVec3::new(0.2, 0.2, 0.0), DVec3::X, &tri), None, "parallel");
    }

    #[test]
    fn boxes_are_met_ahead_only() {
        let (min, max) = (DVec3::splat(1.0), DVec3::splat(2.0));
        assert!(ray_hits_box(DVec3::ZERO, DVec3::ONE.normalize(), min, max));
        assert!(!ray_hits_box(DVec3::ZERO, -DVec3::ONE.normalize(), min, max), "behind");
        assert!(!ray_hits_box(DVec3::ZERO, DVec3::X, min, max), "parallel, outside the slab");
        assert!(ray_hits_box(DVec3::splat(1.5), DVec3::X, min, max), "from inside");
    }
}
