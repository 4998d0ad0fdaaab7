//! The globe camera: an f64 ECEF pose with heading and pitch in the local east-north-up frame
//! (so "up" is always away from the Earth). Orbit and zoom around the point under the cursor,
//! pan, WASD fly, smooth fly-to; near and far planes follow the altitude.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use glam::DVec3;

use super::origin::{FloatingOrigin, REBASE_DISTANCE_M};
use crate::geo::{Cartographic, WGS84, enu_axes};
use crate::tiles::{Projection as TileProjection, ViewState};

/// The viewer's camera pose, authoritative over the Bevy camera's transform.
#[derive(Resource, Debug, Clone)]
pub struct GeoCamera {
    pub position_ecef: DVec3,
    /// Radians clockwise from north.
    pub heading: f64,
    /// Radians above the horizon (negative looks down).
    pub pitch: f64,
    pub fov_y: f64,
    pub flight: Option<Flight>,
    /// The point orbits and zooms turn around, set when a drag starts.
    pivot: Option<DVec3>,
}

/// The camera is driven from elsewhere (a video wall's master): mouse, keys, flights home and the
/// first tileset's framing leave it alone.
#[derive(Resource, Debug, Clone, Copy)]
pub struct CameraLocked;

/// A smooth move to a target pose.
#[derive(Debug, Clone)]
pub struct Flight {
    from: (Cartographic, f64, f64),
    to: (Cartographic, f64, f64),
    elapsed_s: f64,
    duration_s: f64,
}

/// A named viewpoint: geodetic position, heading and pitch in degrees.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
pub struct Bookmark {
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub height_m: f64,
    pub heading_deg: f64,
    pub pitch_deg: f64,
}

impl Bookmark {
    /// Parses `lon,lat,height_m,heading_deg,pitch_deg` (the `--camera` flag, the web page's `?camera=`).
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        use anyhow::Context;
        let v: Vec<f64> = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .context("a camera is five numbers")?;
        let [lon_deg, lat_deg, height_m, heading_deg, pitch_deg] = v.as_slice() else {
            anyhow::bail!("a camera is lon,lat,height,heading,pitch")
        };
        anyhow::ensure!(
            (-180.0..=180.0).contains(lon_deg) && (-90.0..=90.0).contains(lat_deg) && *height_m > 0.0,
            "camera {s}: out of range"
        );
        Ok(Self {
            lon_deg: *lon_deg,
            lat_deg: *lat_deg,
            height_m: *height_m,
            heading_deg: *heading_deg,
            pitch_deg: *pitch_deg,
        })
    }
}

/// The `lon,lat,height_m,heading_deg,pitch_deg` form `parse` reads (millimetre and 0.01° steps).
impl std::fmt::Display for Bookmark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.8},{:.8},{:.3},{:.2},{:.2}",
            self.lon_deg, self.lat_deg, self.height_m, self.heading_deg, self.pitch_deg
        )
    }
}

impl GeoCamera {
    pub fn at(b: &Bookmark) -> Self {
        Self {
            position_ecef: WGS84.ecef_from_cartographic(Cartographic::from_degrees(b.lon_deg, b.lat_deg, b.height_m)),
            heading: b.heading_deg.to_radians(),
            pitch: b.pitch_deg.to_radians(),
            fov_y: 50f64.to_radians(),
            flight: None,
            pivot: None,
        }
    }

    /// Where the camera is, as a bookmark (`None` at the Earth's centre).
    pub fn bookmark(&self) -> Option<Bookmark> {
        let c = WGS84.cartographic_from_ecef(self.position_ecef)?;
        Some(Bookmark {
            lon_deg: c.lon_rad.to_degrees(),
            lat_deg: c.lat_rad.to_degrees(),
            height_m: c.height_m,
            heading_deg: self.heading.to_degrees(),
            pitch_deg: self.pitch.to_degrees(),
        })
    }

    /// A view of a bounding sphere from the south, looking down at 35°.
    pub fn looking_at(center_ecef: DVec3, radius_m: f64) -> Self {
        let (_, n, u) = enu_axes(center_ecef);
        let distance = radius_m.max(10.0) * 2.2;
        let pitch = -35f64.to_radians();
        let eye = center_ecef - n * distance * pitch.cos() + u * distance * (-pitch).sin();
        Self { position_ecef: eye, heading: 0.0, pitch, fov_y: 50f64.to_radians(), flight: None, pivot: None }
    }

