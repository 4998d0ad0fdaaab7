//! Evacuation: vehicles from the hazard's buildings to shelters over the tiler's road graph, as Daganzo's cell
//! transmission model (Daganzo 1994, Transp. Res. B 28; networks and merges: 1995, B 29) with capacities, speeds
//! and lanes by road class and the hazard's closures. Every origin drives the fastest free-flow route to its
//! nearest shelter (one shortest-path tree towards all shelters), so the network carrying flow is a tree of
//! merges; merges share the downstream supply in proportion to capacity.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::protocol::roads::RoadGraph;

/// Jam density per lane, vehicles per metre (150 per km).
const JAM_VEH_PER_M_LANE: f64 = 0.150;

/// How a road class carries traffic, per direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lanes {
    pub lanes: f64,
    /// Vehicles per hour per lane, intersections included.
    pub capacity_veh_h_lane: f64,
    pub speed_km_h: f64,
}

/// Lanes, capacity and speed of a road class; `None` for roads no car drives (footways, paths, steps).
pub fn lanes_of_class(class: &str) -> Option<Lanes> {
    let l = |lanes, capacity_veh_h_lane, speed_km_h| Some(Lanes { lanes, capacity_veh_h_lane, speed_km_h });
    match class {
        "motorway" | "trunk" => l(3.0, 2000.0, 80.0),
        "motorway_link" | "trunk_link" | "primary" => l(2.0, 1200.0, 50.0),
        "secondary" | "primary_link" => l(2.0, 1000.0, 40.0),
        "tertiary" | "secondary_link" | "tertiary_link" => l(1.0, 900.0, 40.0),
        "residential" | "unclassified" | "living_street" | "road" => l(1.0, 600.0, 30.0),
        "service" => l(1.0, 400.0, 20.0),
        _ => None,
    }
}

/// Vehicles leaving from a road node.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub node: usize,
    pub vehicles: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EvacuationSetup {
    pub origins: Vec<Origin>,
    /// Road nodes of the shelters.
    pub shelters: Vec<usize>,
    /// Edges closed by the hazard.
    pub closed_edges: Vec<usize>,
    /// When the order to leave is given, s on the drill clock.
    pub start_s: f64,
    /// Departures spread evenly over this long after the order, s (0: all at once).
    pub departure_window_s: f64,
    pub step_s: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvacuationError {
    #[error("node {0} is not in the road graph")]
    Node(usize),
    #[error("an evacuation needs a shelter")]
    NoShelter,
    #[error("demand must be finite and not negative, the step positive and the window not negative")]
    Value,
    #[error("the road graph has {0} links; at most {MAX_CELLS} cells are simulated")]
    TooLarge(usize),
}

/// Cells over the whole network, at most.
pub const MAX_CELLS: usize = 4_000_000;

/// Where a link's traffic goes at its end.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Next {
    Link(usize),
    Shelter(usize),
}

/// One direction of one road edge on the route tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub edge: usize,
    /// Driven from the edge's `to` towards its `from`.
    pub reversed: bool,
    pub first_cell: usize,
    pub cells: usize,
    pub cell_m: f64,
    /// Vehicles a cell boundary passes per step.
    capacity_per_step: f64,
    /// Vehicles a cell holds at jam density.
    jam_per_cell: f64,
    /// The backward wave's share of a cell per step, `w·Δt/ℓ` (≤ 1).
    wave_ratio: f64,
    /// Vehicles a cell holds at capacity (above: congested).
    critical_per_cell: f64,
    next: Next,
}

