//! The tile quadtree: buildings by centre into cells; leaves hold full detail, coarser tiles the
//! most voluminous buildings of their subtree with simplified footprints. A tile's geometric
//! error is what it leaves out: the tallest dropped building, or the simplification tolerance.

use glam::DVec3;

use super::Building;

/// How the quadtree is cut.
#[derive(Debug, Clone, Copy)]
pub struct QuadOptions {
    /// Split a cell holding more buildings than this.
    pub max_per_leaf: usize,
    /// A coarser tile draws at most this many buildings.
    pub max_per_lod: usize,
    pub max_level: u32,
}

#[derive(Debug, Clone)]
pub struct QuadNode {
    pub level: u32,
    pub x: u32,
    pub y: u32,
    /// Buildings this tile draws (indices into the city's buildings).
    pub content: Vec<u32>,
    /// Footprint simplification tolerance in metres (0 in leaves).
    pub simplify_m: f64,
    pub geometric_error_m: f64,
    /// Local bounds of this tile's content and all its descendants.
    pub min: DVec3,
    pub max: DVec3,
    pub children: Vec<QuadNode>,
}

impl QuadNode {
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// Every node, parents before children.
    pub fn walk(&self) -> Vec<&QuadNode> {
        let mut out = vec![self];
        let mut i = 0;
        while i < out.len() {
            out.extend(out[i].children.iter());
            i += 1;
        }
        out
    }
}

fn building_bounds(b: &Building) -> (DVec3, DVec3) {
    let (lo, hi) = b.bounds();
    (DVec3::new(lo[0], lo[1], b.base_z_m + b.min_height_m), DVec3::new(hi[0], hi[1], b.base_z_m + b.height_m))
}

/// Builds the quadtree over all buildings; `None` when there are none.
pub fn build(buildings: &[Building], options: QuadOptions) -> Option<QuadNode> {
    if buildings.is_empty() {
        return None;
    }
    let centers: Vec<[f64; 2]> = buildings.iter().map(Building::center).collect();
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for c in &centers {
        for k in 0..2 {
            lo[k] = lo[k].min(c[k]);
            hi[k] = hi[k].max(c[k]);
        }
    }
    let size = (hi[0] - lo[0]).max(hi[1] - lo[1]) + 1.0;
    let cell = Cell { min: lo, size, level: 0, x: 0, y: 0 };
    let all: Vec<u32> = (0..buildings.len() as u32).collect();
    Some(node(buildings, &centers, all, cell, &options))
}

#[derive(Clone, Copy)]
struct Cell {
    min: [f64; 2],
    size: f64,
    level: u32,
    x: u32,
    y: u32,
}

fn node(buildings: &[Building], centers: &[[f64; 2]], mut ids: Vec<u32>, cell: Cell, o: &QuadOptions) -> QuadNode {
    let (mut min, mut max) = (DVec3::splat(f64::INFINITY), DVec3::splat(f64::NEG_INFINITY));
    for &i in &ids {
        let (lo, hi) = building_bounds(&buildings[i as usize]);
        min = min.min(lo);
        max = max.max(hi);
    }
    if ids.len() <= o.max_per_leaf || cell.level >= o.max_level {
        return QuadNode {
            level: cell.level,
            x: cell.x,
            y: cell.y,
            content: ids,
            simplify_m: 0.0,
            geometric_error_m: 0.0,
            min,
            max,
            children: vec![],
        };
    }
    let half = cell.size / 2.0;
    let mut quadrants: [Vec<u32>; 4] = Default::default();
    for &i in &ids {
        let c = centers[i as usize];
        let qx = (c[0] >= cell.min[0] + half) as usize;
        let qy = (c[1] >= cell.min[1] + half) as usize;
        quadrants[qx + 2 * qy].push(i);
    }
    let children: Vec<QuadNode> = quadrants
        .into_iter()
        .enumerate()
        .filter(|(_, q)| !q.is_empty())
        .map(|(q, members)| {
            let (qx, qy) = ((q % 2) as u32, (q / 2) as u32);
            let child = Cell {
                min: [cell.min[0] + half * qx as f64, cell.min[1] + half * qy as f64],
                size: half,
                level: cell.level + 1,
                x: cell.x * 2 + qx,
                y: cell.y * 2 + qy,
            };
            node(buildings, centers, members, child, o)
        })
        .collect();
    // The coarse content: the most voluminous buildings; the tallest of the rest is the error.
    let importance = |i: &u32| buildings[*i as usize].importance();
    if ids.len() > o.max_per_lod {
        ids.select_nth_unstable_by(o.max_per_lod, |a, b| importance(b).total_cmp(&importance(a)));
    }
    let dropped = ids.split_off(ids.len().min(o.max_per_lod));
    let tallest_dropped = dropped.iter().map(|i| buildings[*i as usize].height_m).fold(0.0, f64::max);
    let simplify_m = cell.size / 512.0;
    let child_error = children.iter().map(|c| c.geometric_error_m).fold(0.0, f64::max);
    let geometric_error_m = tallest_dropped.max(simplify_m).max(child_error * 1.5).max(child_error + 1.0);
    QuadNode {
        level: cell.level,
        x: cell.x,
        y: cell.y,
        content: ids,
        simplify_m,
        geometric_error_m,
        min,
        max,
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city(n: usize) -> Vec<Building> {
        (0..n)
            .map(|i| {
                let (x, y) = ((i % 50) as f64 * 20.0, (i / 50) as f64 * 20.0);
                Building {
                    id: format!("t/{i}"),
                    outer: vec![[x, y], [x + 10.0, y], [x + 10.0, y + 10.0], [x, y + 10.0]],
                    holes: vec![],
                    base_z_m: 0.0,
                    min_height_m: 0.0,
                    height_m: 5.0 + (i % 7) as f64 * 10.0,
                    levels: None,
                    kind: "yes".into(),
                    name: String::new(),
                    address: String::new(),
                }
            })
            .collect()
    }

    #[test]
    fn every_building_is_in_exactly_one_leaf() {
        let b = city(2500);
        let root = build(&b, QuadOptions { max_per_leaf: 100, max_per_lod: 200, max_level: 12 }).unwrap();
        let mut seen = vec![0u32; b.len()];
        for n in root.walk() {
            if n.is_leaf() {
                assert!(n.content.len() <= 100);
                n.content.iter().for_each(|i| seen[*i as usize] += 1);
            } else {
                assert!(n.content.len() <= 200);
            }
        }
        assert!(seen.iter().all(|c| *c == 1));
    }

    #[test]
    fn errors_grow_towards_the_root_and_bounds_nest() {
        let b = city(2500);
        let root = build(&b, QuadOptions { max_per_leaf: 100, max_per_lod: 200, max_level: 12 }).unwrap();
        for n in root.walk() {
            for c in &n.children {
                assert!(n.geometric_error_m > c.geometric_error_m);
                assert!(n.min.cmple(c.min).all() && n.max.cmpge(c.max).all());
            }
            if n.is_leaf() {
                assert_eq!(n.geometric_error_m, 0.0);
            }
        }
        // The root keeps the tallest buildings: everything it drops is shorter.
        let kept_min = root.content.iter().map(|i| b[*i as usize].importance()).fold(f64::INFINITY, f64::min);
        assert!(kept_min >= 100.0 * 45.0, "the most voluminous buildings are kept: {kept_min}");
        assert!(build(&[], QuadOptions { max_per_leaf: 1, max_per_lod: 1, max_level: 1 }).is_none());
    }
}