    /// Forward, right and up unit vectors in ECEF.
    pub fn basis(&self) -> (DVec3, DVec3, DVec3) {
        let (e, n, u) = enu_axes(self.position_ecef);
        let (sh, ch) = self.heading.sin_cos();
        let (sp, cp) = self.pitch.sin_cos();
        let level = e * sh + n * ch;
        let forward = level * cp + u * sp;
        let right = e * ch - n * sh;
        let up = right.cross(forward).normalize();
        (forward.normalize(), right, up)
    }

    pub fn altitude_m(&self) -> f64 {
        WGS84.cartographic_from_ecef(self.position_ecef).map_or(0.0, |c| c.height_m)
    }

    /// Near and far planes for the altitude: close enough for street level, far enough for the horizon.
    pub fn clip_planes(&self) -> (f64, f64) {
        let h = self.altitude_m().max(1.0);
        let horizon = (2.0 * WGS84.a_m * h + h * h).sqrt();
        ((h * 0.001).clamp(0.1, 1000.0), (horizon + 50_000.0).max(10_000.0))
    }

    /// The selection's view of this camera for a viewport.
    pub fn view_state(&self, viewport_px: [f64; 2]) -> ViewState {
        let (forward, _, up) = self.basis();
        let (near_m, far_m) = self.clip_planes();
        ViewState {
            position_ecef: self.position_ecef,
            direction: forward,
            up,
            viewport_px,
            projection: TileProjection::Perspective { fov_y_rad: self.fov_y, near_m, far_m },
        }
    }

    /// Starts a smooth flight to `to` over `duration_s` seconds.
    pub fn fly_to(&mut self, to: &Bookmark, duration_s: f64) {
        let from_c =
            WGS84.cartographic_from_ecef(self.position_ecef).unwrap_or(Cartographic::from_degrees(0.0, 0.0, 0.0));
        self.flight = Some(Flight {
            from: (from_c, self.heading, self.pitch),
            to: (
                Cartographic::from_degrees(to.lon_deg, to.lat_deg, to.height_m),
                to.heading_deg.to_radians(),
                to.pitch_deg.to_radians(),
            ),
            elapsed_s: 0.0,
            duration_s: duration_s.max(0.01),
        });
    }

