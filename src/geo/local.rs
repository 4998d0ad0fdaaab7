//! A local east-north-up frame in metres about one geodetic origin: where a city or a site is laid out.

use glam::{DMat4, DVec3};

use super::{Cartographic, WGS84};

/// An east-north-up frame (x east, y north, z up, metres): converts between geodetic and local.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFrame {
    pub origin: Cartographic,
    pub ecef_from_enu: DMat4,
    pub enu_from_ecef: DMat4,
}

impl LocalFrame {
    pub fn new(origin: Cartographic) -> Self {
        let ecef_from_enu = super::ecef_from_enu(WGS84.ecef_from_cartographic(origin));
        Self { origin, ecef_from_enu, enu_from_ecef: ecef_from_enu.inverse() }
    }

    /// Local metres of a geodetic point.
    pub fn to_local(&self, lon_deg: f64, lat_deg: f64, height_m: f64) -> DVec3 {
        let ecef = WGS84.ecef_from_cartographic(Cartographic::from_degrees(lon_deg, lat_deg, height_m));
        self.enu_from_ecef.transform_point3(ecef)
    }

    /// The geodetic point under local `(x, y)`, on the ellipsoid.
    pub fn to_geodetic(&self, x_m: f64, y_m: f64) -> Cartographic {
        let ecef = self.ecef_from_enu.transform_point3(DVec3::new(x_m, y_m, 0.0));
        let mut c = WGS84.cartographic_from_ecef(ecef).unwrap_or(self.origin);
        c.height_m = 0.0;
        c
    }

    /// Local up-coordinate of the ellipsoid surface under `(x, y)`: the Earth curving away.
    pub fn surface_z(&self, x_m: f64, y_m: f64) -> f64 {
        let ground = WGS84.ecef_from_cartographic(self.to_geodetic(x_m, y_m));
        self.enu_from_ecef.transform_point3(ground).z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_frame_round_trips_and_curves() {
        let f = LocalFrame::new(Cartographic::from_degrees(24.94, 60.17, 0.0));
        let p = f.to_local(24.95, 60.18, 0.0);
        let back = f.to_geodetic(p.x, p.y);
        assert!((back.lon_rad.to_degrees() - 24.95).abs() < 1e-6 && (back.lat_rad.to_degrees() - 60.18).abs() < 1e-6);
        // 10 km out, the ground is about 7.8 m below the tangent plane.
        let z = f.surface_z(10_000.0, 0.0);
        assert!((z + 7.85).abs() < 0.1, "{z}");
        assert!(f.surface_z(0.0, 0.0).abs() < 1e-6);
    }
}
