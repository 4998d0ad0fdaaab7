//! East-north-up local frames on the ellipsoid.

use glam::{DMat4, DVec3};

use super::{Ellipsoid, WGS84};

/// East, north and up unit vectors (in ECEF) at an ECEF point on or near the WGS84 surface.
/// At the poles east is +Y and north points away from the axis, as CesiumJS does.
pub fn enu_axes(origin_ecef: DVec3) -> (DVec3, DVec3, DVec3) {
    let up = geodetic_surface_normal(&WGS84, origin_ecef);
    let east = DVec3::new(-origin_ecef.y, origin_ecef.x, 0.0);
    let east = if east.length_squared() < 1e-12 { DVec3::Y } else { east.normalize() };
    let north = up.cross(east);
    (east, north, up)
}

/// `ecef_from_enu`: maps local east-north-up metres at `origin_ecef` into ECEF.
pub fn ecef_from_enu(origin_ecef: DVec3) -> DMat4 {
    let (e, n, u) = enu_axes(origin_ecef);
    DMat4::from_cols(e.extend(0.0), n.extend(0.0), u.extend(0.0), origin_ecef.extend(1.0))
}

fn geodetic_surface_normal(ellipsoid: &Ellipsoid, p: DVec3) -> DVec3 {
    let inv_a2 = 1.0 / (ellipsoid.a_m * ellipsoid.a_m);
    let inv_b2 = 1.0 / (ellipsoid.b_m * ellipsoid.b_m);
    let n = DVec3::new(p.x * inv_a2, p.y * inv_a2, p.z * inv_b2);
    if n.length_squared() == 0.0 { DVec3::Z } else { n.normalize() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Cartographic;

    #[test]
    fn enu_on_equator_at_prime_meridian() {
        let o = WGS84.ecef_from_cartographic(Cartographic::from_degrees(0.0, 0.0, 0.0));
        let (e, n, u) = enu_axes(o);
        assert!((e - DVec3::Y).length() < 1e-12);
        assert!((n - DVec3::Z).length() < 1e-12);
        assert!((u - DVec3::X).length() < 1e-12);
    }

    #[test]
    fn enu_is_orthonormal_and_right_handed_and_up_is_geodetic() {
        for (lon, lat) in [(24.95, 60.17), (-75.6, 40.04), (151.2, -33.9), (0.0, 89.999)] {
            let c = Cartographic::from_degrees(lon, lat, 0.0);
            let o = WGS84.ecef_from_cartographic(c);
            let (e, n, u) = enu_axes(o);
            assert!(e.dot(n).abs() < 1e-12 && e.dot(u).abs() < 1e-12 && n.dot(u).abs() < 1e-12);
            assert!((e.cross(n) - u).length() < 1e-12);
            let normal = WGS84.geodetic_normal(c.lon_rad, c.lat_rad);
            assert!((u - normal).length() < 1e-9, "up must be the geodetic normal");
        }
    }

    #[test]
    fn ecef_from_enu_maps_local_up_to_height() {
        let c = Cartographic::from_degrees(24.95, 60.17, 0.0);
        let o = WGS84.ecef_from_cartographic(c);
        let m = ecef_from_enu(o);
        let p = m.transform_point3(DVec3::new(0.0, 0.0, 100.0));
        let back = WGS84.cartographic_from_ecef(p).unwrap();
        assert!((back.height_m - 100.0).abs() < 1e-6);
    }
}
