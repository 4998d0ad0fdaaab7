//! The floating origin: everything is held in f64 ECEF, and render transforms are f32 relative
//! to an origin near the camera, in east-north-up axes turned to Bevy's y-up (x east, y up, z south).

use bevy::prelude::*;
use glam::{DMat4, DVec3};

use crate::geo::ecef_from_enu;

/// Where the render world's (0, 0, 0) is on Earth, and how ECEF maps into it.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct FloatingOrigin {
    pub ecef: DVec3,
    pub world_from_ecef: DMat4,
}

/// East-north-up (z up) to Bevy's y-up: x → x, z → y, y → −z.
const BEVY_FROM_ENU: DMat4 =
    DMat4::from_cols_array(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);

/// Move the origin once the camera is this far from it.
pub const REBASE_DISTANCE_M: f64 = 2_000.0;

impl FloatingOrigin {
    pub fn at(ecef: DVec3) -> Self {
        let world_from_ecef = BEVY_FROM_ENU * ecef_from_enu(ecef).inverse();
        Self { ecef, world_from_ecef }
    }

    /// The f32 render transform of something placed by `ecef_from_local`.
    pub fn transform(&self, ecef_from_local: &DMat4) -> Transform {
        Transform::from_matrix(self.matrix(ecef_from_local))
    }

    pub fn matrix(&self, ecef_from_local: &DMat4) -> Mat4 {
        (self.world_from_ecef * *ecef_from_local).as_mat4()
    }

    pub fn point(&self, ecef: DVec3) -> Vec3 {
        self.world_from_ecef.transform_point3(ecef).as_vec3()
    }

    pub fn vector(&self, ecef: DVec3) -> Vec3 {
        self.world_from_ecef.transform_vector3(ecef).as_vec3()
    }
}

/// Places an entity in ECEF; its `Transform` follows the floating origin.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform(pub DMat4);

