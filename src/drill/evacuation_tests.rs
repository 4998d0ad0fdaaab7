use super::*;
use crate::protocol::roads::{RoadEdge, RoadNode};

fn graph(nodes: usize, edges: &[(usize, usize, f64, &str)]) -> RoadGraph {
    RoadGraph {
        origin_lon_deg: 0.0,
        origin_lat_deg: 0.0,
        nodes: (0..nodes)
            .map(|k| RoadNode { id: k as i64, lon_deg: 0.0, lat_deg: 0.0, x_m: k as f64, y_m: 0.0, height_m: 0.0 })
            .collect(),
        edges: edges
            .iter()
            .map(|&(from, to, length_m, class)| RoadEdge {
                from,
                to,
                length_m,
                class: class.into(),
                name: String::new(),
                oneway: false,
                geometry: Vec::new(),
            })
            .collect(),
    }
}

fn setup(origins: &[(usize, f64)], shelters: &[usize]) -> EvacuationSetup {
    EvacuationSetup {
        origins: origins.iter().map(|&(node, vehicles)| Origin { node, vehicles }).collect(),
        shelters: shelters.to_vec(),
        closed_edges: Vec::new(),
        start_s: 0.0,
        departure_window_s: 0.0,
        step_s: 2.0,
    }
}

fn clearance_s(g: &RoadGraph, s: EvacuationSetup) -> f64 {
    let mut evacuation = Evacuation::new(g, s).unwrap();
    evacuation.run_until(7200.0);
    evacuation.summary().clearance_s.expect("cleared within two hours")
}

#[test]
fn one_road_clears_at_capacity_plus_the_drive() {
    // 300 vehicles on one tertiary road (900 veh/h, 40 km/h) of 1,010 m: they enter at 0.25 veh/s, so the last
    // enters after 1,200 s, then drives 45 cells of one 2 s step each: 90 s.
    let g = graph(2, &[(0, 1, 1010.0, "tertiary")]);
    assert_eq!(clearance_s(&g, setup(&[(0, 300.0)], &[1])), 1290.0);
}

#[test]
fn a_merge_shares_its_capacity() {
    // Two residential roads (600 veh/h, 30 km/h, 510 m: 30 cells, 60 s) merge into the tertiary road to the shelter.
    // Together they bring more than its 0.25 veh/s from the first arrival at 60 s: the 300 vehicles pass the
    // merge by 60 + 1,200 s and reach the shelter 90 s later.
    let g = graph(4, &[(0, 2, 510.0, "residential"), (1, 2, 510.0, "residential"), (2, 3, 1010.0, "tertiary")]);
    let s = setup(&[(0, 150.0), (1, 150.0)], &[3]);
    let mut evacuation = Evacuation::new(&g, s.clone()).unwrap();
    evacuation.run_until(600.0);
    // Equal capacities take equal shares: both approaches hold the same queue.
    let queued = |origin: usize| {
        let link = evacuation.links().iter().position(|l| l.edge == origin).unwrap();
        evacuation.link_cells(link).iter().sum::<f64>() + evacuation.waiting[origin]
    };
    assert!((queued(0) - queued(1)).abs() < 1e-9);
    assert!(evacuation.summary().congested_links >= 2, "both approaches back up");
    assert_eq!(clearance_s(&g, s), 1350.0);
}

#[test]
fn flow_is_conserved_and_no_link_carries_more_than_its_capacity() {
    // A 6 × 6 grid of streets with arterials, two shelters, a closure, and departures spread over 10 minutes.
    let at = |c: usize, r: usize| r * 6 + c;
    let mut edges = Vec::new();
    for r in 0..6 {
        for c in 0..6 {
            let class = |line: usize| if line == 2 { "primary" } else { "residential" };
            if c < 5 {
                edges.push((at(c, r), at(c + 1, r), 150.0 + 7.0 * c as f64, class(r)));
            }
            if r < 5 {
                edges.push((at(c, r), at(c, r + 1), 160.0 + 3.0 * r as f64, class(c)));
            }
        }
    }
    let g = graph(36, &edges);
    let origins: Vec<(usize, f64)> = (0..36).filter(|k| k % 5 != 0).map(|k| (k, 20.0 + (k * 7 % 30) as f64)).collect();
    let mut s = setup(&origins, &[at(0, 0), at(5, 5)]);
    s.departure_window_s = 600.0;
    s.closed_edges = vec![3, 17];
    s.start_s = 120.0;
    let demand: f64 = origins.iter().map(|o| o.1).sum();
    let mut evacuation = Evacuation::new(&g, s).unwrap();
    let mut congested = 0;
    while evacuation.summary().clearance_s.is_none() && evacuation.time_s() < 7200.0 {
        evacuation.step();
        let m = evacuation.summary();
        let accounted = (demand - m.released_veh) + m.waiting_veh + m.moving_veh + m.arrived_veh;
        assert!((accounted - demand).abs() < 1e-9 * demand, "at {} s: {accounted} of {demand}", m.time_s);
        let (flow, jam) = evacuation.peaks();
        assert!(flow <= 1.0 + 1e-12 && jam <= 1.0 + 1e-12, "flow {flow}, occupancy {jam} of capacity");
        congested = congested.max(m.congested_links);
    }
    let m = evacuation.summary();
    assert!(m.clearance_s.is_some() && m.stranded_veh == 0.0);
    assert!((m.arrived_veh - demand).abs() < 1e-6);
    assert!(congested > 0, "the demand is meant to congest something");
    assert!(evacuation.arrived_by_shelter().iter().all(|v| *v > 0.0), "both shelters are used");
}

#[test]
fn closures_reroute_or_strand() {
    let g = graph(
        4,
        &[
            (0, 1, 300.0, "residential"),
            (1, 3, 300.0, "residential"),
            (0, 2, 900.0, "primary"),
            (2, 3, 900.0, "primary"),
        ],
    );
    let mut s = setup(&[(0, 10.0)], &[3]);
    // The short way: 600 m at 30 km/h (72 s) beats 1,800 m at 50 km/h (130 s).
    assert_eq!(Evacuation::new(&g, s.clone()).unwrap().links().iter().map(|l| l.edge).collect::<Vec<_>>(), [0, 1]);
    s.closed_edges = vec![1];
    assert_eq!(Evacuation::new(&g, s.clone()).unwrap().links().iter().map(|l| l.edge).collect::<Vec<_>>(), [2, 3]);
    s.closed_edges = vec![1, 3];
    let mut stranded = Evacuation::new(&g, s).unwrap();
    stranded.run_until(100.0);
    assert_eq!(stranded.summary().stranded_veh, 10.0);
    // Footways carry no cars.
    let g = graph(2, &[(0, 1, 100.0, "footway")]);
    assert_eq!(Evacuation::new(&g, setup(&[(0, 5.0)], &[1])).unwrap().summary().stranded_veh, 5.0);
    assert_eq!(Evacuation::new(&g, setup(&[(7, 5.0)], &[1])).err(), Some(EvacuationError::Node(7)));
}

#[test]
fn merges_share_in_proportion_to_weight() {
    let flows = merge_flows(10.0, &[8.0, 2.0, 6.0], &[1.0, 1.0, 2.0]);
    assert_eq!(flows[1], 2.0);
    assert!((flows[0] - 8.0 / 3.0).abs() < 1e-12 && (flows[2] - 16.0 / 3.0).abs() < 1e-12);
    assert_eq!(merge_flows(10.0, &[3.0, 4.0], &[1.0, 1.0]), [3.0, 4.0]);
}
