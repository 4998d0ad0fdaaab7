//! Measuring between two picked points: the straight distance, the height difference (along the
//! vertical at the first point) and the horizontal distance, in metres.

use glam::DVec3;

use crate::geo::enu_axes;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    pub distance_m: f64,
    /// The second point above the first (negative: below).
    pub height_m: f64,
    pub horizontal_m: f64,
}

/// The measurement from `a` to `b` (ECEF).
pub fn measure(a: DVec3, b: DVec3) -> Measurement {
    let (_, _, up) = enu_axes(a);
    let d = b - a;
    let height_m = d.dot(up);
    Measurement { distance_m: d.length(), height_m, horizontal_m: (d - up * height_m).length() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::{Cartographic, LocalFrame};

    #[test]
    fn distance_height_and_run_between_two_points() {
        let frame = LocalFrame::new(Cartographic::from_degrees(114.05, 22.54, 10.0));
        let at = |e: f64, n: f64, u: f64| frame.ecef_from_enu.transform_point3(DVec3::new(e, n, u));
        // A door sill to a window head: 3 m east, 4 m north, 2.5 m up.
        let m = measure(at(0.0, 0.0, 0.0), at(3.0, 4.0, 2.5));
        assert!((m.horizontal_m - 5.0).abs() < 1e-6 && (m.height_m - 2.5).abs() < 1e-6, "{m:?}");
        assert!((m.distance_m - (25.0f64 + 6.25).sqrt()).abs() < 1e-6);
        assert!((measure(at(0.0, 0.0, 6.0), at(0.0, 0.0, 1.0)).height_m + 5.0).abs() < 1e-6);
    }
}
