//! Where the sun stands: NOAA's solar-position algorithm (after Meeus), within about 0.01° of NREL's
//! SPA for 1900–2100, and the day's sunrise and sunset from it.

use std::f64::consts::TAU;

use glam::DVec3;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The sun seen from one place at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SunPosition {
    /// Clockwise from true north, in [0, 360).
    pub azimuth_deg: f64,
    /// Above the horizon, without atmospheric refraction (the geometric direction shadows follow).
    pub true_elevation_deg: f64,
    /// Above the horizon as seen through the standard atmosphere (what published tables list).
    pub apparent_elevation_deg: f64,
}

impl SunPosition {
    /// Unit vector towards the sun in local east-north-up (x east, y north, z up), geometric.
    pub fn enu_direction(&self) -> DVec3 {
        let (az, el) = (self.azimuth_deg.to_radians(), self.true_elevation_deg.to_radians());
        DVec3::new(el.cos() * az.sin(), el.cos() * az.cos(), el.sin())
    }

    /// Apparent zenith angle in degrees (90° − apparent elevation).
    pub fn apparent_zenith_deg(&self) -> f64 {
        90.0 - self.apparent_elevation_deg
    }
}

/// The sun's position at `instant` for an observer at `lon_deg` (east positive), `lat_deg`.
pub fn sun_position(instant: OffsetDateTime, lon_deg: f64, lat_deg: f64) -> SunPosition {
    let unix_s = instant.unix_timestamp_nanos() as f64 * 1e-9;
    let julian_day = unix_s / 86400.0 + 2440587.5;
    let t = (julian_day - 2451545.0) / 36525.0; // Julian centuries since J2000.0

    let mean_longitude_deg = (280.46646 + t * (36000.76983 + t * 0.0003032)).rem_euclid(360.0);
    let mean_anomaly_deg = 357.52911 + t * (35999.05029 - 0.0001537 * t);
    let eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
    let m = mean_anomaly_deg.to_radians();
    let centre_deg = m.sin() * (1.914602 - t * (0.004817 + 0.000014 * t))
        + (2.0 * m).sin() * (0.019993 - 0.000101 * t)
        + (3.0 * m).sin() * 0.000289;
    let omega = (125.04 - 1934.136 * t).to_radians();
    let apparent_longitude = (mean_longitude_deg + centre_deg - 0.00569 - 0.00478 * omega.sin()).to_radians();
    let mean_obliquity_deg = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0;
    let obliquity = (mean_obliquity_deg + 0.00256 * omega.cos()).to_radians();
    let declination = (obliquity.sin() * apparent_longitude.sin()).asin();

    let y = (obliquity / 2.0).tan().powi(2);
    let l0 = mean_longitude_deg.to_radians();
    let equation_of_time_min = 4.0
        * (y * (2.0 * l0).sin() - 2.0 * eccentricity * m.sin() + 4.0 * eccentricity * y * m.sin() * (2.0 * l0).cos()
            - 0.5 * y * y * (4.0 * l0).sin()
            - 1.25 * eccentricity * eccentricity * (2.0 * m).sin())
        .to_degrees();

    let utc_minutes = unix_s.rem_euclid(86400.0) / 60.0;
    let true_solar_time_min = (utc_minutes + equation_of_time_min + 4.0 * lon_deg).rem_euclid(1440.0);
    let hour_angle = (true_solar_time_min / 4.0 - 180.0).to_radians();

    let lat = lat_deg.to_radians();
    let cos_zenith =
        (lat.sin() * declination.sin() + lat.cos() * declination.cos() * hour_angle.cos()).clamp(-1.0, 1.0);
    let zenith = cos_zenith.acos();
    // Azimuth from north, clockwise: atan2 of the east and north components of the sun's direction.
    let east = -declination.cos() * hour_angle.sin();
    let north = declination.sin() * lat.cos() - declination.cos() * lat.sin() * hour_angle.cos();
    let azimuth_deg = east.atan2(north).rem_euclid(TAU).to_degrees();
    let true_elevation_deg = 90.0 - zenith.to_degrees();
    SunPosition {
        azimuth_deg: if azimuth_deg >= 360.0 { 0.0 } else { azimuth_deg },
        true_elevation_deg,
        apparent_elevation_deg: true_elevation_deg + refraction_deg(true_elevation_deg),
    }
}

/// Atmospheric refraction near the horizon and above (NOAA's piecewise fit), in degrees.
fn refraction_deg(elevation_deg: f64) -> f64 {
    let e = elevation_deg;
    let arcsec = if e > 85.0 {
        0.0
    } else if e > 5.0 {
        let t = e.to_radians().tan();
        58.1 / t - 0.07 / t.powi(3) + 0.000086 / t.powi(5)
    } else if e > -0.575 {
        1735.0 + e * (-518.2 + e * (103.4 + e * (-12.79 + e * 0.711)))
    } else {
        -20.772 / e.to_radians().tan()
    };
    arcsec / 3600.0
}

/// The sun's geometric elevation at sunrise and sunset: its upper limb on the horizon through the
/// standard atmosphere (34′ refraction + 16′ semi-diameter).
pub const HORIZON_ELEVATION_DEG: f64 = -0.833;

