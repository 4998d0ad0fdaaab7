use super::*;
use crate::drill::raster::Raster;
use crate::drill::world::{SensorSite, Structure};
use crate::geo::Cartographic;
use crate::protocol::drill::{EvacuationPlan, InflowSpec, Shelter, Stability};
use crate::protocol::roads::{RoadEdge, RoadGraph, RoadNode};

/// Streets every 120 m (a primary along y = 0), a 40 m building in every block, a sensor beside each, and
/// ground falling towards a valley along y = −300 m.
fn world() -> (DrillWorld, LocalFrame) {
    let frame = LocalFrame::new(Cartographic::from_degrees(114.05, 22.54, 0.0));
    let n = 7i32;
    let at = |i: i32, j: i32| ((j + 3) * n + (i + 3)) as usize;
    let mut roads = RoadGraph::default();
    for j in -3..=3 {
        for i in -3..=3 {
            let (x, y) = (120.0 * i as f64, 120.0 * j as f64);
            roads.nodes.push(RoadNode {
                id: at(i, j) as i64,
                lon_deg: 0.0,
                lat_deg: 0.0,
                x_m: x,
                y_m: y,
                height_m: 0.0,
            });
        }
    }
    let edge = |a: usize, b: usize, class: &str, roads: &mut RoadGraph| {
        let (p, q) = (&roads.nodes[a], &roads.nodes[b]);
        let geometry = vec![[p.x_m, p.y_m], [0.5 * (p.x_m + q.x_m), 0.5 * (p.y_m + q.y_m)], [q.x_m, q.y_m]];
        roads.edges.push(RoadEdge {
            from: a,
            to: b,
            length_m: 120.0,
            class: class.into(),
            name: String::new(),
            oneway: false,
            geometry,
        });
    };
    for j in -3..=3 {
        for i in -3..=3 {
            if i < 3 {
                edge(at(i, j), at(i + 1, j), if j == 0 { "primary" } else { "residential" }, &mut roads);
            }
            if j < 3 {
                edge(at(i, j), at(i, j + 1), "residential", &mut roads);
            }
        }
    }
    let mut structures = Vec::new();
    let mut sensors = Vec::new();
    for j in -3i32..3 {
        for i in -3i32..3 {
            let (x, y) = (120.0 * i as f64 + 40.0, 120.0 * j as f64 + 40.0);
            structures.push(Structure {
                id: format!("procedural/{}", structures.len()),
                outline_m: vec![[x, y], [x + 40.0, y], [x + 40.0, y + 40.0], [x, y + 40.0]],
                height_m: 12.0 + 6.0 * ((i + j).rem_euclid(3)) as f64,
                floors: None,
                usage: if (i + j) % 2 == 0 { "apartments".into() } else { "office".into() },
            });
            sensors.push(SensorSite { id: format!("s{}", sensors.len()), at_m: [x - 10.0, y - 10.0] });
        }
    }
    let grid = Grid { cols: 200, rows: 200, cell_m: 5.0, origin_m: [-500.0, -500.0] };
    let ground = Raster::from_fn(grid, |x, y| 0.01 * (y + 300.0).abs() + 0.002 * x);
    (DrillWorld { ground: Some(ground), structures, roads, sensors }, frame)
}

fn deg(frame: &LocalFrame, x: f64, y: f64) -> [f64; 2] {
    let c = frame.to_geodetic(x, y);
    [c.lon_rad.to_degrees(), c.lat_rad.to_degrees()]
}

fn plan(frame: &LocalFrame, order_s: f64, shelters_m: &[[f64; 2]]) -> EvacuationPlan {
    EvacuationPlan {
        order_s,
        departure_window_s: 300.0,
        shelters: shelters_m
            .iter()
            .map(|p| Shelter { name: "School".into(), at_deg: deg(frame, p[0], p[1]) })
            .collect(),
        people_per_vehicle: 2.5,
        evacuate_level: None,
    }
}

fn flood_drill(frame: &LocalFrame) -> Drill {
    Drill {
        tileset: "city".into(),
        duration_s: 2400.0,
        center_deg: deg(frame, 0.0, 0.0),
        half_size_m: 400.0,
        hazard: Hazard::Flood {
            cell_m: 10.0,
            inflows: vec![InflowSpec {
                kind: "breach".into(),
                at_deg: deg(frame, -20.0, -290.0),
                discharge_m3_s: vec![[300.0, 0.0], [600.0, 60.0], [2400.0, 60.0]],
            }],
            rain_mm_h: vec![[0.0, 20.0], [2400.0, 20.0]],
            depth_m: 0.3,
        },
        evacuation: Some(plan(frame, 900.0, &[[360.0, 360.0]])),
    }
}

#[test]
fn scrubbing_back_replays_the_same_flood() {
    let (world, frame) = world();
    let mut session = DrillSession::new(flood_drill(&frame), "flood", world.clone(), &frame).unwrap();
    session.seek(1203.0);
    assert_eq!(session.time_s(), 1200.0, "whole ticks only");
    let depth = |s: &DrillSession| match s.hazard() {
        HazardModel::Flood(f) => f.flood.depth_m().to_vec(),
        _ => unreachable!(),
    };
    let (at_1200, events, figures) = (depth(&session), session.events().to_vec(), session.figures().to_vec());
    let evacuation = session.evacuation().unwrap().summary();
    assert!(at_1200.iter().any(|h| *h > 0.3));
    let breach = events.iter().find(|e| e.text == "Levee breach").map(|e| e.time_s);
    assert_eq!(breach, Some(300.0), "the breach starts where its discharge leaves zero");
    session.seek(420.0);
    assert_eq!(session.figures().len(), 8, "0 to 7 minutes");
    assert!(session.evacuation().is_none(), "before the order");
    session.seek(1200.0);
    assert_eq!(depth(&session), at_1200, "bit for bit");
    assert_eq!((session.events(), session.figures()), (&events[..], &figures[..]));
    assert_eq!(session.evacuation().unwrap().summary(), evacuation);
    // Another client going straight there lands on the same state.
    let mut other = DrillSession::new(flood_drill(&frame), "flood", world, &frame).unwrap();
    other.seek(1200.0);
    assert_eq!(depth(&other), at_1200);
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    for k in [EventKind::Incident, EventKind::Warning, EventKind::Alarm, EventKind::RoadClosure, EventKind::Order] {
        assert!(kinds.contains(&k), "{k:?} in {events:#?}");
    }
    let last = figures.last().unwrap();
    assert!(last.buildings_by_level[0] > 0 && last.sensors_in_hazard > 0, "{last:?}");
    assert!(last.flood.unwrap().flooded_area_m2 > 10_000.0);
}

