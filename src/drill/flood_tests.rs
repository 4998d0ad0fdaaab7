use super::*;

fn grid(cols: usize, rows: usize, cell_m: f64) -> Grid {
    Grid { cols, rows, cell_m, origin_m: [0.0, 0.0] }
}

/// Hilly ground with a wall of buildings across it.
fn bumpy(g: Grid) -> FloodSetup {
    let ground = Raster::from_fn(g, |x, y| 2.0 * (x / 37.0).sin() * (y / 23.0).cos() + 0.01 * x);
    let mut setup = FloodSetup::new(ground, LandUse::Grass);
    for r in 5..15 {
        setup.blocked[g.index(20, r)] = true;
    }
    setup
}

#[test]
fn a_lake_at_rest_stays_at_rest() {
    let g = grid(60, 40, 2.0);
    let mut setup = bumpy(g);
    // Water at 1.5 m over every open cell below it; the hills above stay dry.
    setup.initial_depth_m = (setup.ground.values.iter().zip(&setup.blocked))
        .map(|(&z, &b)| if b { 0.0 } else { (1.5 - z as f64).max(0.0) })
        .collect();
    let before = setup.initial_depth_m.clone();
    let mut flood = Flood::new(setup).unwrap();
    flood.run_until(600.0);
    assert!(flood.steps() > 100);
    let moved = flood.depth_m().iter().zip(&before).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(moved < 1e-12, "the surface moved by {moved} m");
    let still = (0..g.rows).flat_map(|r| (0..g.cols).map(move |c| (c, r))).all(|(c, r)| {
        let [u, v] = flood.velocity_m_s(c, r);
        u == 0.0 && v == 0.0
    });
    assert!(still);
}

#[test]
fn mass_is_conserved_with_rain_inflows_and_an_open_edge() {
    let g = grid(40, 25, 10.0);
    for boundary in [Boundary::Closed, Boundary::FreeOutflow { slope: 0.001 }] {
        let mut setup = bumpy(g);
        setup.boundary = boundary;
        setup.rain_mm_h = Series::new(vec![(0.0, 0.0), (600.0, 60.0), (1800.0, 0.0)]);
        setup.inflows = vec![
            Inflow {
                kind: InflowKind::River,
                at_m: [15.0, 125.0],
                discharge_m3_s: Series::new(vec![(0.0, 5.0), (1200.0, 40.0), (3600.0, 5.0)]),
            },
            Inflow {
                kind: InflowKind::Breach,
                at_m: [305.0, 65.0],
                discharge_m3_s: Series::new(vec![(900.0, 0.0), (960.0, 25.0), (2400.0, 0.0)]),
            },
        ];
        let open = setup.blocked.iter().filter(|b| !**b).count() as f64;
        let mut flood = Flood::new(setup).unwrap();
        flood.run_until(3600.0);
        let l = flood.ledger();
        // What the series say, integrated by hand.
        let rain_m = 0.5 * 60.0 * 1800.0 / 3.6e6;
        let river = 0.5 * (5.0 + 40.0) * 1200.0 + 0.5 * (40.0 + 5.0) * 2400.0;
        let breach = 0.5 * 25.0 * 1500.0;
        let added = rain_m * open * g.cell_area_m2() + river + breach;
        assert!((l.rain_m3 + l.inflow_m3 - added).abs() < 1e-6 * added);
        let error = (flood.volume_m3() - (added - l.outflow_m3)).abs() / added;
        assert!(error < 1e-3, "{boundary:?}: volume off by {:.2e} of what came in", error);
        assert!(l.clipped_m3 < 1e-9 * added, "{boundary:?}: clipped {}", l.clipped_m3);
        match boundary {
            Boundary::Closed => assert_eq!(l.outflow_m3, 0.0),
            Boundary::FreeOutflow { .. } => assert!(l.outflow_m3 > 0.0),
        }
        assert!(flood.summary(0.1).flooded_area_m2 > 0.0);
    }
}

