//! The road network as a graph for routing (`roads.json`, written by the tiler, served to clients): intersections and ends as nodes, road stretches
//! between them as edges with length, class and geometry (local east-north-up metres).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadNode {
    /// The OSM node id, or a generated one.
    pub id: i64,
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub x_m: f64,
    pub y_m: f64,
    /// The ground's height under the node, metres above the ellipsoid (0 where the city has no DEM).
    #[serde(default)]
    pub height_m: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadEdge {
    /// Indices into `nodes`.
    pub from: usize,
    pub to: usize,
    pub length_m: f64,
    /// The `highway=*` class: `primary`, `residential`, `footway`, …
    pub class: String,
    pub name: String,
    pub oneway: bool,
    /// The stretch's points from `from` to `to`, local metres.
    pub geometry: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoadGraph {
    pub origin_lon_deg: f64,
    pub origin_lat_deg: f64,
    pub nodes: Vec<RoadNode>,
    pub edges: Vec<RoadEdge>,
}

/// One road as tagged: its node ids and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadWay {
    pub nodes: Vec<i64>,
    pub class: String,
    pub name: String,
    pub oneway: bool,
}

/// A node's position: local metres and degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodePos {
    pub xy_m: [f64; 2],
    pub lon_deg: f64,
    pub lat_deg: f64,
}

/// Width in metres drawn for a road class.
pub fn width_m(class: &str) -> f64 {
    match class {
        "motorway" | "trunk" => 14.0,
        "primary" | "motorway_link" | "trunk_link" => 11.0,
        "secondary" | "primary_link" => 9.0,
        "tertiary" | "secondary_link" | "tertiary_link" => 7.5,
        "residential" | "unclassified" | "living_street" | "road" => 6.0,
        "service" | "pedestrian" | "busway" => 4.0,
        _ => 2.5,
    }
}

/// Splits ways at shared nodes into a graph. Returns the graph and how many node references
/// had no coordinates (those ways are split around the gap).
pub fn build_graph(
    ways: &[RoadWay],
    pos: &HashMap<i64, NodePos>,
    origin_lon_deg: f64,
    origin_lat_deg: f64,
) -> (RoadGraph, usize) {
    let mut uses: HashMap<i64, u32> = HashMap::new();
    for w in ways {
        for (i, n) in w.nodes.iter().enumerate() {
            // Ends count twice so that they always become graph nodes.
            *uses.entry(*n).or_default() += if i == 0 || i + 1 == w.nodes.len() { 2 } else { 1 };
        }
    }
    let mut graph = RoadGraph { origin_lon_deg, origin_lat_deg, ..Default::default() };
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut node_index = |graph: &mut RoadGraph, id: i64, p: NodePos| {
        *index.entry(id).or_insert_with(|| {
            graph.nodes.push(RoadNode {
                id,
                lon_deg: p.lon_deg,
                lat_deg: p.lat_deg,
                x_m: p.xy_m[0],
                y_m: p.xy_m[1],
                height_m: 0.0,
            });
            graph.nodes.len() - 1
        })
    };
    let mut missing = 0;
    for w in ways {
        // The open stretch: its start node and the points so far (the last is the previous node).
        let mut open: Option<(usize, Vec<[f64; 2]>)> = None;
        let mut prev: Option<(i64, NodePos)> = None;
        for (i, id) in w.nodes.iter().enumerate() {
            let Some(p) = pos.get(id).copied() else {
                // A gap: the stretch so far ends at the previous node, so nothing is lost.
                missing += 1;
                if let (Some((from, geometry)), Some((pid, pp))) = (open.take(), prev.take())
                    && geometry.len() >= 2
                {
                    let to = node_index(&mut graph, pid, pp);
                    graph.edges.push(edge(w, from, to, geometry));
                }
                continue;
            };
            prev = Some((*id, p));
            let is_graph_node = uses.get(id).copied().unwrap_or(0) >= 2 || i + 1 == w.nodes.len();
            match &mut open {
                None => {
                    let ni = node_index(&mut graph, *id, p);
                    open = Some((ni, vec![p.xy_m]));
                }
                Some((from, geometry)) => {
                    geometry.push(p.xy_m);
                    if is_graph_node {
                        let to = node_index(&mut graph, *id, p);
                        graph.edges.push(edge(w, *from, to, std::mem::take(geometry)));
                        open = Some((to, vec![p.xy_m]));
                    }
                }
            }
        }
    }
    (graph, missing)
}

fn edge(w: &RoadWay, from: usize, to: usize, geometry: Vec<[f64; 2]>) -> RoadEdge {
    let length_m = geometry.windows(2).map(|s| (s[1][0] - s[0][0]).hypot(s[1][1] - s[0][1])).sum();
    RoadEdge { from, to, length_m, class: w.class.clone(), name: w.name.clone(), oneway: w.oneway, geometry }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64, y: f64) -> NodePos {
        NodePos { xy_m: [x, y], lon_deg: 0.0, lat_deg: 0.0 }
    }

    #[test]
    fn ways_split_at_intersections() {
        // A cross: one way west-east through node 3, another south-north through it.
        let pos: HashMap<i64, NodePos> = [
            (1, p(-10.0, 0.0)),
            (2, p(-5.0, 0.0)),
            (3, p(0.0, 0.0)),
            (4, p(10.0, 0.0)),
            (5, p(0.0, -10.0)),
            (6, p(0.0, 10.0)),
        ]
        .into_iter()
        .collect();
        let ways = vec![
            RoadWay { nodes: vec![1, 2, 3, 4], class: "primary".into(), name: "Main".into(), oneway: false },
            RoadWay { nodes: vec![5, 3, 6], class: "residential".into(), name: String::new(), oneway: true },
        ];
        let (g, missing) = build_graph(&ways, &pos, 24.9, 60.2);
        assert_eq!(missing, 0);
        assert_eq!(g.nodes.len(), 5, "1, 3, 4, 5, 6: node 2 is only a shape point");
        assert_eq!(g.edges.len(), 4);
        let main_west = &g.edges[0];
        assert_eq!((main_west.length_m, main_west.geometry.len()), (10.0, 3));
        assert!(g.edges.iter().filter(|e| e.class == "residential").all(|e| e.oneway && e.length_m == 10.0));
    }

    #[test]
    fn missing_nodes_split_the_way_and_are_counted() {
        let pos: HashMap<i64, NodePos> =
            [(1, p(0.0, 0.0)), (2, p(1.0, 0.0)), (4, p(3.0, 0.0)), (5, p(4.0, 0.0))].into_iter().collect();
        let ways =
            vec![RoadWay { nodes: vec![1, 2, 3, 4, 5], class: "service".into(), name: String::new(), oneway: false }];
        let (g, missing) = build_graph(&ways, &pos, 0.0, 0.0);
        assert_eq!(missing, 1);
        assert_eq!(g.edges.len(), 2, "1→2 closes at the gap, 4→5 after it");
        assert_eq!(g.edges[0].length_m, 1.0);
        assert_eq!(g.nodes.len(), 4);
    }
}
