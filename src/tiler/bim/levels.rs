//! The BIM tileset's levels of detail, planned on plain data: a building tile with the model's
//! largest components, refining (REPLACE) into one tile per storey with that storey's larger
//! components, refining into component-level tiles that hold every component of the storey. A
//! tile's geometric error is the size of the largest component its subtree shows and it does not,
//! so screen-space error hands over exactly when a missing component would show.

use glam::DVec3;

/// The building tile keeps components at least this large (bounding-box diagonal).
pub const BUILDING_MIN_SIZE_M: f64 = 4.0;
/// A storey tile keeps components at least this large.
pub const STOREY_MIN_SIZE_M: f64 = 1.5;
/// The most components in one tile: larger storeys split in space, coarse tiles keep the largest.
pub const MAX_COMPONENTS_PER_TILE: usize = 2_000;

/// What the plan needs of a component.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    /// Index of its storey in the caller's storey list (`None`: not in a storey).
    pub storey: Option<usize>,
    pub size_m: f64,
    pub centre: DVec3,
}

/// One tile: the components it draws (indices into the caller's list), its error and children.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePlan {
    /// The content's file stem, unique in the tileset.
    pub name: String,
    /// The storey it belongs to (`None` for the building tile and unassigned components).
    pub storey: Option<usize>,
    pub components: Vec<usize>,
    /// Every component drawn by this tile or below it.
    pub subtree: Vec<usize>,
    pub geometric_error_m: f64,
    pub children: Vec<TilePlan>,
}

impl TilePlan {
    /// This tile and every tile below it, depth first.
    pub fn walk(&self) -> Vec<&TilePlan> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }
}

/// The plan for `components`, storeys in the order of `storeys` (their count), unassigned last.
pub fn plan(components: &[Component], storeys: usize) -> TilePlan {
    let all: Vec<usize> = (0..components.len()).collect();
    let groups = (0..storeys).map(Some).chain([None]);
    let children: Vec<TilePlan> = groups
        .filter_map(|storey| {
            let members: Vec<usize> = all.iter().copied().filter(|i| components[*i].storey == storey).collect();
            (!members.is_empty()).then(|| storey_tile(components, storey, members))
        })
        .collect();
    coarse_tile("building".into(), None, components, all, BUILDING_MIN_SIZE_M, children)
}

/// A tile keeping the largest of `subtree` (at least `min_size_m`, at most
/// [`MAX_COMPONENTS_PER_TILE`]) over `children`; the children are dropped when it keeps them all.
fn coarse_tile(
    name: String,
    storey: Option<usize>,
    components: &[Component],
    subtree: Vec<usize>,
    min_size_m: f64,
    children: Vec<TilePlan>,
) -> TilePlan {
    let mut by_size = subtree.clone();
    by_size.sort_by(|a, b| components[*b].size_m.total_cmp(&components[*a].size_m).then(a.cmp(b)));
    let kept =
        by_size.iter().take_while(|i| components[**i].size_m >= min_size_m).take(MAX_COMPONENTS_PER_TILE).count();
    let geometric_error_m = by_size.get(kept).map_or(0.0, |i| components[*i].size_m);
    let mut kept: Vec<usize> = by_size[..kept].to_vec();
    kept.sort_unstable();
    let children = if geometric_error_m > 0.0 { children } else { Vec::new() };
    TilePlan { name, storey, components: kept, subtree, geometric_error_m, children }
}

fn storey_tile(components: &[Component], storey: Option<usize>, members: Vec<usize>) -> TilePlan {
    let stem = storey.map_or_else(|| "unassigned".to_owned(), |s| format!("storey{s}"));
    let mut chunks = Vec::new();
    split(components, members.clone(), &mut chunks);
    let children = if chunks.len() == 1 {
        let only = chunks.pop().expect("one");
        vec![leaf(format!("{stem}_all"), storey, only)]
    } else {
        chunks.into_iter().enumerate().map(|(k, c)| leaf(format!("{stem}_{k}"), storey, c)).collect()
    };
    coarse_tile(stem, storey, components, members, STOREY_MIN_SIZE_M, children)
}

fn leaf(name: String, storey: Option<usize>, mut members: Vec<usize>) -> TilePlan {
    members.sort_unstable();
    TilePlan { name, storey, subtree: members.clone(), components: members, geometric_error_m: 0.0, children: vec![] }
}