/// Rewrites render transforms of entities whose placement or the origin changed.
pub fn sync_transforms(origin: Res<FloatingOrigin>, mut q: Query<(Ref<GeoTransform>, &mut Transform)>) {
    let all = origin.is_changed();
    for (geo, mut t) in &mut q {
        if all || geo.is_changed() {
            *t = origin.transform(&geo.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{Cartographic, WGS84};

    #[test]
    fn street_level_precision_anywhere_on_earth() {
        for (lon, lat) in
            [(24.95, 60.17), (114.06, 22.54), (-75.6, 40.04), (151.2, -33.87), (0.0, 89.9), (-179.99, 0.01)]
        {
            let ground = WGS84.ecef_from_cartographic(Cartographic::from_degrees(lon, lat, 0.0));
            let origin = FloatingOrigin::at(ground);
            // A point 1.5 m up and 0.7 mm east of the origin keeps sub-millimetre precision in f32.
            let (e, _, u) = crate::geo::enu_axes(ground);
            let p = ground + u * 1.5 + e * 0.0007;
            let w = origin.point(p);
            assert!((w - Vec3::new(0.0007, 1.5, 0.0)).length() < 1e-5, "{lon},{lat}: {w}");
            let back = origin.world_from_ecef.inverse().transform_point3(w.as_dvec3());
            assert!((back - p).length() < 1e-4);
            // Up is +Y, north is −Z.
            let n = crate::geo::enu_axes(ground).1;
            assert!((origin.vector(u) - Vec3::Y).length() < 1e-6 && (origin.vector(n) + Vec3::Z).length() < 1e-6);
        }
    }

    #[test]
    fn transforms_compose_in_f64_before_narrowing() {
        let ground = WGS84.ecef_from_cartographic(Cartographic::from_degrees(114.06, 22.54, 0.0));
        let origin = FloatingOrigin::at(ground);
        // A tile placed by an ECEF transform 5 m from the origin: its vertex at local (1, 0, 0).
        let ecef_from_tile = crate::geo::ecef_from_enu(ground) * DMat4::from_translation(DVec3::new(5.0, 0.0, 0.0));
        let t = origin.transform(&ecef_from_tile);
        assert!((t.transform_point(Vec3::X) - Vec3::new(6.0, 0.0, 0.0)).length() < 1e-5);
    }

    /// The f32 error of a point `d` metres from the origin is at most half a unit in the last place
    /// of `d`: 0.06 µm at 1 m, 7.6 µm at 100 m, 61 µm at 1 km, 122 µm at the 2 km rebase radius.
    #[test]
    fn precision_falls_with_distance_from_the_origin_as_f32_allows() {
        let ground = WGS84.ecef_from_cartographic(Cartographic::from_degrees(114.06, 22.54, 0.0));
        let origin = FloatingOrigin::at(ground);
        let (e, n, u) = crate::geo::enu_axes(ground);
        for d in [1.0, 100.0, 1_000.0, REBASE_DISTANCE_M] {
            let mut worst = 0.0f64;
            for k in 0..200 {
                // Points at distance d in many directions, with sub-millimetre offsets.
                let a = k as f64 * 0.7;
                let dir = (e * a.cos() + n * a.sin() + u * 0.1 * (k % 7) as f64).normalize();
                let p = ground + dir * d + e * (k as f64 * 1.37e-5);
                let exact = origin.world_from_ecef.transform_point3(p);
                worst = worst.max((origin.point(p).as_dvec3() - exact).length());
            }
            let half_ulp = (d as f32).next_up() as f64 - d; // one f32 step at d; half is the rounding
            assert!(worst <= half_ulp, "at {d} m: {:.1} µm, f32 allows {:.1}", worst * 1e6, half_ulp * 1e6);
            if d <= 100.0 {
                assert!(worst < 10e-6, "at {d} m: {:.1} µm", worst * 1e6);
            }
        }
    }

    #[test]
    fn rebasing_follows_the_camera_and_restores_precision_near_it() {
        use crate::viewer::GeoCamera;
        let ground = WGS84.ecef_from_cartographic(Cartographic::from_degrees(114.06, 22.54, 0.0));
        let (e, n, u) = crate::geo::enu_axes(ground);
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .insert_resource(FloatingOrigin::at(ground))
            .insert_resource(GeoCamera::looking_at(ground, 100.0))
            .add_systems(Update, (crate::viewer::camera::apply, sync_transforms).chain());
        app.world_mut().spawn((Camera3d::default(), Transform::default(), Projection::default()));
        // A marker about 5 km away, off any round number: far beyond the rebase radius of the first origin.
        let marker_ecef = ground + e * 4_987.654_321 + n * 1_234.567_891 + u * 1.5;
        let marker =
            app.world_mut().spawn((GeoTransform(DMat4::from_translation(marker_ecef)), Transform::default())).id();
        app.update();
        assert_eq!(app.world().resource::<FloatingOrigin>().ecef, ground, "the camera is near the first origin");
        let error_at = |app: &App| {
            let origin = app.world().resource::<FloatingOrigin>();
            let t = app.world().get::<Transform>(marker).unwrap().translation.as_dvec3();
            (t - origin.world_from_ecef.transform_point3(marker_ecef)).length()
        };
        let before = error_at(&app);
        // The camera flies to the marker: the origin moves under it and the marker is re-placed.
        app.world_mut().resource_mut::<GeoCamera>().position_ecef = marker_ecef + u * 40.0;
        app.update();
        let origin = *app.world().resource::<FloatingOrigin>();
        assert!((origin.ecef - marker_ecef).length() < 50.0, "rebased to the ground under the camera");
        let after = error_at(&app);
        assert!(after < 10e-6, "near the new origin: {:.2} µm (it was {:.1} µm)", after * 1e6, before * 1e6);
        assert!(before > after, "5 km away the error was larger: {:.1} µm", before * 1e6);
    }
}
