//! A CCTV camera's view in the world: its frame from position, heading, pitch and field of view,
//! the pyramid it sees out to its range (drawn as its frustum), and the projection that maps a
//! world point to where it appears in the camera's picture (for projecting its feed onto the
//! scene). The field of view is horizontal; the picture's aspect is the feed's.

use glam::{DMat4, DVec3, DVec4};

use crate::geo::{Cartographic, WGS84, enu_axes};
use crate::protocol::catalog::Camera;

/// `ecef_from_camera`: x right, y up, looking down −z (the usual right-handed camera frame).
pub fn ecef_from_camera(cam: &Camera) -> DMat4 {
    let eye = WGS84.ecef_from_cartographic(Cartographic::from_degrees(cam.lon_deg, cam.lat_deg, cam.height_m));
    let (east, north, up) = enu_axes(eye);
    let (h, p) = (cam.heading_deg.to_radians(), cam.pitch_deg.to_radians());
    let forward = (east * h.sin() + north * h.cos()) * p.cos() + up * p.sin();
    let right = east * h.cos() - north * h.sin();
    let cam_up = right.cross(forward);
    DMat4::from_cols(right.extend(0.0), cam_up.extend(0.0), (-forward).extend(0.0), eye.extend(1.0))
}

/// The vertical field of view for a horizontal one and an aspect (width / height).
pub fn vertical_fov_rad(horizontal_fov_deg: f64, aspect: f64) -> f64 {
    2.0 * ((horizontal_fov_deg.to_radians() / 2.0).tan() / aspect).atan()
}

