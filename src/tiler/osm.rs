//! Reading an OpenStreetMap PBF extract: buildings (closed ways and multipolygon relations,
//! with courtyards) and the road network, in the east-north-up frame at the extract's centre.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use osmpbf::{Element, ElementReader, RelMemberType};

use super::building::BuildingTags;
use super::{Building, City, rings};
use crate::geo::{Cartographic, LocalFrame};
use crate::protocol::roads::{NodePos, RoadWay, build_graph};
use crate::tiles::Warnings;

#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path} holds no buildings")]
    NoBuildings { path: String },
}

/// Highway classes that are not (yet) usable roads.
const NOT_ROADS: &[&str] = &["proposed", "construction", "abandoned", "platform", "raceway", "bus_stop", "elevator"];

struct Relation {
    id: i64,
    tags: Vec<(String, String)>,
    members: Vec<(i64, bool)>, // (way id, is outer)
}

struct WayRec {
    id: i64,
    nodes: Vec<i64>,
    tags: Vec<(String, String)>,
}

fn tag_pairs<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    tags.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn borrowed(tags: &[(String, String)]) -> BuildingTags<'_> {
    BuildingTags { pairs: tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect() }
}

fn is_building(tags: &BuildingTags<'_>) -> bool {
    tags.get("building").is_some_and(|v| v != "no")
}

/// Where an extract is read from: a file, or bytes already in memory.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

impl Source<'_> {
    fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Bytes(b) => format!("{} bytes of PBF", b.len()),
        }
    }
}

/// Runs one pass over the extract. Panics inside the PBF decoder (possible on corrupt input)
/// become errors: bad input never takes the process down.
fn pass(source: Source<'_>, mut f: impl FnMut(Element<'_>)) -> Result<(), OsmError> {
    let err = |message: String| OsmError::Read { path: source.name(), message };
    match source {
        Source::File(path) => each(ElementReader::from_path(path).map_err(|e| err(e.to_string()))?, &mut f),
        Source::Bytes(bytes) => each(ElementReader::new(std::io::Cursor::new(bytes)), &mut f),
    }
    .map_err(err)
}

fn each<R: std::io::Read + Send>(reader: ElementReader<R>, f: &mut impl FnMut(Element<'_>)) -> Result<(), String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.for_each(f))) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("the PBF decoder failed on corrupt data".into()),
    }
}

/// Reads buildings and roads from the extract at `path`.
pub fn read_pbf(path: &Path) -> Result<City, OsmError> {
    read(Source::File(path))
}

/// Reads buildings and roads from an extract in memory.
pub fn read_pbf_bytes(bytes: &[u8]) -> Result<City, OsmError> {
    read(Source::Bytes(bytes))
}

