//! The figures planners compare variants by: height, footprint, floor area, volume, plot ratio
//! and site coverage against the site.

use super::solid::Prism;
use crate::geo::ring_area_m2;

/// One variant's figures. Ratios are against the site's area.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VariantMetrics {
    pub height_m: f64,
    /// Ground covered: the outlines of the prisms standing on the ground.
    pub footprint_m2: f64,
    /// Gross floor area: every storey's plate.
    pub gross_floor_area_m2: f64,
    pub volume_m3: f64,
    /// Floor area ratio (容积率): gross floor area ÷ site area.
    pub plot_ratio: f64,
    /// Building coverage (建筑密度): footprint ÷ site area.
    pub site_coverage: f64,
}

/// Prisms touching the ground within this of z = 0 count towards the footprint.
const GROUND_TOLERANCE_M: f64 = 0.05;

/// Figures for a variant's prisms on a site (local metres). Storeys come from `Prism::floors`, or
/// where a prism has none (a model, a tileset), from its height in `default_floor_height_m` steps.
pub fn variant_metrics(prisms: &[Prism], site_m: &[[f64; 2]], default_floor_height_m: f64) -> VariantMetrics {
    let site_area_m2 = ring_area_m2(site_m).abs();
    let floors = |p: &Prism| {
        if p.floors > 0 {
            f64::from(p.floors)
        } else {
            ((p.top_m - p.base_m) / default_floor_height_m).floor().max(0.0)
        }
    };
    let footprint_m2 = prisms.iter().filter(|p| p.base_m.abs() <= GROUND_TOLERANCE_M).map(Prism::area_m2).sum();
    let gross_floor_area_m2 = prisms.iter().map(|p| p.area_m2() * floors(p)).sum();
    let ratio = |x: f64| if site_area_m2 > 0.0 { x / site_area_m2 } else { 0.0 };
    VariantMetrics {
        height_m: prisms.iter().map(|p| p.top_m).fold(0.0, f64::max),
        footprint_m2,
        gross_floor_area_m2,
        volume_m3: prisms.iter().map(Prism::volume_m3).sum(),
        plot_ratio: ratio(gross_floor_area_m2),
        site_coverage: ratio(footprint_m2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::catalog::Setback;
    use crate::scenario::massing::massing_prisms;

    fn rect(x0: f64, y0: f64, w: f64, h: f64) -> Vec<[f64; 2]> {
        vec![[x0, y0], [x0 + w, y0], [x0 + w, y0 + h], [x0, y0 + h]]
    }

    #[test]
    fn tower_on_podium_by_hand() {
        // Site 100 × 80 = 8000 m². Podium 40 × 30, floors 0–4; tower 30 × 20, floors 5–19;
        // crown 24 × 14, floors 20–29; 3.5 m storeys.
        let setbacks = [Setback { from_floor: 5, inset_m: 5.0 }, Setback { from_floor: 20, inset_m: 3.0 }];
        let prisms = massing_prisms(&rect(10.0, 10.0, 40.0, 30.0), 30, 3.5, &setbacks).unwrap();
        let m = variant_metrics(&prisms, &rect(0.0, 0.0, 100.0, 80.0), 3.0);
        let gfa = 5.0 * 1200.0 + 15.0 * 600.0 + 10.0 * 336.0; // 18 360 m²
        let volume = 17.5 * 1200.0 + 52.5 * 600.0 + 35.0 * 336.0; // 64 260 m³
        assert_eq!(m.height_m, 105.0);
        assert_eq!(m.footprint_m2, 1200.0);
        assert_eq!(m.gross_floor_area_m2, gfa);
        assert!((m.volume_m3 - volume).abs() < 1e-6);
        assert!((m.plot_ratio - gfa / 8000.0).abs() < 1e-12); // 2.295
        assert!((m.site_coverage - 0.15).abs() < 1e-12);
    }

    #[test]
    fn pavilions_and_models_without_storeys() {
        // Two single-storey pavilions of 10 × 10 and a 12 m block with unknown storeys (4 of 3 m).
        let site = rect(0.0, 0.0, 50.0, 40.0); // 2000 m²
        let mut prisms: Vec<Prism> = massing_prisms(&rect(0.0, 0.0, 10.0, 10.0), 1, 5.0, &[]).unwrap();
        prisms.extend(massing_prisms(&rect(20.0, 0.0, 10.0, 10.0), 1, 5.0, &[]).unwrap());
        prisms.push(Prism { outline: rect(0.0, 20.0, 20.0, 10.0), base_m: 0.0, top_m: 12.0, floors: 0 });
        let m = variant_metrics(&prisms, &site, 3.0);
        assert_eq!(m.height_m, 12.0);
        assert_eq!(m.footprint_m2, 400.0);
        assert_eq!(m.gross_floor_area_m2, 100.0 + 100.0 + 200.0 * 4.0);
        assert_eq!(m.volume_m3, 500.0 + 500.0 + 2400.0);
        assert_eq!(m.plot_ratio, 0.5);
        assert_eq!(m.site_coverage, 0.2);
        // No variant (an empty site): all zero, and no division by a missing site.
        assert_eq!(variant_metrics(&[], &site, 3.0), VariantMetrics::default());
        assert_eq!(variant_metrics(&prisms, &[], 3.0).plot_ratio, 0.0);
    }
}
