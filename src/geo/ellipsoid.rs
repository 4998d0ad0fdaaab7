//! A reference ellipsoid and exact conversions between geodetic coordinates and ECEF (metres).

use glam::DVec3;

/// Geodetic position: longitude and latitude in radians, height above the ellipsoid in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cartographic {
    pub lon_rad: f64,
    pub lat_rad: f64,
    pub height_m: f64,
}

impl Cartographic {
    pub fn from_degrees(lon_deg: f64, lat_deg: f64, height_m: f64) -> Self {
        Self { lon_rad: lon_deg.to_radians(), lat_rad: lat_deg.to_radians(), height_m }
    }
}

/// An oblate ellipsoid of revolution about the ECEF Z axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipsoid {
    /// Semi-major (equatorial) axis in metres.
    pub a_m: f64,
    /// Semi-minor (polar) axis in metres.
    pub b_m: f64,
}

/// The WGS84 ellipsoid used by 3D Tiles (EPSG:4978 / EPSG:4979).
pub const WGS84: Ellipsoid = Ellipsoid { a_m: 6_378_137.0, b_m: 6_356_752.314_245_179 };

impl Ellipsoid {
    /// First eccentricity squared.
    pub fn e2(&self) -> f64 {
        1.0 - (self.b_m * self.b_m) / (self.a_m * self.a_m)
    }

    /// Unit normal of the ellipsoid surface at a geodetic longitude/latitude.
    pub fn geodetic_normal(&self, lon_rad: f64, lat_rad: f64) -> DVec3 {
        let (sin_lat, cos_lat) = lat_rad.sin_cos();
        let (sin_lon, cos_lon) = lon_rad.sin_cos();
        DVec3::new(cos_lat * cos_lon, cos_lat * sin_lon, sin_lat)
    }

    /// Geodetic → ECEF, exact.
    pub fn ecef_from_cartographic(&self, c: Cartographic) -> DVec3 {
        let e2 = self.e2();
        let sin_lat = c.lat_rad.sin();
        let n = self.a_m / (1.0 - e2 * sin_lat * sin_lat).sqrt();
        let normal = self.geodetic_normal(c.lon_rad, c.lat_rad);
        DVec3::new((n + c.height_m) * normal.x, (n + c.height_m) * normal.y, (n * (1.0 - e2) + c.height_m) * normal.z)
    }

    /// ECEF → geodetic, by Heikkinen's closed form (sub-millimetre everywhere outside the
    /// Earth's centre). Returns `None` within 1 km of the centre, where latitude is undefined.
    pub fn cartographic_from_ecef(&self, p: DVec3) -> Option<Cartographic> {
        let (a, b) = (self.a_m, self.b_m);
        let e2 = self.e2();
        let ep2 = (a * a - b * b) / (b * b);
        let r = (p.x * p.x + p.y * p.y).sqrt();
        if p.length() < 1_000.0 {
            return None;
        }
        let lon_rad = p.y.atan2(p.x);
        if r < 1e-9 {
            // On the polar axis.
            let lat_rad = if p.z >= 0.0 { 90f64 } else { -90f64 }.to_radians();
            return Some(Cartographic { lon_rad: 0.0, lat_rad, height_m: p.z.abs() - b });
        }
        let f2 = 54.0 * b * b * p.z * p.z;
        let g = r * r + (1.0 - e2) * p.z * p.z - e2 * (a * a - b * b);
        let c = e2 * e2 * f2 * r * r / (g * g * g);
        let s = (1.0 + c + (c * c + 2.0 * c).sqrt()).cbrt();
        let pp = f2 / (3.0 * (s + 1.0 / s + 1.0).powi(2) * g * g);
        let q = (1.0 + 2.0 * e2 * e2 * pp).sqrt();
        let r0 = -(pp * e2 * r) / (1.0 + q)
            + (0.5 * a * a * (1.0 + 1.0 / q) - pp * (1.0 - e2) * p.z * p.z / (q * (1.0 + q)) - 0.5 * pp * r * r)
                .max(0.0)
                .sqrt();
        let u = ((r - e2 * r0).powi(2) + p.z * p.z).sqrt();
        let v = ((r - e2 * r0).powi(2) + (1.0 - e2) * p.z * p.z).sqrt();
        let z0 = b * b * p.z / (a * v);
        let height_m = u * (1.0 - b * b / (a * v));
        let lat_rad = ((p.z + ep2 * z0) / r).atan();
        Some(Cartographic { lon_rad, lat_rad, height_m })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: DVec3, b: DVec3, tol_m: f64) -> bool {
        (a - b).length() <= tol_m
    }

    #[test]
    fn known_points_to_ecef() {
        // Equator / prime meridian.
        let p = WGS84.ecef_from_cartographic(Cartographic::from_degrees(0.0, 0.0, 0.0));
        assert!(close(p, DVec3::new(6_378_137.0, 0.0, 0.0), 1e-6));
        // North pole.
        let p = WGS84.ecef_from_cartographic(Cartographic::from_degrees(0.0, 90.0, 0.0));
        assert!(close(p, DVec3::new(0.0, 0.0, 6_356_752.314_245_179), 1e-6));
        // Equator at 90°E, 1000 m up.
        let p = WGS84.ecef_from_cartographic(Cartographic::from_degrees(90.0, 0.0, 1000.0));
        assert!(close(p, DVec3::new(0.0, 6_379_137.0, 0.0), 1e-6));
        // References computed with PROJ 9 (pyproj, EPSG:4979 → EPSG:4978).
        // Helsinki cathedral, 60.1704 N 24.9522 E.
        let p = WGS84.ecef_from_cartographic(Cartographic::from_degrees(24.9522, 60.1704, 0.0));
        assert!(close(p, DVec3::new(2_883_767.457_113, 1_341_795.023_612, 5_509_945.121_271), 1e-3), "{p}");
        // Exton, Pennsylvania (the Cesium sample city), 40.03883 N 75.59777 W.
        let p = WGS84.ecef_from_cartographic(Cartographic::from_degrees(-75.59777, 40.03883, 0.0));
        assert!(close(p, DVec3::new(1_216_261.750_765, -4_736_261.471_468, 4_081_287.425_250), 1e-3), "{p}");
    }

    #[test]
    fn round_trip_everywhere() {
        for lat in (-90..=90).step_by(5) {
            for lon in (-180..180).step_by(15) {
                for h in [-400.0, 0.0, 123.456, 8_848.0, 35_786_000.0] {
                    let c = Cartographic::from_degrees(lon as f64, lat as f64, h);
                    let p = WGS84.ecef_from_cartographic(c);
                    let back = WGS84.cartographic_from_ecef(p).expect("away from the centre");
                    let again = WGS84.ecef_from_cartographic(back);
                    assert!(close(p, again, 1e-4), "lat {lat} lon {lon} h {h}: {p} vs {again}");
                    assert!((back.height_m - h).abs() < 1e-4, "height {h} vs {}", back.height_m);
                    assert!((back.lat_rad - c.lat_rad).abs() < 1e-10);
                }
            }
        }
    }

    #[test]
    fn centre_of_earth_has_no_latitude() {
        assert!(WGS84.cartographic_from_ecef(DVec3::ZERO).is_none());
    }
}
