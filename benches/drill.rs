//! Drill simulation speed, engine-free, printing figures (`cargo bench --no-default-features --bench drill`):
//! one hour of flood over a 2 km × 2 km district at 2 m (10⁶ cells; buildings as walls, a river, a levee breach
//! and rain), a gas plume's zones on a 512² grid, and an evacuation over a 40 × 40 street grid.

use std::time::Instant;

use citytwin::drill::evacuation::{Evacuation, EvacuationSetup, Origin};
use citytwin::drill::flood::{Boundary, Flood, FloodSetup, Inflow, InflowKind, LandUse};
use citytwin::drill::hydrograph::Series;
use citytwin::drill::plume::{Leak, Plume, Stability, Substance};
use citytwin::drill::raster::{Grid, Raster};
use citytwin::protocol::roads::{RoadEdge, RoadGraph, RoadNode};

/// A valley along y = 0 with a 2 m levee each side of a 60 m river, hills to the north, blocks of 30 m buildings
/// on a 50 m pitch away from the river.
fn district(cell_m: f64, side_m: f64) -> FloodSetup {
    let n = (side_m / cell_m) as usize;
    let grid = Grid { cols: n, rows: n, cell_m, origin_m: [-side_m / 2.0, -side_m / 2.0] };
    let ground = Raster::from_fn(grid, |x, y| {
        let d = y.abs();
        let valley = 0.004 * d + 8.0 * (-((x - 300.0).powi(2) + (y - 700.0).powi(2)) / 2.0e5).exp();
        let channel = if d < 30.0 { -3.0 } else { 0.0 };
        let levee = if (30.0..40.0).contains(&d) { 2.0 } else { 0.0 };
        valley + channel + levee - 0.0005 * x
    });
    let mut setup = FloodSetup::new(ground, LandUse::Paved);
    for r in 0..n {
        for c in 0..n {
            let [x, y] = grid.centre_m(c, r);
            let (bx, by) = ((x + 1000.0).rem_euclid(50.0), (y + 1000.0).rem_euclid(50.0));
            if y.abs() > 80.0 && bx > 10.0 && bx < 40.0 && by > 10.0 && by < 40.0 {
                setup.blocked[grid.index(c, r)] = true;
            }
            if y.abs() < 30.0 {
                setup.manning_n[grid.index(c, r)] = LandUse::Water.manning_n() as f32;
            }
        }
    }
    setup.inflows = vec![
        Inflow {
            kind: InflowKind::River,
            at_m: [-side_m / 2.0 + 5.0, 0.0],
            discharge_m3_s: Series::new(vec![(0.0, 50.0), (1800.0, 400.0), (3600.0, 200.0)]),
        },
        Inflow {
            kind: InflowKind::Breach,
            at_m: [200.0, 36.0],
            discharge_m3_s: Series::new(vec![(600.0, 0.0), (900.0, 120.0), (3600.0, 60.0)]),
        },
    ];
    setup.rain_mm_h = Series::new(vec![(0.0, 30.0), (3600.0, 30.0)]);
    setup.boundary = Boundary::FreeOutflow { slope: 0.002 };
    setup
}

fn flood_hour(cell_m: f64) {
    let setup = district(cell_m, 2000.0);
    let cells = setup.ground.grid.len();
    let mut flood = Flood::new(setup).unwrap();
    let state_mb = flood.state().bytes() as f64 / 1e6;
    let started = Instant::now();
    for minute in 1..=60 {
        flood.run_until(60.0 * minute as f64);
        if std::env::var_os("DRILL_PROGRESS").is_some() {
            let s = flood.summary(0.1);
            eprintln!(
                "{minute} min: {} steps, deepest {:.2} m, {:.1} s",
                flood.steps(),
                s.depth_max_m,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let s = flood.summary(0.1);
    println!(
        "flood {cells} cells ({cell_m} m), 1 h: {wall:.1} s wall ({:.0}× real time), {} steps, {:.0} M cell-steps/s, \
         state {state_mb:.0} MB; wet ≥ 0.1 m {:.2} km², deepest {:.2} m",
        3600.0 / wall,
        flood.steps(),
        cells as f64 * flood.steps() as f64 / wall / 1e6,
        s.flooded_area_m2 / 1e6,
        s.depth_max_m,
    );
}

fn plume_zones() {
    let leak = Leak {
        at_m: [0.0, 0.0],
        height_m: 1.0,
        rate_kg_s: 2.0,
        start_s: 0.0,
        stop_s: None,
        wind_speed_m_s: 3.0,
        wind_from_deg: 225.0,
        stability: Stability::D,
    };
    let plume = Plume::new(leak, Substance::chlorine()).unwrap();
    let started = Instant::now();
    let grid = plume.zone_grid(512).unwrap();
    let raster = plume.ppm_raster(grid, 3600.0);
    let wall = started.elapsed().as_secs_f64() * 1e3;
    let zoned = raster.values.iter().filter(|v| **v as f64 >= 0.5).count();
    println!("plume zones on 512² cells ({:.1} m): {wall:.1} ms; {zoned} cells above AEGL-1", grid.cell_m);
}

fn evacuation() {
    let n = 40usize;
    let mut roads = RoadGraph::default();
    for j in 0..n {
        for i in 0..n {
            let (x, y) = (100.0 * i as f64, 100.0 * j as f64);
            roads.nodes.push(RoadNode {
                id: (j * n + i) as i64,
                lon_deg: 0.0,
                lat_deg: 0.0,
                x_m: x,
                y_m: y,
                height_m: 0.0,
            });
        }
    }
    let mut edge = |from: usize, to: usize, class: &str| {
        roads.edges.push(RoadEdge {
            from,
            to,
            length_m: 100.0,
            class: class.into(),
            name: String::new(),
            oneway: false,
            geometry: Vec::new(),
        })
    };
    for j in 0..n {
        for i in 0..n {
            let class = |line: usize| if line.is_multiple_of(10) { "primary" } else { "residential" };
            if i + 1 < n {
                edge(j * n + i, j * n + i + 1, class(j));
            }
            if j + 1 < n {
                edge(j * n + i, (j + 1) * n + i, class(i));
            }
        }
    }
    let origins = (0..n * n).filter(|k| k.is_multiple_of(3)).map(|node| Origin { node, vehicles: 40.0 }).collect();
    let setup = EvacuationSetup {
        origins,
        shelters: vec![0, n - 1, n * n - 1, n * (n - 1)],
        closed_edges: Vec::new(),
        start_s: 0.0,
        departure_window_s: 900.0,
        step_s: 1.0,
    };
    let started = Instant::now();
    let mut e = Evacuation::new(&roads, setup).unwrap();
    while e.summary().clearance_s.is_none() && e.time_s() < 6.0 * 3600.0 {
        e.run_until(e.time_s() + 60.0);
    }
    let wall = started.elapsed().as_secs_f64();
    let s = e.summary();
    println!(
        "evacuation {} nodes, {} links on routes, {:.0} vehicles: cleared at {:.0} min of drill time in {wall:.2} s wall",
        n * n,
        e.links().len(),
        s.demand_veh,
        s.clearance_s.unwrap_or(f64::NAN) / 60.0,
    );
}

fn main() {
    // `cargo test --benches` runs this too: keep that quick.
    if std::env::args().any(|a| a == "--bench") {
        flood_hour(2.0);
    } else {
        flood_hour(20.0);
    }
    plume_zones();
    evacuation();
}