#[test]
fn a_gas_leak_zones_buildings_and_clears_its_evacuation() {
    let (world, frame) = world();
    let drill = Drill {
        tileset: "city".into(),
        duration_s: 7200.0,
        center_deg: deg(&frame, 0.0, 0.0),
        half_size_m: 500.0,
        hazard: Hazard::GasLeak {
            at_deg: deg(&frame, -250.0, 60.0),
            height_m: 1.0,
            rate_kg_s: 0.5,
            start_s: 60.0,
            stop_s: Some(1800.0),
            wind_speed_m_s: 3.0,
            wind_from_deg: 270.0,
            stability: Stability::D,
            substance: "chlorine".into(),
        },
        // Upwind of the leak.
        evacuation: Some(plan(&frame, 600.0, &[[-360.0, 360.0], [-360.0, -360.0]])),
    };
    let mut session = DrillSession::new(drill, "gas_leak", world, &frame).unwrap();
    session.seek(900.0);
    let f = session.figures().last().unwrap().clone();
    assert_eq!(f.people_by_level.len(), 3, "AEGL-3, -2, -1");
    assert!(f.people_by_level.iter().sum::<f64>() > 0.0, "{f:?}");
    // Downwind (east) buildings are in the zones, upwind ones not.
    let affected: Vec<&str> = session.affected().iter().map(|a| a.0).collect();
    assert!(!affected.is_empty());
    assert!(affected.iter().all(|id| {
        let k: usize = id.trim_start_matches("procedural/").parse().unwrap();
        session.world().structures[k].centroid_m()[0] > -250.0
    }));
    session.seek(7200.0);
    let e = session.evacuation().unwrap().summary();
    assert!(e.demand_veh > 0.0 && e.stranded_veh == 0.0 && e.clearance_s.is_some(), "{e:?}");
    assert!(session.events().iter().any(|e| e.kind == EventKind::Cleared));
    assert!(session.events().iter().any(|e| e.text.contains("shut off")));
    // The plume has passed: nothing is in a zone at the end.
    assert!(session.affected().is_empty());
}

#[test]
fn a_cordon_evacuates_who_is_inside() {
    let (world, frame) = world();
    let drill = Drill {
        tileset: "city".into(),
        duration_s: 7200.0,
        center_deg: deg(&frame, 0.0, 0.0),
        half_size_m: 450.0,
        hazard: Hazard::Area {
            outline_deg: vec![
                deg(&frame, -130.0, -130.0),
                deg(&frame, 130.0, -130.0),
                deg(&frame, 130.0, 130.0),
                deg(&frame, -130.0, 130.0),
            ],
            start_s: 0.0,
        },
        evacuation: Some(plan(&frame, 120.0, &[[360.0, 360.0]])),
    };
    let mut session = DrillSession::new(drill.clone(), "evacuation", world.clone(), &frame).unwrap();
    session.seek(7200.0);
    // The four blocks around the centre.
    assert_eq!(session.figures()[0].buildings_by_level, [4]);
    let inside: f64 = (0..world.structures.len())
        .filter(|&k| {
            crate::geo::ring_contains(
                &[[-130.0, -130.0], [130.0, -130.0], [130.0, 130.0], [-130.0, 130.0]],
                world.structures[k].centroid_m(),
            )
        })
        .map(|k| world.structures[k].occupants())
        .sum();
    let e = session.evacuation().unwrap().summary();
    assert!((e.demand_veh * 2.5 - inside).abs() < 1e-6, "{} people, {inside} inside", e.demand_veh * 2.5);
    assert!((e.arrived_veh - e.demand_veh).abs() < 1e-6, "{e:?}");
    assert_eq!(
        DrillSession::new(drill, "flood", world, &frame).err().map(|e| matches!(e, DrillError::Spec(_))),
        Some(true)
    );
}

#[test]
fn the_report_holds_the_timeline() {
    let (world, frame) = world();
    let mut session = DrillSession::new(flood_drill(&frame), "flood", world, &frame).unwrap();
    session.seek(1200.0);
    let report = crate::drill::report::DrillReport::of(&session, "Breach", "flood");
    let back: crate::drill::report::DrillReport = serde_json::from_str(&report.json()).unwrap();
    assert_eq!(back, report);
    assert_eq!(report.figures.len(), 21, "minutes 0 to 20");
    let csv = report.csv();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 22);
    let columns = rows[0].split(',').count();
    assert!(rows.iter().all(|r| r.split(',').count() == columns));
    assert!(rows[0].starts_with("time_s,buildings flooded (≥ 0.3 m),people flooded (≥ 0.3 m),sensors_in_hazard"));
    // At 20 minutes the evacuation (ordered at 15) is under way.
    assert!(!rows[21].ends_with(",,,"), "{}", rows[21]);
}