/// The evacuation running on the drill clock.
#[derive(Debug, Clone)]
pub struct Evacuation {
    setup: EvacuationSetup,
    links: Vec<Link>,
    /// Vehicles per cell.
    cells: Vec<f64>,
    /// Per origin: the link it loads into (none: no route), vehicles released so far and still waiting.
    origin_link: Vec<Option<usize>>,
    released: Vec<f64>,
    waiting: Vec<f64>,
    /// Links (and origins, as `links.len() + k`) feeding each link's first cell.
    feeders: Vec<Vec<usize>>,
    arrived_by_shelter: Vec<f64>,
    time_s: f64,
    clearance_s: Option<f64>,
    /// The largest flow across a cell boundary this run, as a share of its capacity.
    peak_flow_ratio: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EvacuationSummary {
    pub time_s: f64,
    pub demand_veh: f64,
    /// Vehicles told to leave so far.
    pub released_veh: f64,
    /// Vehicles with no open road to any shelter.
    pub stranded_veh: f64,
    pub waiting_veh: f64,
    pub moving_veh: f64,
    pub arrived_veh: f64,
    pub congested_links: usize,
    pub clearance_s: Option<f64>,
}

#[derive(PartialEq)]
struct Reach(f64, usize);

impl Eq for Reach {}

impl Ord for Reach {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then_with(|| other.1.cmp(&self.1))
    }
}