/// The eye and the four corners of the far plane at the camera's range (ECEF): bottom-left,
/// bottom-right, top-right, top-left as seen by the camera.
pub fn frustum_corners(cam: &Camera, aspect: f64) -> [DVec3; 5] {
    let m = ecef_from_camera(cam);
    let half_w = cam.range_m * (cam.fov_deg.to_radians() / 2.0).tan();
    let half_h = cam.range_m * (vertical_fov_rad(cam.fov_deg, aspect) / 2.0).tan();
    let at = |x: f64, y: f64| m.transform_point3(DVec3::new(x * half_w, y * half_h, -cam.range_m));
    [m.transform_point3(DVec3::ZERO), at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
}

/// `clip_from_ecef` of the camera, depth 0 at `near_m` to 1 at its range (wgpu's convention).
pub fn clip_from_ecef(cam: &Camera, aspect: f64, near_m: f64) -> DMat4 {
    let projection = DMat4::perspective_rh(vertical_fov_rad(cam.fov_deg, aspect), aspect, near_m, cam.range_m);
    projection * ecef_from_camera(cam).inverse()
}

/// Where a world point appears in the camera's picture: `(u, v)` from the top-left, 0–1 across,
/// and its depth 0–1; `None` behind the camera or outside its frustum.
pub fn picture_uv(clip_from_ecef: &DMat4, p_ecef: DVec3) -> Option<([f64; 2], f64)> {
    let c: DVec4 = *clip_from_ecef * p_ecef.extend(1.0);
    if c.w <= 0.0 {
        return None;
    }
    let ndc = c.truncate() / c.w;
    let inside = ndc.x.abs() <= 1.0 && ndc.y.abs() <= 1.0 && (0.0..=1.0).contains(&ndc.z);
    inside.then_some(([ndc.x * 0.5 + 0.5, 0.5 - ndc.y * 0.5], ndc.z))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A camera 10 m up at (114, 22.5), 90° wide, reaching 200 m.
    pub(crate) fn cam(heading_deg: f64, pitch_deg: f64) -> Camera {
        Camera {
            id: 0,
            name: "c".into(),
            lon_deg: 114.0,
            lat_deg: 22.5,
            height_m: 10.0,
            heading_deg,
            pitch_deg,
            fov_deg: 90.0,
            range_m: 200.0,
            feed: String::new(),
        }
    }

    /// A point `east_m`, `north_m`, `up_m` from the camera of `cam`.
    fn enu_from_camera(c: &Camera, east_m: f64, north_m: f64, up_m: f64) -> DVec3 {
        let eye = WGS84.ecef_from_cartographic(Cartographic::from_degrees(c.lon_deg, c.lat_deg, c.height_m));
        let (e, n, u) = enu_axes(eye);
        eye + e * east_m + n * north_m + u * up_m
    }

    #[test]
    fn heading_turns_clockwise_from_north_and_pitch_tilts_down() {
        let axis = |c: &Camera| -ecef_from_camera(c).z_axis.truncate();
        let c = cam(0.0, 0.0);
        let toward = |e, n, u| (enu_from_camera(&c, e, n, u) - enu_from_camera(&c, 0.0, 0.0, 0.0)).normalize();
        assert!((axis(&cam(0.0, 0.0)) - toward(0.0, 1.0, 0.0)).length() < 1e-9, "north");
        assert!((axis(&cam(90.0, 0.0)) - toward(1.0, 0.0, 0.0)).length() < 1e-9, "east");
        assert!((axis(&cam(0.0, -90.0)) - toward(0.0, 0.0, -1.0)).length() < 1e-9, "down");
        let m = ecef_from_camera(&cam(30.0, -20.0));
        assert!((m.x_axis.truncate().dot(m.y_axis.truncate())).abs() < 1e-12, "orthonormal");
        assert!((m.x_axis.truncate().cross(m.y_axis.truncate()) - m.z_axis.truncate()).length() < 1e-9, "right-handed");
    }

    #[test]
    fn the_picture_maps_the_axis_to_its_centre_and_the_fov_edge_to_its_edge() {
        let c = cam(0.0, 0.0);
        let clip = clip_from_ecef(&c, 16.0 / 9.0, 1.0);
        let (uv, depth) = picture_uv(&clip, enu_from_camera(&c, 0.0, 100.0, 0.0)).unwrap();
        assert!((uv[0] - 0.5).abs() < 1e-9 && (uv[1] - 0.5).abs() < 1e-9, "{uv:?}");
        assert!(depth > 0.0 && depth < 1.0);
        // 90° horizontal: 45° to the right is the right edge; up is the top (v = 0).
        let (uv, _) = picture_uv(&clip, enu_from_camera(&c, 99.999, 100.0, 0.0)).unwrap();
        assert!((uv[0] - 1.0).abs() < 1e-4, "{uv:?}");
        let vfov = vertical_fov_rad(90.0, 16.0 / 9.0);
        let (uv, _) = picture_uv(&clip, enu_from_camera(&c, 0.0, 100.0, 100.0 * (vfov / 2.0).tan() - 1e-3)).unwrap();
        assert!(uv[1].abs() < 1e-4, "{uv:?}");
        // Behind, beside or past the range: not in the picture.
        assert!(picture_uv(&clip, enu_from_camera(&c, 0.0, -100.0, 0.0)).is_none());
        assert!(picture_uv(&clip, enu_from_camera(&c, 150.0, 100.0, 0.0)).is_none());
        assert!(picture_uv(&clip, enu_from_camera(&c, 0.0, 250.0, 0.0)).is_none());
    }

    #[test]
    fn frustum_corners_lie_on_the_far_plane_at_the_fov() {
        let c = cam(45.0, -30.0);
        let aspect = 16.0 / 9.0;
        let [eye, bl, br, tr, tl] = frustum_corners(&c, aspect);
        let forward = -ecef_from_camera(&c).z_axis.truncate();
        for corner in [bl, br, tr, tl] {
            assert!(((corner - eye).dot(forward) - c.range_m).abs() < 1e-6, "on the far plane");
        }
        let width = (br - bl).length();
        assert!((width - 2.0 * c.range_m * (45f64.to_radians()).tan()).abs() < 1e-6);
        assert!(((tr - br).length() - width / aspect).abs() < 1e-6, "the picture's aspect");
        // Every corner projects to its corner of the picture.
        let clip = clip_from_ecef(&c, aspect, 1.0);
        let centre = (bl + br + tr + tl) / 4.0;
        let inside = |p: DVec3| eye + (p * 0.99 + centre * 0.01 - eye) * 0.999;
        let (uv, _) = picture_uv(&clip, inside(tl)).unwrap();
        assert!(uv[0] < 0.01 && uv[1] < 0.01, "{uv:?}");
        let (uv, _) = picture_uv(&clip, inside(br)).unwrap();
        assert!(uv[0] > 0.99 && uv[1] > 0.99, "{uv:?}");
    }
}
