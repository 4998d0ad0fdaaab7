//! What a drill acts on, in the city's local east-north frame: the ground, the buildings (with the people in
//! them, estimated from floor area and use), the road graph and the sensors; and the lookups the hazards need
//! (building cells on a grid, the nearest drivable road node).

use serde::{Deserialize, Serialize};

use super::evacuation::lanes_of_class;
use super::raster::{Grid, Raster};
use crate::geo::{ring_area_m2, ring_contains};
use crate::protocol::roads::RoadGraph;

/// Metres per storey when a building gives only its height.
const STOREY_M: f64 = 3.0;

/// One building as the drill sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    /// The city tileset's feature id (`procedural/17`, `way/123`).
    pub id: String,
    /// Counter-clockwise, not closed, local metres.
    pub outline_m: Vec<[f64; 2]>,
    pub height_m: f64,
    #[serde(default)]
    pub floors: Option<u32>,
    /// The `building=*` use: `apartments`, `office`, `school`, …
    #[serde(default)]
    pub usage: String,
}

/// Floor area per occupant by use, m² (daytime design occupancies in the spirit of the IBC's table 1004.5,
/// rounded; homes at the average household's space).
pub fn floor_area_per_person_m2(usage: &str) -> f64 {
    match usage {
        "apartments" | "residential" | "house" | "detached" | "terrace" | "dormitory" => 30.0,
        "office" | "commercial" | "civic" | "government" => 14.0,
        "retail" | "supermarket" | "kiosk" => 6.0,
        "school" | "university" | "college" | "kindergarten" => 5.0,
        "hospital" => 11.0,
        "hotel" => 18.0,
        "industrial" | "warehouse" | "manufacture" => 45.0,
        "pavilion" | "church" | "public" => 4.0,
        _ => 25.0,
    }
}

impl Structure {
    pub fn floors(&self) -> u32 {
        self.floors.unwrap_or(((self.height_m / STOREY_M).round() as u32).max(1)).max(1)
    }

    pub fn footprint_m2(&self) -> f64 {
        ring_area_m2(&self.outline_m).abs()
    }

    /// People inside: gross floor area over the use's area per person.
    pub fn occupants(&self) -> f64 {
        self.footprint_m2() * self.floors() as f64 / floor_area_per_person_m2(&self.usage)
    }

    pub fn centroid_m(&self) -> [f64; 2] {
        let n = self.outline_m.len().max(1) as f64;
        let (x, y) = self.outline_m.iter().fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
        [x / n, y / n]
    }

    /// Where a hazard is read for the building: its corners and its centroid.
    pub fn probe_points_m(&self) -> impl Iterator<Item = [f64; 2]> + '_ {
        self.outline_m.iter().copied().chain(std::iter::once(self.centroid_m()))
    }

    /// The grid cells whose centres lie inside the outline (the centroid's cell for a building smaller than one).
    pub fn cells(&self, grid: &Grid) -> Vec<usize> {
        let (lo, hi) = self.outline_m.iter().fold(([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]), |(lo, hi), p| {
            ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])])
        });
        let mut cells = Vec::new();
        if let (Some((c0, r0)), Some((c1, r1))) = (grid.cell_at(clamp_to(grid, lo)), grid.cell_at(clamp_to(grid, hi))) {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    if ring_contains(&self.outline_m, grid.centre_m(c, r)) {
                        cells.push(grid.index(c, r));
                    }
                }
            }
        }
        if cells.is_empty()
            && let Some((c, r)) = grid.cell_at(self.centroid_m())
        {
            cells.push(grid.index(c, r));
        }
        cells
    }
}

fn clamp_to(grid: &Grid, p: [f64; 2]) -> [f64; 2] {
    let (lo, hi) = grid.extent_m();
    let inset = 1e-6 * grid.cell_m;
    [p[0].clamp(lo[0], hi[0] - inset), p[1].clamp(lo[1], hi[1] - inset)]
}

/// A sensor the drill can make read the hazard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorSite {
    pub id: String,
    pub at_m: [f64; 2],
}

/// Everything a drill acts on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrillWorld {
    /// Ground heights; `None` is flat ground at 0 m.
    pub ground: Option<Raster>,
    pub structures: Vec<Structure>,
    pub roads: RoadGraph,
    pub sensors: Vec<SensorSite>,
}

impl DrillWorld {
    /// Ground heights on a grid.
    pub fn ground_on(&self, grid: Grid) -> Raster {
        match &self.ground {
            Some(dem) => dem.resampled(grid).unwrap_or_else(|| Raster::filled(grid, 0.0)),
            None => Raster::filled(grid, 0.0),
        }
    }