impl PartialOrd for Reach {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// For every node, the edge (and its direction) of the fastest free-flow route towards the nearest shelter, with
/// the node that edge leads to; none for shelters and for nodes with no open route. Closed edges are left out.
fn route_tree(graph: &RoadGraph, shelters: &[usize], closed_edges: &[usize]) -> Vec<Option<(usize, bool, usize)>> {
    let n = graph.nodes.len();
    let mut closed = vec![false; graph.edges.len()];
    for &e in closed_edges {
        if let Some(c) = closed.get_mut(e) {
            *c = true;
        }
    }
    // Edges arriving at each node, as (edge, reversed, tail node).
    let mut arriving: Vec<Vec<(usize, bool, usize)>> = vec![Vec::new(); n];
    for (k, e) in graph.edges.iter().enumerate() {
        if closed[k] || lanes_of_class(&e.class).is_none() || e.from >= n || e.to >= n || e.from == e.to {
            continue;
        }
        arriving[e.to].push((k, false, e.from));
        if !e.oneway {
            arriving[e.from].push((k, true, e.to));
        }
    }
    let mut best = vec![f64::INFINITY; n];
    let mut next = vec![None; n];
    let mut heap = BinaryHeap::new();
    for &node in shelters {
        best[node] = 0.0;
        heap.push(Reach(0.0, node));
    }
    while let Some(Reach(t, node)) = heap.pop() {
        if t > best[node] {
            continue;
        }
        for &(edge, reversed, tail) in &arriving[node] {
            let e = &graph.edges[edge];
            let speed_m_s = lanes_of_class(&e.class).map_or(1.0, |l| l.speed_km_h / 3.6);
            let through = t + e.length_m.max(0.0) / speed_m_s;
            if through < best[tail] {
                best[tail] = through;
                next[tail] = Some((edge, reversed, node));
                heap.push(Reach(through, tail));
            }
        }
    }
    next
}

/// Which nodes have an open drivable route to a shelter (shelters included).
pub fn routable_nodes(graph: &RoadGraph, shelters: &[usize], closed_edges: &[usize]) -> Vec<bool> {
    let shelters: Vec<usize> = shelters.iter().copied().filter(|&s| s < graph.nodes.len()).collect();
    let tree = route_tree(graph, &shelters, closed_edges);
    (0..graph.nodes.len()).map(|n| tree[n].is_some() || shelters.contains(&n)).collect()
}

impl Evacuation {
    pub fn new(graph: &RoadGraph, setup: EvacuationSetup) -> Result<Self, EvacuationError> {
        let n = graph.nodes.len();
        for &node in setup.origins.iter().map(|o| &o.node).chain(&setup.shelters) {
            if node >= n {
                return Err(EvacuationError::Node(node));
            }
        }
        if setup.shelters.is_empty() {
            return Err(EvacuationError::NoShelter);
        }
        let finite = |v: f64| v.is_finite() && v >= 0.0;
        let valid = setup.origins.iter().all(|o| finite(o.vehicles))
            && setup.step_s > 0.0
            && setup.step_s.is_finite()
            && finite(setup.departure_window_s)
            && setup.start_s.is_finite();
        if !valid {
            return Err(EvacuationError::Value);
        }
        let tree = route_tree(graph, &setup.shelters, &setup.closed_edges);
        // The links the origins' routes use, each once, found walking from every origin to its shelter.
        let mut link_of_node: Vec<Option<usize>> = vec![None; n];
        let mut links: Vec<Link> = Vec::new();
        let mut cells = 0usize;
        let dt = setup.step_s;
        for origin in &setup.origins {
            let mut node = origin.node;
            while let Some((edge, reversed, head)) = tree[node] {
                if link_of_node[node].is_some() {
                    break;
                }
                let e = &graph.edges[edge];
                let lanes = lanes_of_class(&e.class).expect("the tree uses drivable edges only");
                let length_m = e.length_m.max(1.0);
                let speed_m_s = lanes.speed_km_h / 3.6;
                // Cells as long as a step's free-flow drive (a short link is one cell, driven more slowly).
                let count = ((length_m / (speed_m_s * dt)).floor() as usize).max(1);
                let cell_m = length_m / count as f64;
                let capacity_veh_s = lanes.lanes * lanes.capacity_veh_h_lane / 3600.0;
                let jam_veh_m = lanes.lanes * JAM_VEH_PER_M_LANE;
                // The triangular fundamental diagram through capacity at the cells' speed.
                let v_m_s = cell_m / dt;
                let critical_veh_m = (capacity_veh_s / v_m_s).min(0.5 * jam_veh_m);
                let wave_m_s = capacity_veh_s / (jam_veh_m - critical_veh_m);
                links.push(Link {
                    edge,
                    reversed,
                    first_cell: cells,
                    cells: count,
                    cell_m,
                    capacity_per_step: capacity_veh_s * dt,
                    jam_per_cell: jam_veh_m * cell_m,
                    wave_ratio: (wave_m_s * dt / cell_m).min(1.0),
                    critical_per_cell: critical_veh_m * cell_m,
                    next: Next::Shelter(head),
                });
                cells += count;
                if cells > MAX_CELLS {
                    return Err(EvacuationError::TooLarge(links.len()));
                }
                link_of_node[node] = Some(links.len() - 1);
                node = head;
            }
        }
        // A link leads on to the link leaving its head node, or into the shelter there.
        let shelter_index = |node: usize| setup.shelters.iter().position(|&s| s == node).unwrap_or(0);
        for link in &mut links {
            let Next::Shelter(head) = link.next else { continue };
            link.next = match link_of_node[head] {
                Some(j) => Next::Link(j),
                None => Next::Shelter(shelter_index(head)),
            };
        }
        let mut feeders = vec![Vec::new(); links.len()];
        for (k, link) in links.iter().enumerate() {
            if let Next::Link(j) = link.next {
                feeders[j].push(k);
            }
        }
        let origin_link: Vec<Option<usize>> = setup.origins.iter().map(|o| link_of_node[o.node]).collect();
        for (k, l) in origin_link.iter().enumerate() {
            if let Some(l) = l {
                feeders[*l].push(links.len() + k);
            }
        }
        let origins = setup.origins.len();
        Ok(Self {
            arrived_by_shelter: vec![0.0; setup.shelters.len()],
            time_s: setup.start_s,
            setup,
            links,
            cells: vec![0.0; cells],
            origin_link,
            released: vec![0.0; origins],
            waiting: vec![0.0; origins],
            feeders,
            clearance_s: None,
            peak_flow_ratio: 0.0,
        })
    }
}

/// Shares a downstream supply among upstream demands in proportion to their weights: whoever wants less than its
/// share gets what it wants and the rest is shared again (Daganzo's merge, for any number of approaches).
pub fn merge_flows(supply: f64, demands: &[f64], weights: &[f64]) -> Vec<f64> {
    if demands.iter().sum::<f64>() <= supply {
        return demands.to_vec();
    }
    let mut flows = vec![0.0; demands.len()];
    let mut open: Vec<usize> = (0..demands.len()).filter(|&k| demands[k] > 0.0).collect();
    let mut left = supply;
    while !open.is_empty() {
        let total_w: f64 = open.iter().map(|&k| weights[k].max(1e-12)).sum();
        let (done, rest): (Vec<usize>, Vec<usize>) =
            open.iter().partition(|&&k| demands[k] <= left * weights[k].max(1e-12) / total_w);
        if done.is_empty() {
            for &k in &rest {
                flows[k] = left * weights[k].max(1e-12) / total_w;
            }
            break;
        }
        for &k in &done {
            flows[k] = demands[k];
            left -= demands[k];
        }
        open = rest;
    }
    flows
}

impl Evacuation {
    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// Vehicles in each of a link's cells, from its start.
    pub fn link_cells(&self, link: usize) -> &[f64] {
        let l = &self.links[link];
        &self.cells[l.first_cell..l.first_cell + l.cells]
    }

