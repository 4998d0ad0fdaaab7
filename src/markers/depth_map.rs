//! A CCTV camera's depth map: the distance (along its axis, metres) to the nearest surface in
//! each texel of its picture, rasterised on the CPU from the triangles around it. Projecting the
//! camera's feed onto the scene compares each surface point's distance with it, so walls behind
//! a building in front stay unlit by the feed.
//!
//! Triangles come in the camera's clip space (`clip_from_local` × position, as
//! `frustum::clip_from_ecef` makes it: `w` is the distance along the axis); they are clipped at
//! the near plane, and depth is interpolated perspective-correctly (1/w is linear on screen).

use glam::{DMat4, DVec2, DVec4, Vec3};

/// Where nothing was drawn.
pub const FAR_M: f32 = f32::MAX;
/// Nearer than this (metres along the axis) is clipped.
const NEAR_M: f64 = 0.1;

/// The depth map: `width × height` texels, rows from the top of the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthMap {
    pub width: u32,
    pub height: u32,
    /// Metres along the camera's axis; [`FAR_M`] where nothing was drawn.
    pub depth_m: Vec<f32>,
}

impl DepthMap {
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, depth_m: vec![FAR_M; (width * height) as usize] }
    }

    /// Draws the triangles `triangles` (indices into `positions`, in a local frame) seen through
    /// `clip_from_local`. Indices out of range are skipped.
    pub fn draw(
        &mut self,
        clip_from_local: &DMat4,
        positions: impl IntoIterator<Item = Vec3>,
        triangles: impl Iterator<Item = [u32; 3]>,
    ) {
        let clip: Vec<DVec4> = positions.into_iter().map(|p| *clip_from_local * p.as_dvec3().extend(1.0)).collect();
        for t in triangles {
            let Some(v) = t.map(|i| clip.get(i as usize).copied()).into_iter().collect::<Option<Vec<_>>>() else {
                continue;
            };
            // Wholly outside one side of the frustum (the range is not a limit: depth beyond it still occludes).
            if v.iter().all(|c| c.w < NEAR_M)
                || v.iter().all(|c| c.x > c.w)
                || v.iter().all(|c| c.x < -c.w)
                || v.iter().all(|c| c.y > c.w)
                || v.iter().all(|c| c.y < -c.w)
            {
                continue;
            }
            let polygon = clip_near(&v);
            for i in 1..polygon.len().saturating_sub(1) {
                self.fill([polygon[0], polygon[i], polygon[i + 1]]);
            }
        }
    }

    /// The depth at a picture position (0–1 from the top-left), nearest texel.
    pub fn at(&self, uv: [f64; 2]) -> f32 {
        let x = ((uv[0] * self.width as f64) as i64).clamp(0, self.width as i64 - 1) as usize;
        let y = ((uv[1] * self.height as f64) as i64).clamp(0, self.height as i64 - 1) as usize;
        self.depth_m[y * self.width as usize + x]
    }

    /// Rasterises one triangle whose vertices are in front of the near plane.
    fn fill(&mut self, v: [DVec4; 3]) {
        let (w, h) = (self.width as f64, self.height as f64);
        // Screen position (pixels, y down) and 1/w of each vertex.
        let s = v.map(|c| DVec2::new((c.x / c.w * 0.5 + 0.5) * w, (0.5 - c.y / c.w * 0.5) * h));
        let inv_w = v.map(|c| 1.0 / c.w);
        let area = edge(s[0], s[1], s[2]);
        if area.abs() < 1e-12 {
            return;
        }
        let min = s[0].min(s[1]).min(s[2]).max(DVec2::ZERO);
        let max = s[0].max(s[1]).max(s[2]).min(DVec2::new(w, h));
        if min.x >= max.x || min.y >= max.y {
            return;
        }
        let (x0, x1) = (min.x.floor() as u32, (max.x.ceil() as u32).min(self.width));
        let (y0, y1) = (min.y.floor() as u32, (max.y.ceil() as u32).min(self.height));
        for y in y0..y1 {
            for x in x0..x1 {
                let p = DVec2::new(x as f64 + 0.5, y as f64 + 0.5);
                let b = [edge(s[1], s[2], p) / area, edge(s[2], s[0], p) / area, edge(s[0], s[1], p) / area];
                if b.iter().any(|b| *b < 0.0) {
                    continue;
                }
                let depth = (1.0 / (b[0] * inv_w[0] + b[1] * inv_w[1] + b[2] * inv_w[2])) as f32;
                let texel = &mut self.depth_m[(y * self.width + x) as usize];
                *texel = texel.min(depth);
            }
        }
    }
}

/// Twice the signed area of (a, b, p).
fn edge(a: DVec2, b: DVec2, p: DVec2) -> f64 {
    (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x)
}

