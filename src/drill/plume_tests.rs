use super::*;

fn leak(height_m: f64, wind_from_deg: f64) -> Leak {
    Leak {
        at_m: [100.0, -50.0],
        height_m,
        rate_kg_s: 0.1,
        start_s: 60.0,
        stop_s: Some(660.0),
        wind_speed_m_s: 5.0,
        wind_from_deg,
        stability: Stability::D,
    }
}

#[test]
fn briggs_urban_coefficients_match_the_table() {
    // Hanna, Briggs & Hosker (1982), table 4.6, worked by hand.
    let close = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 0.01 && (a.1 - b.1).abs() < 0.01;
    assert!(close(briggs_urban_sigmas_m(Stability::D, 1000.0), (160.0 / 1.4f64.sqrt(), 140.0 / 1.3f64.sqrt())));
    assert!(close(briggs_urban_sigmas_m(Stability::F, 500.0), (55.0 / 1.2f64.sqrt(), 40.0 / 1.75f64.sqrt())));
    assert!(close(briggs_urban_sigmas_m(Stability::A, 200.0), (64.0 / 1.08f64.sqrt(), 48.0 * 1.2f64.sqrt())));
    assert!(close(briggs_urban_sigmas_m(Stability::C, 2000.0), (440.0 / 1.8f64.sqrt(), 400.0)));
    // (135.22, 122.79) at 1 km in class D, as tabulated.
    let (sy, sz) = briggs_urban_sigmas_m(Stability::D, 1000.0);
    assert!((sy - 135.22).abs() < 0.01 && (sz - 122.79).abs() < 0.01);
}

#[test]
fn a_ground_release_doubles_by_reflection() {
    // Ground-level centreline of a ground release: C = Q / (π u σy σz).
    let plume = Plume::new(leak(0.0, 270.0), Substance::methane()).unwrap();
    // Wind from the west: 1 km east of the source.
    let c = plume.steady_g_m3([1100.0, -50.0], 0.0);
    let expected = 100.0 / (std::f64::consts::PI * 5.0 * 135.2247 * 122.7881);
    assert!((c - expected).abs() < 1e-4 * expected, "{c} against {expected}");
    assert!((expected - 3.834e-4).abs() < 1e-6);
    assert_eq!(plume.steady_g_m3([-900.0, -50.0], 0.0), 0.0, "nothing upwind");
}

#[test]
fn the_plume_carries_the_whole_release_downwind() {
    // u ∬ C dy dz over the half-space above ground is the release rate, at any distance.
    let plume = Plume::new(leak(10.0, 45.0), Substance::chlorine()).unwrap();
    for x in [150.0, 800.0, 3000.0] {
        let (sy, sz) = briggs_urban_sigmas_m(Stability::D, x);
        let (ny, nz) = (400, 400);
        let (dy, dz) = (12.0 * sy / ny as f64, (10.0 + 6.0 * sz) / nz as f64);
        let mut flux = 0.0;
        for j in 0..ny {
            let y = -6.0 * sy + (j as f64 + 0.5) * dy;
            for k in 0..nz {
                let z = (k as f64 + 0.5) * dz;
                // Downwind is south-west: the crosswind axis is north-west.
                let s = std::f64::consts::FRAC_1_SQRT_2;
                let p = [100.0 - s * x - s * y, -50.0 - s * x + s * y];
                flux += plume.steady_g_m3(p, z) * dy * dz;
            }
        }
        let rate = flux * 5.0;
        assert!((rate - 100.0).abs() < 0.5, "{x} m: {rate} g/s through the plane");
    }
}

#[test]
fn the_plume_grows_with_the_wind_and_clears_after_the_leak() {
    let plume = Plume::new(leak(1.0, 0.0), Substance::methane()).unwrap();
    // Wind from the north: 300 m south of the source.
    let south = [100.0, -350.0];
    assert_eq!(plume.ppm_at(south, 1.5, 59.0), 0.0, "before the leak");
    assert_eq!(plume.ppm_at(south, 1.5, 119.0), 0.0, "the gas has gone 295 m");
    assert!(plume.ppm_at(south, 1.5, 121.0) > 0.0);
    assert_eq!(plume.ppm_at([100.0, 250.0], 1.5, 300.0), 0.0, "nothing north");
    assert!(plume.ppm_at(south, 1.5, 700.0) > 0.0, "the tail is at 200 m");
    assert_eq!(plume.ppm_at(south, 1.5, 721.0), 0.0, "the tail has passed");
    assert_eq!(plume.reach_m(660.0 + 100.0), Some((500.0, 3500.0)));
}

#[test]
fn zones_end_where_the_threshold_is_met() {
    let mut l = leak(1.0, 90.0);
    l.rate_kg_s = 2.0;
    let plume = Plume::new(l, Substance::methane()).unwrap();
    let lengths: Vec<f64> = plume.substance.thresholds.iter().map(|t| plume.zone_length_m(t.ppm)).collect();
    assert!(lengths[0] < lengths[1] && lengths[1] < lengths[2], "{lengths:?}");
    for (t, length) in plume.substance.thresholds.iter().zip(&lengths) {
        // Wind from the east: the zone runs west.
        let at = |x: f64| plume.substance.ppm_of_g_m3(plume.steady_g_m3([100.0 - x, -50.0], BREATHING_HEIGHT_M));
        assert!(at(*length) >= t.ppm && at(length * 1.01) < t.ppm, "{}: {length} m", t.name);
    }
    assert_eq!(plume.zone_of_ppm(30_000.0), Some(1));
    assert_eq!(plume.zone_of_ppm(1_000.0), None);
    let grid = plume.zone_grid(64).unwrap();
    let raster = plume.ppm_raster(grid, 600.0);
    let strongest = raster.values.iter().fold(0.0f32, |m, v| m.max(*v));
    assert!(strongest as f64 >= plume.substance.thresholds[2].ppm);
    assert!((Substance::methane().ppm_of_g_m3(1.0) - 1524.3).abs() < 0.1);
}

#[test]
fn bad_leaks_are_refused() {
    let mut calm = leak(1.0, 0.0);
    calm.wind_speed_m_s = 0.2;
    assert_eq!(Plume::new(calm, Substance::methane()), Err(PlumeError::Leak));
    let mut backwards = leak(1.0, 0.0);
    backwards.stop_s = Some(10.0);
    assert_eq!(Plume::new(backwards, Substance::methane()), Err(PlumeError::Leak));
    let mut unsorted = Substance::ammonia();
    unsorted.thresholds.reverse();
    assert_eq!(Plume::new(leak(1.0, 0.0), unsorted), Err(PlumeError::Substance));
}