    /// A link's load: its fullest cell's vehicles over what it holds at capacity (above 1: congested).
    pub fn link_load(&self, link: usize) -> f64 {
        let l = &self.links[link];
        self.link_cells(link).iter().fold(0.0f64, |m, n| m.max(n / l.critical_per_cell))
    }

    /// The largest flow across any cell boundary so far as a share of that boundary's capacity, and the fullest
    /// any cell has been as a share of its jam occupancy.
    pub fn peaks(&self) -> (f64, f64) {
        let jam = self
            .links
            .iter()
            .enumerate()
            .fold(0.0f64, |m, (k, l)| self.link_cells(k).iter().fold(m, |m, n| m.max(n / l.jam_per_cell)));
        (self.peak_flow_ratio, jam)
    }

    /// The shelters' road nodes.
    pub fn shelters(&self) -> &[usize] {
        &self.setup.shelters
    }

    pub fn arrived_by_shelter(&self) -> &[f64] {
        &self.arrived_by_shelter
    }

    /// Runs whole steps until the clock reaches `time_s`.
    pub fn run_until(&mut self, time_s: f64) {
        while self.time_s + 1e-9 < time_s {
            self.step();
        }
    }

    fn released_share(&self, time_s: f64) -> f64 {
        let w = self.setup.departure_window_s;
        let since = time_s - self.setup.start_s;
        if since <= 0.0 {
            0.0
        } else if w <= 0.0 {
            1.0
        } else {
            (since / w).min(1.0)
        }
    }