/// Ritter's (1892) dam break over a dry frictionless bed: depth at `x` (from the dam) and time `t`.
fn ritter_depth_m(h0: f64, x: f64, t: f64) -> f64 {
    let c0 = (GRAVITY_M_S2 * h0).sqrt();
    if x <= -c0 * t {
        h0
    } else if x >= 2.0 * c0 * t {
        0.0
    } else {
        (2.0 * c0 - x / t).powi(2) / (9.0 * GRAVITY_M_S2)
    }
}

/// The local-inertial scheme drops the convective term, so past the dam, where the flow turns supercritical, its
/// rarefaction is steeper and its front slower than Ritter's: de Almeida & Bates (2013, WRR 49) find the same and
/// bound the approximation to Froude numbers below about 0.5. What it must get right is checked exactly (the
/// negative wave's head, no water ahead of the physical front, the volume); the profile's error is pinned at what
/// the scheme gives at 0.5 m cells so that a change making it worse fails. Without friction Bates' θ = 1 ripples
/// behind the head; de Almeida's θ = 0.7 damps that, and the depth upstream then falls smoothly towards the dam.
#[test]
fn a_dam_break_against_ritter() {
    let (h0, t, dx) = (1.0, 20.0, 0.5);
    let c0 = (GRAVITY_M_S2 * h0).sqrt();
    let g = Grid { cols: 1000, rows: 1, cell_m: dx, origin_m: [-250.0, 0.0] };
    for (theta, head_m, rms_max, ripple_max) in [(1.0, 2.0, 0.12, 0.2), (0.7, 5.0, 0.12, 1e-3)] {
        let mut setup = FloodSetup::new(Raster::filled(g, 0.0), LandUse::Paved);
        setup.manning_n = vec![0.0; g.len()];
        setup.theta = theta;
        setup.initial_depth_m = (0..g.cols).map(|c| if g.centre_m(c, 0)[0] < 0.0 { h0 } else { 0.0 }).collect();
        let volume = h0 * 250.0 * dx;
        let mut flood = Flood::new(setup).unwrap();
        flood.run_until(t);
        let profile: Vec<(f64, f64)> = (0..g.cols).map(|c| (g.centre_m(c, 0)[0], flood.depth_m()[c])).collect();
        let head = profile.iter().find(|(_, h)| *h < h0 - 0.01).unwrap().0;
        assert!((head - -c0 * t).abs() < head_m, "θ {theta}: the head at {head:.1} m, Ritter's at {:.1} m", -c0 * t);
        let front = profile.iter().rev().find(|(_, h)| *h > 0.01).unwrap().0;
        assert!(
            front > 20.0 && front <= 2.0 * c0 * t,
            "θ {theta}: front at {front:.1} m, Ritter's {:.1} m",
            2.0 * c0 * t
        );
        assert!((flood.volume_m3() - volume).abs() < 1e-9 * volume);
        let squares: f64 = profile.iter().map(|(x, h)| (h - ritter_depth_m(h0, *x, t)).powi(2)).sum();
        let rms = (squares / g.cols as f64).sqrt();
        let upstream: Vec<f64> = profile.iter().filter(|(x, _)| *x < 0.0).map(|p| p.1).collect();
        let ripple = upstream.windows(2).map(|w| w[1] - w[0]).fold(0.0f64, f64::max);
        eprintln!("θ {theta}: rms {rms:.3} m, front {front:.1} m (Ritter {:.1}), ripple {ripple:.4} m", 2.0 * c0 * t);
        assert!(rms < rms_max * h0, "θ {theta}: rms {rms:.3} m");
        assert!(ripple < ripple_max, "θ {theta}: the depth rises by {ripple:.4} m towards the dam");
    }
}

#[test]
fn the_cube_root_is_exact_enough() {
    for x in [1e-3, 0.0123, 0.5, 1.0, 2.7, 9.0, 123.4, 1e4] {
        let (ours, exact) = (cbrt(x), x.powf(1.0 / 3.0));
        assert!((ours - exact).abs() < 1e-11 * exact, "{x}: {ours} against {exact}");
    }
}