    /// The structures with any part in a grid's square.
    pub fn structures_in(&self, grid: &Grid) -> Vec<usize> {
        let (lo, hi) = grid.extent_m();
        (0..self.structures.len())
            .filter(|&k| {
                self.structures[k]
                    .outline_m
                    .iter()
                    .any(|p| p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1])
            })
            .collect()
    }

    /// Which road nodes a car can leave from (the ends of drivable roads).
    pub fn drivable_nodes(&self) -> Vec<bool> {
        let mut drivable = vec![false; self.roads.nodes.len()];
        for e in self.roads.edges.iter().filter(|e| lanes_of_class(&e.class).is_some()) {
            for n in [e.from, e.to] {
                if let Some(d) = drivable.get_mut(n) {
                    *d = true;
                }
            }
        }
        drivable
    }

    /// For each point, the nearest road node of those `allowed` (none when none is).
    pub fn nearest_nodes(&self, points: &[[f64; 2]], allowed: &[bool]) -> Vec<Option<usize>> {
        // A bucket grid over the nodes, 200 m buckets, searched in growing rings.
        const BUCKET_M: f64 = 200.0;
        let key = |x: f64, y: f64| ((x / BUCKET_M).floor() as i64, (y / BUCKET_M).floor() as i64);
        let mut buckets: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
        for (k, n) in self.roads.nodes.iter().enumerate().filter(|(k, _)| allowed.get(*k) == Some(&true)) {
            buckets.entry(key(n.x_m, n.y_m)).or_default().push(k);
        }
        if buckets.is_empty() {
            return vec![None; points.len()];
        }
        let reach = buckets.keys().fold(0i64, |m, k| m.max(k.0.abs()).max(k.1.abs())) + 2;
        points
            .iter()
            .map(|p| {
                let (bx, by) = key(p[0], p[1]);
                let mut best: Option<(f64, usize)> = None;
                for ring in 0..=(reach + bx.abs().max(by.abs())) {
                    for dx in -ring..=ring {
                        for dy in -ring..=ring {
                            if dx.abs() != ring && dy.abs() != ring {
                                continue;
                            }
                            for &k in buckets.get(&(bx + dx, by + dy)).into_iter().flatten() {
                                let n = &self.roads.nodes[k];
                                let d = (n.x_m - p[0]).hypot(n.y_m - p[1]);
                                if best.is_none_or(|(b, bk)| d < b || (d == b && k < bk)) {
                                    best = Some((d, k));
                                }
                            }
                        }
                    }
                    // Every point of a later ring is at least `ring` buckets away.
                    if best.is_some_and(|(b, _)| b <= ring as f64 * BUCKET_M) {
                        break;
                    }
                }
                best.map(|(_, k)| k)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::roads::{RoadEdge, RoadNode};

    fn square(x: f64, y: f64, side: f64) -> Vec<[f64; 2]> {
        vec![[x, y], [x + side, y], [x + side, y + side], [x, y + side]]
    }

    #[test]
    fn occupants_follow_floor_area_and_use() {
        let office = Structure {
            id: "a".into(),
            outline_m: square(0.0, 0.0, 20.0),
            height_m: 30.0,
            floors: None,
            usage: "office".into(),
        };
        assert_eq!(office.floors(), 10);
        assert!((office.occupants() - 400.0 * 10.0 / 14.0).abs() < 1e-9);
        let house = Structure { floors: Some(2), usage: "house".into(), ..office.clone() };
        assert!((house.occupants() - 800.0 / 30.0).abs() < 1e-9);
        let g = Grid { cols: 10, rows: 10, cell_m: 4.0, origin_m: [0.0, 0.0] };
        assert_eq!(office.cells(&g).len(), 25, "5 × 5 cell centres inside 20 × 20 m");
        let tiny = Structure { outline_m: square(5.0, 5.0, 1.0), ..office };
        assert_eq!(tiny.cells(&g), vec![g.index(1, 1)]);
    }

    #[test]
    fn the_nearest_drivable_node_skips_footways() {
        let node =
            |k: i64, x: f64, y: f64| RoadNode { id: k, lon_deg: 0.0, lat_deg: 0.0, x_m: x, y_m: y, height_m: 0.0 };
        let edge = |from, to, class: &str| RoadEdge {
            from,
            to,
            length_m: 1.0,
            class: class.into(),
            name: String::new(),
            oneway: false,
            geometry: Vec::new(),
        };
        let roads = RoadGraph {
            nodes: vec![node(0, 0.0, 0.0), node(1, 1000.0, 0.0), node(2, 990.0, 5.0), node(3, -900.0, 0.0)],
            edges: vec![edge(0, 1, "residential"), edge(2, 3, "footway")],
            ..Default::default()
        };
        let world = DrillWorld { roads, ..Default::default() };
        let drivable = world.drivable_nodes();
        assert_eq!(drivable, [true, true, false, false]);
        assert_eq!(
            world.nearest_nodes(&[[985.0, 5.0], [-800.0, 0.0], [5000.0, 0.0]], &drivable),
            vec![Some(1), Some(0), Some(1)]
        );
        assert_eq!(world.nearest_nodes(&[[0.0, 0.0]], &[false; 4]), vec![None]);
    }
}