/// Sunrise and sunset of the solar day around local noon of `date` (UTC instants), or `None` in
/// polar day or night. Found by bisection to within a second.
pub fn sunrise_sunset(date: Date, lon_deg: f64, lat_deg: f64) -> Option<(OffsetDateTime, OffsetDateTime)> {
    // Local mean noon: 12:00 at the meridian, shifted by longitude.
    let noon = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_offset(UtcOffset::UTC) + Duration::hours(12)
        - Duration::seconds_f64(lon_deg / 15.0 * 3600.0);
    let above = |t: OffsetDateTime| sun_position(t, lon_deg, lat_deg).true_elevation_deg - HORIZON_ELEVATION_DEG;
    // Solar noon within ±30 min of mean noon (the equation of time is under 17 min).
    let culmination = (0..=60)
        .map(|k| noon + Duration::minutes(k - 30))
        .max_by(|a, b| above(*a).total_cmp(&above(*b)))
        .expect("non-empty");
    if above(culmination) <= 0.0 {
        return None;
    }
    let half_day = Duration::hours(12);
    let rise = crossing(culmination - half_day, culmination, &above)?;
    let set = crossing(culmination + half_day, culmination, &above)?;
    Some((rise, set))
}

/// Bisects for where `f` changes sign between `below` (f ≤ 0) and `above` (f > 0).
fn crossing(
    mut below: OffsetDateTime,
    mut above: OffsetDateTime,
    f: &impl Fn(OffsetDateTime) -> f64,
) -> Option<OffsetDateTime> {
    if f(below) > 0.0 {
        return None;
    }
    while (above - below).abs() > Duration::SECOND {
        let mid = below + (above - below) / 2;
        if f(mid) > 0.0 { above = mid } else { below = mid }
    }
    Some(above)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    /// NREL's SPA report (Reda & Andreas 2004, table A5.1): Golden, Colorado, 17 October 2003,
    /// 12:30:30 at UTC−7: topocentric zenith 50.11162° (refracted), azimuth 194.34024°;
    /// sunrise 06:12:43 local time.
    const GOLDEN: (f64, f64) = (-105.1786, 39.742476);

    #[test]
    fn matches_the_spa_report_to_a_tenth_of_a_degree() {
        let sun = sun_position(datetime!(2003-10-17 12:30:30 -7), GOLDEN.0, GOLDEN.1);
        assert!((sun.apparent_zenith_deg() - 50.11162).abs() < 0.1, "{sun:?}");
        assert!((sun.azimuth_deg - 194.34024).abs() < 0.1, "{sun:?}");
        // Tighter than the issue asks: NOAA agrees with SPA to about a hundredth here.
        assert!((sun.apparent_zenith_deg() - 50.11162).abs() < 0.02, "{sun:?}");
        assert!((sun.azimuth_deg - 194.34024).abs() < 0.02, "{sun:?}");
    }

    #[test]
    fn sunrise_and_sunset_match_published_and_independent_values() {
        let (rise, set) = sunrise_sunset(time::macros::date!(2003 - 10 - 17), GOLDEN.0, GOLDEN.1).unwrap();
        // The SPA report's sunrise.
        assert!((rise - datetime!(2003-10-17 06:12:43 -7)).abs() < Duration::seconds(10), "{rise}");
        // Its sunset (17:20:19) puts the sun's centre 1.11° below the horizon, not the 0.833° of the
        // definition it states; PyEphem (VSOP87), centre at −0°50′ without refraction: 17:18:51.
        assert!((set - datetime!(2003-10-17 17:18:51 -7)).abs() < Duration::seconds(10), "{set}");
    }

    #[test]
    fn solstices_equinox_and_the_polar_night() {
        // June solstice at the Tropic of Cancer's noon: the sun at the zenith (within the tropic's drift).
        let noon = sun_position(datetime!(2024-06-20 12:01:30 UTC), 0.0, 23.44);
        assert!(noon.true_elevation_deg > 89.5, "{noon:?}");
        // March equinox, Greenwich noon, 51.48° N: the sun at 90° − latitude, due south.
        let london = sun_position(datetime!(2024-03-20 12:07 UTC), 0.0, 51.48);
        assert!((london.true_elevation_deg - (90.0 - 51.48)).abs() < 0.5, "{london:?}");
        assert!((london.azimuth_deg - 180.0).abs() < 1.0, "{london:?}");
        // Morning sun is east of the meridian, evening sun west, in either hemisphere.
        for lat in [40.0, -33.9] {
            assert!(sun_position(datetime!(2024-03-20 08:00 UTC), 0.0, lat).azimuth_deg < 180.0);
            assert!(sun_position(datetime!(2024-03-20 16:00 UTC), 0.0, lat).azimuth_deg > 180.0);
        }
        // Tromsø in December: polar night; in June: midnight sun.
        assert!(sunrise_sunset(time::macros::date!(2024 - 12 - 21), 18.96, 69.65).is_none());
        assert!(sunrise_sunset(time::macros::date!(2024 - 06 - 21), 18.96, 69.65).is_none());
    }

    #[test]
    fn the_direction_points_at_the_sun() {
        let sun = SunPosition { azimuth_deg: 90.0, true_elevation_deg: 30.0, apparent_elevation_deg: 30.03 };
        let d = sun.enu_direction();
        assert!((d - DVec3::new(30f64.to_radians().cos(), 0.0, 0.5)).length() < 1e-12, "{d}");
        let south = SunPosition { azimuth_deg: 180.0, true_elevation_deg: 0.0, apparent_elevation_deg: 0.5 };
        assert!((south.enu_direction() - DVec3::NEG_Y).length() < 1e-12);
    }
}