/// The part of a triangle in front of the near plane (0, 3 or 4 vertices).
fn clip_near(v: &[DVec4]) -> Vec<DVec4> {
    let mut out = Vec::with_capacity(4);
    for i in 0..v.len() {
        let (a, b) = (v[i], v[(i + 1) % v.len()]);
        let (a_in, b_in) = (a.w >= NEAR_M, b.w >= NEAR_M);
        if a_in {
            out.push(a);
        }
        if a_in != b_in {
            out.push(a + (b - a) * ((NEAR_M - a.w) / (b.w - a.w)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{Cartographic, WGS84, ecef_from_enu};
    use crate::markers::frustum::{clip_from_ecef, picture_uv};
    use crate::protocol::catalog::Camera;

    /// The frustum tests' camera looking north, level.
    fn camera() -> Camera {
        crate::markers::frustum::tests::cam(0.0, 0.0)
    }

    /// A wall facing the camera `north_m` away: x −half..half east, z 0..height up (local ENU at the ground).
    fn wall(north_m: f32, half_m: f32, height_m: f32) -> (Vec<[f32; 3]>, Vec<[u32; 3]>) {
        let p = vec![
            [-half_m, north_m, 0.0],
            [half_m, north_m, 0.0],
            [half_m, north_m, height_m],
            [-half_m, north_m, height_m],
        ];
        (p, vec![[0, 1, 2], [0, 2, 3]])
    }

    #[test]
    fn a_wall_in_front_hides_the_one_behind_it_and_depth_is_its_distance() {
        let cam = camera();
        let ground = WGS84.ecef_from_cartographic(Cartographic::from_degrees(cam.lon_deg, cam.lat_deg, 0.0));
        let clip = clip_from_ecef(&cam, 16.0 / 9.0, 1.0);
        let clip_from_local = clip * ecef_from_enu(ground);
        let mut map = DepthMap::new(160, 90);
        // A far wall 100 m away, 200 m wide; a near one 50 m away, 20 m wide, both 30 m tall.
        for (north, half) in [(100.0, 100.0), (50.0, 10.0)] {
            let (p, t) = wall(north, half, 30.0);
            map.draw(&clip_from_local, p.iter().map(|v| Vec3::from(*v)), t.into_iter());
        }
        let centre = map.at([0.5, 0.5]);
        assert!((centre - 50.0).abs() < 0.05, "the near wall at the centre: {centre}");
        let side = map.at([0.1, 0.5]);
        assert!((side - 100.0).abs() < 0.1, "the far wall beside it: {side}");
        // Above both walls (30 m, the eye at 10 m: 20 m up at 100 m is 0.2 of the half-height 56 m).
        assert_eq!(map.at([0.5, 0.02]), FAR_M, "sky");
        // A point on the far wall behind the near one is hidden; one beside it is seen.
        let behind = ground + (ecef_from_enu(ground).transform_vector3(glam::DVec3::new(0.0, 100.0, 10.0)));
        let (uv, _) = picture_uv(&clip, behind).unwrap();
        assert!(map.at(uv) < 99.0);
    }

    #[test]
    fn triangles_through_the_near_plane_are_clipped_not_lost() {
        let cam = camera();
        let ground = WGS84.ecef_from_cartographic(Cartographic::from_degrees(cam.lon_deg, cam.lat_deg, 0.0));
        let clip_from_local = clip_from_ecef(&cam, 16.0 / 9.0, 1.0) * ecef_from_enu(ground);
        // Ground from 50 m behind the camera to 150 m ahead.
        let p = [[-100.0, -50.0, 0.0], [100.0, -50.0, 0.0], [100.0, 150.0, 0.0], [-100.0, 150.0, 0.0]].map(Vec3::from);
        let mut map = DepthMap::new(64, 36);
        map.draw(&clip_from_local, p, [[0, 1, 2], [0, 2, 3], [0, 9, 1]].into_iter());
        // The ground fills the lower half; depth grows toward the horizon (10 m eye height).
        let (low, mid) = (map.at([0.5, 0.99]), map.at([0.5, 0.6]));
        assert!(low < mid && mid < 150.0, "{low} {mid}");
        let expected = 10.0 / (0.2 * (vertical_half(16.0 / 9.0)).tan());
        assert!((mid as f64 - expected).abs() / expected < 0.1, "{mid} vs {expected}");
        assert_eq!(map.at([0.5, 0.3]), FAR_M, "nothing above the horizon");
    }

    /// The camera's half vertical field of view.
    fn vertical_half(aspect: f64) -> f64 {
        crate::markers::frustum::vertical_fov_rad(90.0, aspect) / 2.0
    }
}