    /// Advances a flight; returns true while flying.
    pub fn advance_flight(&mut self, dt_s: f64) -> bool {
        let Some(f) = self.flight.as_mut() else { return false };
        f.elapsed_s += dt_s;
        let t = (f.elapsed_s / f.duration_s).min(1.0);
        let s = t * t * (3.0 - 2.0 * t);
        let lerp = |a: f64, b: f64| a + (b - a) * s;
        let dh = (f.to.1 - f.from.1 + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI;
        // Arc up when travelling far, so the ground stays in view.
        let hop = WGS84.a_m
            * ((f.to.0.lat_rad - f.from.0.lat_rad).hypot(f.to.0.lon_rad - f.from.0.lon_rad))
            * 0.5
            * (std::f64::consts::PI * s).sin();
        let c = Cartographic {
            lon_rad: lerp(f.from.0.lon_rad, f.to.0.lon_rad),
            lat_rad: lerp(f.from.0.lat_rad, f.to.0.lat_rad),
            height_m: lerp(f.from.0.height_m, f.to.0.height_m) + hop,
        };
        self.position_ecef = WGS84.ecef_from_cartographic(c);
        self.heading = f.from.1 + dh * s;
        self.pitch = lerp(f.from.2, f.to.2);
        if t >= 1.0 {
            self.flight = None;
        }
        true
    }

    /// Rotates the camera about `pivot`: `yaw` around the local up there, `tilt` around the right axis.
    pub fn orbit(&mut self, pivot: DVec3, yaw: f64, tilt: f64) {
        let (_, right, _) = self.basis();
        let up_at_pivot = enu_axes(pivot).2;
        let tilt = tilt.clamp(-1.0, 1.0);
        let new_pitch = (self.pitch - tilt).clamp(-89f64.to_radians(), -2f64.to_radians());
        let tilt = self.pitch - new_pitch;
        let q = glam::DQuat::from_axis_angle(up_at_pivot, -yaw) * glam::DQuat::from_axis_angle(right, -tilt);
        let offset = q * (self.position_ecef - pivot);
        let candidate = pivot + offset;
        if WGS84.cartographic_from_ecef(candidate).is_some_and(|c| c.height_m > 0.5) {
            self.position_ecef = candidate;
            self.heading += yaw;
            self.pitch = new_pitch;
        }
    }

    /// Moves towards `target` by `fraction` of the distance (negative moves away).
    pub fn zoom_towards(&mut self, target: DVec3, fraction: f64) {
        let to = target - self.position_ecef;
        let candidate = self.position_ecef + to * fraction.clamp(-2.0, 0.9);
        if WGS84.cartographic_from_ecef(candidate).is_some_and(|c| c.height_m > 0.5 && c.height_m < 2.0e7) {
            self.position_ecef = candidate;
        }
    }

    /// Where the ray from the camera along `dir` meets the ellipsoid raised to `height_m` (as a sphere).
    pub fn ground_hit(&self, dir: DVec3, height_m: f64) -> Option<DVec3> {
        let c = WGS84.cartographic_from_ecef(self.position_ecef)?;
        let r = (self.position_ecef.length() - c.height_m) + height_m;
        let (o, d) = (self.position_ecef, dir.normalize());
        let b = o.dot(d);
        let disc = b * b - (o.length_squared() - r * r);
        if disc < 0.0 {
            return None;
        }
        let t = -b - disc.sqrt();
        (t > 0.0).then(|| o + d * t)
    }
}

/// Mouse and keyboard control. Left drag orbits about the point under the cursor, right drag
/// pans, the wheel zooms towards the cursor; WASD moves, Q/E down/up, Shift is faster.
#[allow(clippy::too_many_arguments)]
pub fn controls(
    mut cam: ResMut<GeoCamera>,
    time: Res<Time>,
    buttons: Res<ButtonInput<MouseButton>>,
    keys: Res<ButtonInput<KeyCode>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    windows: Query<&Window, With<PrimaryWindow>>,
    mut egui: bevy_egui::EguiContexts,
) {
    let dt = time.delta_secs_f64();
    if cam.advance_flight(dt) {
        return;
    }
    if egui.ctx_mut().is_ok_and(|c| c.egui_wants_pointer_input() || c.egui_wants_keyboard_input()) {
        return;
    }
    let Ok(window) = windows.single() else { return };
    let cursor_dir = |cam: &GeoCamera| -> DVec3 {
        let (f, r, u) = cam.basis();
        let Some(p) = window.cursor_position() else { return f };
        let (w, h) = (window.width() as f64, window.height() as f64);
        let t = (cam.fov_y / 2.0).tan();
        let x = (p.x as f64 / w * 2.0 - 1.0) * t * w / h;
        let y = (1.0 - p.y as f64 / h * 2.0) * t;
        (f + r * x + u * y).normalize()
    };
    let altitude = cam.altitude_m().max(1.0);
    if buttons.just_pressed(MouseButton::Left) || buttons.just_pressed(MouseButton::Right) {
        let dir = cursor_dir(&cam);
        cam.pivot = cam.ground_hit(dir, 0.0).or_else(|| Some(cam.position_ecef + cam.basis().0 * altitude * 2.0));
    }
    let d = motion.delta.as_dvec2();
    if buttons.pressed(MouseButton::Left) && d != glam::DVec2::ZERO {
        if let Some(p) = cam.pivot {
            cam.orbit(p, d.x * 0.005, d.y * 0.005);
        }
    } else if buttons.pressed(MouseButton::Right) && d != glam::DVec2::ZERO {
        let (_, r, _) = cam.basis();
        let (e, n, _) = enu_axes(cam.position_ecef);
        let level_fwd = (n * cam.heading.cos() + e * cam.heading.sin()).normalize();
        let k = altitude * 0.0015;
        cam.position_ecef += (-r * d.x + level_fwd * d.y) * k;
    }
    let notches = match scroll.unit {
        MouseScrollUnit::Line => scroll.delta.y as f64,
        MouseScrollUnit::Pixel => scroll.delta.y as f64 / 40.0,
    };
    if notches != 0.0 {
        let dir = cursor_dir(&cam);
        let target = cam.ground_hit(dir, 0.0).unwrap_or(cam.position_ecef + dir * altitude * 3.0);
        cam.zoom_towards(target, 0.15 * notches);
    }
    let (f, r, _) = cam.basis();
    let up = enu_axes(cam.position_ecef).2;
    let mut v = DVec3::ZERO;
    for (key, dir) in [
        (KeyCode::KeyW, f),
        (KeyCode::KeyS, -f),
        (KeyCode::KeyD, r),
        (KeyCode::KeyA, -r),
        (KeyCode::KeyE, up),
        (KeyCode::KeyQ, -up),
    ] {
        if keys.pressed(key) {
            v += dir;
        }
    }
    if v != DVec3::ZERO {
        let fast = if keys.pressed(KeyCode::ShiftLeft) { 4.0 } else { 1.0 };
        let candidate = cam.position_ecef + v.normalize() * altitude.max(5.0) * 0.8 * fast * dt;
        if WGS84.cartographic_from_ecef(candidate).is_some_and(|c| c.height_m > 0.5) {
            cam.position_ecef = candidate;
        }
    }
}

/// A view's own globe camera: the view shows this pose instead of following the main camera (the
/// controls drive the main one; a view without this component is synced to it).
#[derive(Component, Debug, Clone)]
pub struct OwnCamera(pub GeoCamera);

/// Puts each view's Bevy camera where its geo camera is (its own, or the main one), and moves the
/// floating origin when the main camera strays.
pub fn apply(
    cam: Res<GeoCamera>,
    mut origin: ResMut<FloatingOrigin>,
    mut q: Query<(&mut Transform, &mut Projection, Option<&OwnCamera>), With<Camera3d>>,
) {
    if (cam.position_ecef - origin.ecef).length() > REBASE_DISTANCE_M {
        let ground = WGS84
            .cartographic_from_ecef(cam.position_ecef)
            .map(|mut c| {
                c.height_m = 0.0;
                WGS84.ecef_from_cartographic(c)
            })
            .unwrap_or(cam.position_ecef);
        *origin = FloatingOrigin::at(ground);
    }
    for (mut t, mut p, own) in &mut q {
        let cam = own.map_or(&*cam, |o| &o.0);
        let (f, _, u) = cam.basis();
        let (near, far) = cam.clip_planes();
        let eye = origin.point(cam.position_ecef);
        *t = Transform::from_translation(eye).looking_to(origin.vector(f), origin.vector(u));
        if let Projection::Perspective(pp) = p.as_mut() {
            pp.fov = cam.fov_y as f32;
            pp.near = near as f32;
            pp.far = far as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hel() -> GeoCamera {
        GeoCamera::at(&Bookmark {
            lon_deg: 24.95,
            lat_deg: 60.17,
            height_m: 300.0,
            heading_deg: 90.0,
            pitch_deg: -30.0,
        })
    }

    #[test]
    fn basis_is_orthonormal_and_globe_aware() {
        let c = hel();
        let (f, r, u) = c.basis();
        assert!(f.dot(r).abs() < 1e-12 && f.dot(u).abs() < 1e-12 && r.dot(u).abs() < 1e-12);
        let (e, _, local_up) = enu_axes(c.position_ecef);
        assert!((f.dot(e) - 30f64.to_radians().cos()).abs() < 1e-9, "heading 90° looks east");
        assert!(u.dot(local_up) > 0.8, "camera up leans to the local up");
        assert!((c.altitude_m() - 300.0).abs() < 1e-6);
        let (near, far) = c.clip_planes();
        assert!(near <= 0.31 && far > 60_000.0);
    }

    #[test]
    fn orbit_keeps_distance_to_the_pivot_and_flights_arrive() {
        let mut c = hel();
        let pivot = c.ground_hit(c.basis().0, 0.0).unwrap();
        let before = (c.position_ecef - pivot).length();
        c.orbit(pivot, 0.4, 0.1);
        assert!(((c.position_ecef - pivot).length() - before).abs() < 1e-6);
        let target = Bookmark { lon_deg: 114.06, lat_deg: 22.54, height_m: 500.0, heading_deg: 10.0, pitch_deg: -45.0 };
        c.fly_to(&target, 2.0);
        let mut steps = 0;
        while c.advance_flight(0.1) {
            steps += 1;
        }
        assert_eq!(steps, 20);
        let end = WGS84.cartographic_from_ecef(c.position_ecef).unwrap();
        assert!((end.lon_rad.to_degrees() - 114.06).abs() < 1e-9 && (end.height_m - 500.0).abs() < 1e-6);
    }

    #[test]
    fn bookmarks_round_trip_through_their_text() {
        let c = hel();
        let b = c.bookmark().unwrap();
        assert!(
            (b.lon_deg - 24.95).abs() < 1e-9
                && (b.height_m - 300.0).abs() < 1e-6
                && (b.heading_deg - 90.0).abs() < 1e-9
        );
        let back = Bookmark::parse(&b.to_string()).unwrap();
        let again = GeoCamera::at(&back);
        assert!((again.position_ecef - c.position_ecef).length() < 0.01, "within a centimetre");
        assert!((again.heading - c.heading).abs() < 1e-3 && (again.pitch - c.pitch).abs() < 1e-3);
    }

    #[test]
    fn zoom_never_goes_underground() {
        let mut c = hel();
        let ground = c.ground_hit(c.basis().0, 0.0).unwrap();
        for _ in 0..100 {
            c.zoom_towards(ground, 0.9);
        }
        assert!(c.altitude_m() > 0.5);
    }
}
