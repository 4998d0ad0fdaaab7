//! A camera as the selection sees it: f64 ECEF pose, projection, viewport; frustum and SSE.

use glam::DVec3;

use super::bounds::{Plane, PlaneSide, WorldBounds};

/// How the view projects. Extents are metres (orthographic) or near-plane metres (off-axis).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Projection {
    /// Symmetric perspective; the horizontal extent follows the viewport's aspect.
    Perspective { fov_y_rad: f64, near_m: f64, far_m: f64 },
    /// Orthographic with a view volume `height_m` tall; width follows the aspect.
    Orthographic { height_m: f64, near_m: f64, far_m: f64 },
    /// Asymmetric perspective (one panel of a video wall): near-plane extents, like glFrustum.
    OffAxis { left_m: f64, right_m: f64, bottom_m: f64, top_m: f64, near_m: f64, far_m: f64 },
}

/// One view of the tileset for one frame. Positions and directions are ECEF.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewState {
    pub position_ecef: DVec3,
    pub direction: DVec3,
    pub up: DVec3,
    pub viewport_px: [f64; 2],
    pub projection: Projection,
}

impl ViewState {
    /// A perspective view from `position_ecef` looking at `target_ecef`.
    pub fn look_at(position_ecef: DVec3, target_ecef: DVec3, up: DVec3, viewport_px: [f64; 2], fov_y_rad: f64) -> Self {
        Self {
            position_ecef,
            direction: (target_ecef - position_ecef).normalize(),
            up,
            viewport_px,
            projection: Projection::Perspective { fov_y_rad, near_m: 0.1, far_m: f64::INFINITY },
        }
    }

    /// Orthonormal camera basis: (direction, right, up).
    pub fn basis(&self) -> (DVec3, DVec3, DVec3) {
        let d = self.direction.normalize();
        let mut r = d.cross(self.up);
        if r.length_squared() < 1e-24 {
            r = d.any_orthonormal_vector();
        }
        let r = r.normalize();
        let u = r.cross(d);
        (d, r, u)
    }

    fn aspect(&self) -> f64 {
        self.viewport_px[0].max(1.0) / self.viewport_px[1].max(1.0)
    }

    /// The culling frustum in ECEF.
    pub fn frustum(&self) -> Frustum {
        let p = self.position_ecef;
        let (d, r, u) = self.basis();
        let (near, far, planes) = match self.projection {
            Projection::Perspective { fov_y_rad, near_m, far_m } => {
                let t = near_m * (0.5 * fov_y_rad).tan();
                let rr = t * self.aspect();
                (near_m, far_m, perspective_sides(p, d, r, u, near_m, -rr, rr, -t, t))
            }
            Projection::OffAxis { left_m, right_m, bottom_m, top_m, near_m, far_m } => {
                (near_m, far_m, perspective_sides(p, d, r, u, near_m, left_m, right_m, bottom_m, top_m))
            }
            Projection::Orthographic { height_m, near_m, far_m } => {
                let t = 0.5 * height_m;
                let rr = t * self.aspect();
                let sides = [
                    Plane::from_point_normal(p - r * rr, r),
                    Plane::from_point_normal(p + r * rr, -r),
                    Plane::from_point_normal(p - u * t, u),
                    Plane::from_point_normal(p + u * t, -u),
                ];
                (near_m, far_m, sides)
            }
        };
        let mut all = planes.to_vec();
        all.push(Plane::from_point_normal(p + d * near, d));
        if far.is_finite() {
            all.push(Plane::from_point_normal(p + d * far, -d));
        }
        Frustum { planes: all }
    }