/// Halves `members` at the median of their centres along the widest horizontal axis (glTF x or
/// z) until each part holds at most [`MAX_COMPONENTS_PER_TILE`].
fn split(components: &[Component], mut members: Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if members.len() <= MAX_COMPONENTS_PER_TILE {
        out.push(members);
        return;
    }
    let (lo, hi) = members
        .iter()
        .map(|i| components[*i].centre)
        .fold((DVec3::splat(f64::INFINITY), DVec3::splat(f64::NEG_INFINITY)), |(lo, hi), c| (lo.min(c), hi.max(c)));
    let axis = if hi.x - lo.x >= hi.z - lo.z { 0 } else { 2 };
    members.sort_by(|a, b| components[*a].centre[axis].total_cmp(&components[*b].centre[axis]).then(a.cmp(b)));
    let upper = members.split_off(members.len() / 2);
    split(components, members, out);
    split(components, upper, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(storey: Option<usize>, size_m: f64, x: f64) -> Component {
        Component { storey, size_m, centre: DVec3::new(x, 0.0, 0.0) }
    }

    #[test]
    fn storeys_partition_the_leaves_and_errors_hand_over_by_size() {
        // Storey 0: a 10 m wall, a 2 m door, a 0.5 m chair; storey 1: a 6 m slab, a 1 m lamp; one
        // 3 m beam in no storey.
        let cs = [
            component(Some(0), 10.0, 0.0),
            component(Some(0), 2.0, 1.0),
            component(Some(0), 0.5, 2.0),
            component(Some(1), 6.0, 3.0),
            component(Some(1), 1.0, 4.0),
            component(None, 3.0, 5.0),
        ];
        let root = plan(&cs, 2);
        assert_eq!(root.components, vec![0, 3], "the building keeps what is at least 4 m");
        assert_eq!(root.geometric_error_m, 3.0, "the largest left out: the beam");
        let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["storey0", "storey1", "unassigned"]);
        let s0 = &root.children[0];
        assert_eq!((s0.components.clone(), s0.geometric_error_m), (vec![0, 1], 0.5));
        assert_eq!(s0.children[0].components, vec![0, 1, 2]);
        assert_eq!(s0.children[0].geometric_error_m, 0.0);
        // The unassigned beam's tile keeps it all: no children.
        assert!(root.children[2].children.is_empty() && root.children[2].geometric_error_m == 0.0);
        // Every component is in exactly one leaf.
        let mut leaves: Vec<usize> =
            root.walk().into_iter().filter(|t| t.children.is_empty()).flat_map(|t| t.components.clone()).collect();
        leaves.sort_unstable();
        assert_eq!(leaves, (0..cs.len()).collect::<Vec<_>>());
        // Errors shrink downwards, so refinement is monotone.
        for t in root.walk() {
            assert!(t.children.iter().all(|c| c.geometric_error_m <= t.geometric_error_m), "{}", t.name);
        }
    }

    #[test]
    fn a_large_storey_splits_in_space_and_coarse_tiles_stay_bounded() {
        let n = MAX_COMPONENTS_PER_TILE * 3 + 7;
        let cs: Vec<Component> = (0..n).map(|i| component(Some(0), 5.0 + (i % 3) as f64, i as f64)).collect();
        let root = plan(&cs, 1);
        assert_eq!(root.components.len(), MAX_COMPONENTS_PER_TILE, "the largest, at most the bound");
        assert!(root.components.iter().all(|i| cs[*i].size_m == 7.0));
        assert_eq!(root.geometric_error_m, 7.0, "more 7 m components than the bound: one is left out");
        let storey = &root.children[0];
        assert_eq!(storey.children.len(), 4);
        for leaf in &storey.children {
            assert!(leaf.components.len() <= MAX_COMPONENTS_PER_TILE);
            // A leaf is a contiguous slab in x: its members are neighbours.
            let (lo, hi) = (leaf.components[0], *leaf.components.last().unwrap());
            assert_eq!(hi - lo + 1, leaf.components.len());
        }
        assert_eq!(storey.children.iter().map(|c| c.components.len()).sum::<usize>(), n);
    }
}
