//! Planning scenarios, engine-free: a site and its design variants in the site's own local frame,
//! the figures they are compared by, where the sun stands, and the sun a variant takes away.

pub mod massing;
pub mod metrics;
pub mod solid;
pub mod study;
pub mod sun;
pub mod sun_hours;

use glam::DVec3;

use crate::geo::{Cartographic, LocalFrame, ring_area_m2, ring_contains};
use crate::protocol::catalog::Massing;
use massing::{MAX_FOOTPRINT_VERTICES, MassingError, massing_prisms};
use solid::Prism;

/// A planning site: its outline in metres in an east-north-up frame at its centre.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub frame: LocalFrame,
    /// Counter-clockwise, not closed.
    pub outline_m: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SiteError {
    #[error("a site needs 3 to {MAX_FOOTPRINT_VERTICES} points of valid longitude and latitude enclosing an area")]
    Outline,
}

impl Site {
    /// The site of a catalog outline (`[lon_deg, lat_deg]`, either orientation).
    pub fn new(outline_deg: &[[f64; 2]]) -> Result<Self, SiteError> {
        let valid = |p: &[f64; 2]| p[0].is_finite() && p[1].is_finite() && p[0].abs() <= 180.0 && p[1].abs() < 90.0;
        if !(3..=MAX_FOOTPRINT_VERTICES).contains(&outline_deg.len()) || !outline_deg.iter().all(valid) {
            return Err(SiteError::Outline);
        }
        let n = outline_deg.len() as f64;
        let lon = outline_deg.iter().map(|p| p[0]).sum::<f64>() / n;
        let lat = outline_deg.iter().map(|p| p[1]).sum::<f64>() / n;
        let frame = LocalFrame::new(Cartographic::from_degrees(lon, lat, 0.0));
        let mut outline_m: Vec<[f64; 2]> = outline_deg.iter().map(|p| local_xy(&frame, *p)).collect();
        let area = ring_area_m2(&outline_m);
        if area.abs() < 1.0 {
            return Err(SiteError::Outline);
        }
        if area < 0.0 {
            outline_m.reverse();
        }
        Ok(Self { frame, outline_m })
    }

    pub fn area_m2(&self) -> f64 {
        ring_area_m2(&self.outline_m)
    }

    /// True when a building whose bounds (site metres) are `min`..`max` stands on the site: the
    /// centre of its footprint is inside the outline. Such buildings make way for every variant.
    pub fn holds(&self, (min, max): (DVec3, DVec3)) -> bool {
        let c = (min + max) / 2.0;
        ring_contains(&self.outline_m, [c.x, c.y])
    }

    /// Local metres of a catalog point.
    pub fn local(&self, lon_lat_deg: [f64; 2]) -> [f64; 2] {
        local_xy(&self.frame, lon_lat_deg)
    }

    /// A massing variant's prisms in the site's frame.
    pub fn massing(&self, m: &Massing) -> Result<Vec<Prism>, MassingError> {
        let mut footprint: Vec<[f64; 2]> = m.footprint.iter().map(|p| self.local(*p)).collect();
        if footprint.iter().flatten().all(|v| v.is_finite()) && ring_area_m2(&footprint) < 0.0 {
            footprint.reverse();
        }
        massing_prisms(&footprint, m.floors, m.floor_height_m, &m.setbacks)
    }
}

fn local_xy(frame: &LocalFrame, [lon, lat]: [f64; 2]) -> [f64; 2] {
    let p = frame.to_local(lon, lat, 0.0);
    [p.x, p.y]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rectangle of about `w × h` metres, in degrees (the usual series for metres per degree).
    fn rect_deg(lon: f64, lat: f64, w: f64, h: f64) -> Vec<[f64; 2]> {
        let phi = lat.to_radians();
        let m_per_deg_lat = 111_132.954 - 559.822 * (2.0 * phi).cos() + 1.175 * (4.0 * phi).cos();
        let m_per_deg_lon = 111_412.84 * phi.cos() - 93.5 * (3.0 * phi).cos() + 0.118 * (5.0 * phi).cos();
        let (dx, dy) = (w / m_per_deg_lon, h / m_per_deg_lat);
        vec![[lon, lat], [lon + dx, lat], [lon + dx, lat + dy], [lon, lat + dy]]
    }

    #[test]
    fn a_site_in_degrees_becomes_metres() {
        let site = Site::new(&rect_deg(114.06, 22.54, 100.0, 80.0)).unwrap();
        assert!((site.area_m2() - 8000.0).abs() < 2.0, "{}", site.area_m2());
        let on_site = |p| crate::geo::ring_contains(&site.outline_m, p);
        assert!(on_site([0.0, 0.0]), "the frame sits at the site's centre");
        assert!(!on_site([60.0, 0.0]));
        // A building stands on the site by the centre of its footprint: one reaching in from
        // outside does not, one overhanging its edge does.
        let bounds = |x0: f64, x1: f64| (DVec3::new(x0, -5.0, 0.0), DVec3::new(x1, 5.0, 30.0));
        assert!(site.holds(bounds(40.0, 55.0)), "centre 47.5 m east, inside the 50 m half-width");
        assert!(!site.holds(bounds(45.0, 70.0)), "centre 57.5 m east");
        // Clockwise input is turned round.
        let mut cw = rect_deg(114.06, 22.54, 100.0, 80.0);
        cw.reverse();
        assert!(Site::new(&cw).unwrap().area_m2() > 0.0);
    }

    #[test]
    fn bad_sites_are_errors() {
        assert_eq!(Site::new(&[[0.0, 0.0], [1.0, 0.0]]).unwrap_err(), SiteError::Outline);
        assert!(Site::new(&[[0.0, 0.0], [f64::NAN, 0.0], [0.0, 1.0]]).is_err());
        assert!(Site::new(&[[0.0, 0.0], [0.0, 95.0], [1.0, 1.0]]).is_err());
        assert!(Site::new(&[[0.0, 0.0], [1e-9, 0.0], [0.0, 1e-9]]).is_err(), "no area");
    }

    #[test]
    fn a_massing_in_degrees_is_measured_in_metres() {
        let site = Site::new(&rect_deg(114.06, 22.54, 100.0, 80.0)).unwrap();
        let m = Massing {
            footprint: rect_deg(114.0602, 22.5402, 40.0, 30.0),
            floors: 10,
            floor_height_m: 3.0,
            setbacks: Vec::new(),
            usage: "office".into(),
        };
        let prisms = site.massing(&m).unwrap();
        let metrics = metrics::variant_metrics(&prisms, &site.outline_m, 3.0);
        assert!((metrics.footprint_m2 - 1200.0).abs() < 1.0, "{metrics:?}");
        assert!((metrics.plot_ratio - 12_000.0 / 8000.0).abs() < 0.01, "{metrics:?}");
        assert_eq!(metrics.height_m, 30.0);
    }
}