    /// Screen-space error in pixels of `geometric_error_m` seen at `distance_m`.
    pub fn screen_space_error(&self, geometric_error_m: f64, distance_m: f64) -> f64 {
        let h_px = self.viewport_px[1];
        match self.projection {
            Projection::Perspective { fov_y_rad, .. } => {
                geometric_error_m * h_px / (distance_m.max(1e-7) * 2.0 * (0.5 * fov_y_rad).tan())
            }
            Projection::OffAxis { bottom_m, top_m, near_m, .. } => {
                geometric_error_m * h_px / (distance_m.max(1e-7) * (top_m - bottom_m) / near_m)
            }
            Projection::Orthographic { height_m, .. } => geometric_error_m * h_px / height_m.max(1e-9),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn perspective_sides(p: DVec3, d: DVec3, r: DVec3, u: DVec3, n: f64, l: f64, rr: f64, b: f64, t: f64) -> [Plane; 4] {
    // Inward normals of the planes through the eye and each edge of the near rectangle.
    [
        Plane::from_point_normal(p, r * n - d * l),
        Plane::from_point_normal(p, -r * n + d * rr),
        Plane::from_point_normal(p, u * n - d * b),
        Plane::from_point_normal(p, -u * n + d * t),
    ]
}

/// A convex set of inward-facing planes.
#[derive(Debug, Clone, PartialEq)]
pub struct Frustum {
    pub planes: Vec<Plane>,
}

impl Frustum {
    /// False when the volume lies wholly outside some plane.
    pub fn is_visible(&self, bounds: &WorldBounds) -> bool {
        self.planes.iter().all(|pl| bounds.plane_side(pl) != PlaneSide::Outside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DMat3;

    fn sphere(x: f64, y: f64, z: f64, r: f64) -> WorldBounds {
        WorldBounds::Sphere { center: DVec3::new(x, y, z), radius: r }
    }

    fn view(projection: Projection) -> ViewState {
        ViewState {
            position_ecef: DVec3::ZERO,
            direction: -DVec3::Z,
            up: DVec3::Y,
            viewport_px: [200.0, 100.0],
            projection,
        }
    }

    #[test]
    fn perspective_culls_behind_beside_and_beyond() {
        let v = view(Projection::Perspective { fov_y_rad: 90f64.to_radians(), near_m: 1.0, far_m: 1000.0 });
        let f = v.frustum();
        assert!(f.is_visible(&sphere(0.0, 0.0, -10.0, 1.0)));
        assert!(!f.is_visible(&sphere(0.0, 0.0, 10.0, 1.0)), "behind");
        // fov_y 90° and aspect 2: at 10 m ahead the frustum is ±10 m tall and ±20 m wide.
        assert!(f.is_visible(&sphere(19.0, 0.0, -10.0, 0.5)));
        // The right plane has normal (-1, 0, -2)/√5: a unit sphere at x = 23 is 1.34 m outside it.
        assert!(!f.is_visible(&sphere(23.0, 0.0, -10.0, 1.0)), "right of it");
        assert!(!f.is_visible(&sphere(0.0, 12.0, -10.0, 1.0)), "above it");
        assert!(!f.is_visible(&sphere(0.0, 0.0, -1002.0, 1.0)), "beyond far");
    }

    #[test]
    fn off_axis_frustum_is_shifted() {
        // A right-hand wall panel: sees only x in [0, 2] at the near plane (1 m).
        let v = view(Projection::OffAxis {
            left_m: 0.0,
            right_m: 2.0,
            bottom_m: -0.5,
            top_m: 0.5,
            near_m: 1.0,
            far_m: f64::INFINITY,
        });
        let f = v.frustum();
        assert!(f.is_visible(&sphere(10.0, 0.0, -10.0, 0.5)));
        assert!(!f.is_visible(&sphere(-3.0, 0.0, -10.0, 0.5)));
    }

    #[test]
    fn orthographic_culls_by_extent_only() {
        let v = view(Projection::Orthographic { height_m: 10.0, near_m: 0.0, far_m: 100.0 });
        let f = v.frustum();
        let slab = WorldBounds::Box {
            center: DVec3::new(9.0, 0.0, -50.0),
            half_axes: DMat3::from_diagonal(DVec3::splat(0.5)),
        };
        assert!(f.is_visible(&slab));
        assert!(!f.is_visible(&sphere(0.0, 6.0, -50.0, 0.5)));
    }

    #[test]
    fn sse_matches_the_closed_forms() {
        let v = view(Projection::Perspective { fov_y_rad: 60f64.to_radians(), near_m: 1.0, far_m: 1e9 });
        let expect = 16.0 * 100.0 / (100.0 * 2.0 * 30f64.to_radians().tan());
        assert!((v.screen_space_error(16.0, 100.0) - expect).abs() < 1e-9);
        assert!(v.screen_space_error(16.0, 0.0) > 1e6, "inside the volume always refines");
        let o = view(Projection::Orthographic { height_m: 50.0, near_m: 0.0, far_m: 1.0 });
        assert!((o.screen_space_error(1.0, 1234.0) - 2.0).abs() < 1e-12);
        // A symmetric off-axis frustum equals the perspective one.
        let t = 30f64.to_radians().tan();
        let a = view(Projection::OffAxis {
            left_m: -2.0 * t,
            right_m: 2.0 * t,
            bottom_m: -t,
            top_m: t,
            near_m: 1.0,
            far_m: 1e9,
        });
        assert!((a.screen_space_error(16.0, 100.0) - expect).abs() < 1e-9);
    }
}