    /// One step of the cell transmission model: departures, then every flow from the state at the step's start.
    pub fn step(&mut self) {
        let (t0, t1) = (self.time_s, self.time_s + self.setup.step_s);
        let share = self.released_share(t1) - self.released_share(t0);
        for (k, origin) in self.setup.origins.iter().enumerate() {
            let add = origin.vehicles * share;
            self.released[k] += add;
            if let Some(s) = self.setup.shelters.iter().position(|&s| s == origin.node) {
                self.arrived_by_shelter[s] += add;
            } else if self.origin_link[k].is_some() {
                self.waiting[k] += add;
            }
        }
        let send = |cells: &[f64], l: &Link, c: usize| cells[c].min(l.capacity_per_step);
        let receive = |cells: &[f64], l: &Link, c: usize| {
            l.capacity_per_step.min(l.wave_ratio * (l.jam_per_cell - cells[c]).max(0.0))
        };
        // What leaves each cell this step, and what leaves each origin.
        let mut out = vec![0.0; self.cells.len()];
        let mut loaded = vec![0.0; self.setup.origins.len()];
        let mut peak = self.peak_flow_ratio;
        for l in &self.links {
            for (c, y) in out.iter_mut().enumerate().take(l.first_cell + l.cells - 1).skip(l.first_cell) {
                *y = send(&self.cells, l, c).min(receive(&self.cells, l, c + 1));
                peak = peak.max(*y / l.capacity_per_step);
            }
            if let Next::Shelter(_) = l.next {
                let last = l.first_cell + l.cells - 1;
                out[last] = send(&self.cells, l, last);
                peak = peak.max(out[last] / l.capacity_per_step);
            }
        }
        let n_links = self.links.len();
        for (j, l) in self.links.iter().enumerate() {
            let feeders = &self.feeders[j];
            if feeders.is_empty() {
                continue;
            }
            let supply = receive(&self.cells, l, l.first_cell);
            let (demands, weights): (Vec<f64>, Vec<f64>) = feeders
                .iter()
                .map(|&f| match self.links.get(f) {
                    Some(up) => (send(&self.cells, up, up.first_cell + up.cells - 1), up.capacity_per_step),
                    None => (self.waiting[f - n_links], l.capacity_per_step),
                })
                .unzip();
            for ((&f, flow), demand) in feeders.iter().zip(merge_flows(supply, &demands, &weights)).zip(&demands) {
                let flow = flow.min(*demand);
                match self.links.get(f) {
                    Some(up) => {
                        out[up.first_cell + up.cells - 1] = flow;
                        peak = peak.max(flow / up.capacity_per_step.min(l.capacity_per_step));
                    }
                    None => loaded[f - n_links] = flow,
                }
            }
        }
        // Apply: every cell gives what leaves it to the next cell, the next link or the shelter.
        for l in &self.links {
            for (c, &y) in out.iter().enumerate().skip(l.first_cell).take(l.cells) {
                if y == 0.0 {
                    continue;
                }
                self.cells[c] -= y;
                if c + 1 < l.first_cell + l.cells {
                    self.cells[c + 1] += y;
                } else {
                    match l.next {
                        Next::Link(j) => self.cells[self.links[j].first_cell] += y,
                        Next::Shelter(s) => self.arrived_by_shelter[s] += y,
                    }
                }
            }
        }
        for (k, y) in loaded.into_iter().enumerate() {
            if let Some(j) = self.origin_link[k] {
                self.waiting[k] -= y;
                self.cells[self.links[j].first_cell] += y;
            }
        }
        self.peak_flow_ratio = peak;
        self.time_s = t1;
        if self.clearance_s.is_none() && self.released_share(t1) >= 1.0 {
            let s = self.summary();
            if s.waiting_veh + s.moving_veh < 1e-6 * s.demand_veh.max(1.0) {
                self.clearance_s = Some(t1);
            }
        }
    }

    pub fn summary(&self) -> EvacuationSummary {
        let demand_veh = self.setup.origins.iter().fold(0.0, |sum, o| sum + o.vehicles);
        let stranded_veh = (self.setup.origins.iter().zip(&self.origin_link))
            .filter(|(o, l)| l.is_none() && !self.setup.shelters.contains(&o.node))
            .fold(0.0, |sum, (o, _)| sum + o.vehicles);
        EvacuationSummary {
            time_s: self.time_s,
            demand_veh,
            released_veh: self.released.iter().fold(0.0, |a, b| a + b),
            stranded_veh,
            waiting_veh: self.waiting.iter().fold(0.0, |a, b| a + b),
            moving_veh: self.cells.iter().fold(0.0, |a, b| a + b),
            arrived_veh: self.arrived_by_shelter.iter().fold(0.0, |a, b| a + b),
            congested_links: (0..self.links.len()).filter(|&k| self.link_load(k) > 1.0 + 1e-9).count(),
            clearance_s: self.clearance_s,
        }
    }
}

#[cfg(test)]
#[path = "evacuation_tests.rs"]
mod tests;