fn read(source: Source<'_>) -> Result<City, OsmError> {
    let mut warnings = Warnings::default();
    // Pass 1: building multipolygons and their member ways.
    let mut relations = Vec::new();
    pass(source, |e| {
        if let Element::Relation(r) = e {
            let tags = tag_pairs(r.tags());
            let t = borrowed(&tags);
            if t.get("type") == Some("multipolygon") && is_building(&t) {
                let members = r
                    .members()
                    .filter(|m| m.member_type == RelMemberType::Way)
                    .map(|m| (m.member_id, m.role().map(|role| role != "inner").unwrap_or(true)))
                    .collect();
                relations.push(Relation { id: r.id(), tags, members });
            }
        }
    })?;
    let member_ways: HashSet<i64> = relations.iter().flat_map(|r| r.members.iter().map(|m| m.0)).collect();
    let outer_members: HashSet<i64> =
        relations.iter().flat_map(|r| r.members.iter().filter(|m| m.1).map(|m| m.0)).collect();

    // Pass 2: building ways, road ways, member ways.
    let (mut building_ways, mut road_ways, mut members) = (Vec::new(), Vec::new(), HashMap::new());
    pass(source, |e| {
        if let Element::Way(w) = e {
            let id = w.id();
            let tags = tag_pairs(w.tags());
            let t = borrowed(&tags);
            let nodes: Vec<i64> = w.refs().collect();
            if member_ways.contains(&id) {
                members.insert(id, nodes.clone());
            }
            // A way that is an outer ring of a building relation is drawn by the relation.
            if is_building(&t) && !outer_members.contains(&id) {
                building_ways.push(WayRec { id, nodes: nodes.clone(), tags: tags.clone() });
            }
            if let Some(class) = t.get("highway").filter(|c| !NOT_ROADS.contains(c)) {
                let oneway = matches!(t.get("oneway"), Some("yes" | "1" | "true" | "-1"));
                let mut nodes = nodes;
                if t.get("oneway") == Some("-1") {
                    nodes.reverse();
                }
                road_ways.push(RoadWay {
                    nodes,
                    class: class.to_owned(),
                    name: t.get("name").unwrap_or("").to_owned(),
                    oneway,
                });
            }
        }
    })?;

    // Pass 3: coordinates of every node those ways use.
    let needed: HashSet<i64> = building_ways
        .iter()
        .flat_map(|w| w.nodes.iter())
        .chain(members.values().flatten())
        .chain(road_ways.iter().flat_map(|w| w.nodes.iter()))
        .copied()
        .collect();
    let mut degrees: HashMap<i64, (f64, f64)> = HashMap::with_capacity(needed.len());
    pass(source, |e| {
        let (id, lon, lat) = match e {
            Element::Node(n) => (n.id(), n.lon(), n.lat()),
            Element::DenseNode(n) => (n.id(), n.lon(), n.lat()),
            _ => return,
        };
        if needed.contains(&id) && lon.is_finite() && lat.is_finite() {
            degrees.insert(id, (lon, lat));
        }
    })?;
    if building_ways.is_empty() && relations.is_empty() {
        return Err(OsmError::NoBuildings { path: source.name() });
    }

    // The frame: centred on the extent of everything used.
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for (lon, lat) in degrees.values() {
        lo = [lo[0].min(*lon), lo[1].min(*lat)];
        hi = [hi[0].max(*lon), hi[1].max(*lat)];
    }
    if !lo[0].is_finite() {
        return Err(OsmError::Read { path: source.name(), message: "no node coordinates".into() });
    }
    let origin = Cartographic::from_degrees(0.5 * (lo[0] + hi[0]), 0.5 * (lo[1] + hi[1]), 0.0);
    let frame = LocalFrame::new(origin);
    let local: HashMap<i64, glam::DVec3> =
        degrees.iter().map(|(id, (lon, lat))| (*id, frame.to_local(*lon, *lat, 0.0))).collect();

    let mut problems: HashMap<&'static str, (usize, Vec<String>)> = HashMap::new();
    let mut problem = |kind: &'static str, id: String| {
        let e = problems.entry(kind).or_default();
        e.0 += 1;
        if e.1.len() < 5 {
            e.1.push(id);
        }
    };
    let ring_of = |nodes: &[i64]| -> Option<(Vec<[f64; 2]>, f64)> {
        let pts: Option<Vec<glam::DVec3>> = nodes.iter().map(|n| local.get(n).copied()).collect();
        let pts = pts?;
        let z = pts.iter().map(|p| p.z).sum::<f64>() / pts.len() as f64;
        Some((pts.iter().map(|p| [p.x, p.y]).collect(), z))
    };

    let mut buildings = Vec::new();
    for w in &building_ways {
        let id = format!("way/{}", w.id);
        if w.nodes.first() != w.nodes.last() {
            problem("building way is not closed", id);
            continue;
        }
        let Some((ring, z)) = ring_of(&w.nodes) else {
            problem("building way references nodes missing from the extract", id);
            continue;
        };
        let Some(outer) = rings::clean(ring, true) else {
            problem("degenerate building footprint", id);
            continue;
        };
        buildings.push(make_building(id, outer, vec![], z, &w.tags, &mut warnings));
    }
    for r in &relations {
        let id = format!("relation/{}", r.id);
        let parts = |outer: bool| -> Option<Vec<Vec<i64>>> {
            r.members.iter().filter(|m| m.1 == outer).map(|m| members.get(&m.0).cloned()).collect()
        };
        let (Some(outer_parts), Some(inner_parts)) = (parts(true), parts(false)) else {
            problem("multipolygon member way missing from the extract", id);
            continue;
        };
        let (outers, unclosed_o) = rings::assemble(outer_parts);
        let (inners, unclosed_i) = rings::assemble(inner_parts);
        let unclosed = unclosed_o + unclosed_i > 0;
        if unclosed {
            problem("multipolygon ring could not be closed", id.clone());
        }
        let to_rings = |rs: Vec<Vec<i64>>, ccw: bool| -> Vec<(Vec<[f64; 2]>, f64)> {
            rs.iter().filter_map(|r| ring_of(r)).filter_map(|(ring, z)| Some((rings::clean(ring, ccw)?, z))).collect()
        };
        let outers = to_rings(outers, true);
        let mut inners = to_rings(inners, false);
        if outers.is_empty() {
            if !unclosed {
                problem("multipolygon outer ring is degenerate or references missing nodes", id);
            }
            continue;
        }
        let many = outers.len() > 1;
        for (k, (outer, z)) in outers.into_iter().enumerate() {
            let (mine, rest): (Vec<_>, Vec<_>) =
                inners.into_iter().partition(|(h, _)| crate::geo::ring_contains(&outer, h[0]));
            inners = rest;
            let part_id = if many { format!("{id}#{k}") } else { id.clone() };
            let holes = mine.into_iter().map(|(h, _)| h).collect();
            buildings.push(make_building(part_id, outer, holes, z, &r.tags, &mut warnings));
        }
    }
    let mut kinds: Vec<_> = problems.into_iter().collect();
    kinds.sort_by_key(|(k, _)| *k);
    for (kind, (count, examples)) in kinds {
        warnings.push("osm", format!("{count} × {kind} (e.g. {})", examples.join(", ")));
    }

    let pos: HashMap<i64, NodePos> = degrees
        .iter()
        .map(|(id, (lon, lat))| (*id, NodePos { xy_m: [local[id].x, local[id].y], lon_deg: *lon, lat_deg: *lat }))
        .collect();
    let (roads, missing) = build_graph(&road_ways, &pos, origin.lon_rad.to_degrees(), origin.lat_rad.to_degrees());
    if missing > 0 {
        warnings.push("osm", format!("{missing} road node references missing from the extract; roads split there"));
    }
    if buildings.is_empty() {
        return Err(OsmError::NoBuildings { path: source.name() });
    }
    Ok(City { origin, buildings, roads, ground: None, waterways: Vec::new(), warnings })
}

fn make_building(
    id: String,
    outer: Vec<[f64; 2]>,
    holes: Vec<Vec<[f64; 2]>>,
    base_z_m: f64,
    tags: &[(String, String)],
    warnings: &mut Warnings,
) -> Building {
    let t = borrowed(tags);
    let (min_height_m, height_m, levels) = t.heights(&mut |m| warnings.push(id.clone(), m));
    Building {
        outer,
        holes,
        base_z_m,
        min_height_m,
        height_m,
        levels,
        kind: t.get("building").unwrap_or("yes").to_owned(),
        name: t.get("name").unwrap_or("").to_owned(),
        address: t.address(),
        id,
    }
}
