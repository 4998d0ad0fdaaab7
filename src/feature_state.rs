//! Per-feature display state (hidden, highlighted, x-ray, recoloured) and the table the tile shader
//! reads it from: one RGBA8 texel per feature ID, [`TABLE_WIDTH`] texels a row, so that hiding or
//! recolouring thousands of features rewrites a small texture instead of rebuilding meshes.
//!
//! Texel layout (`shaders/feature_state.wgsl` reads the same): red, green, blue = the feature's
//! colour when [`FeatureState::COLOURED`] is set (sRGB); alpha = the flags.

use std::collections::BTreeMap;

use glam::{DVec3, Vec3};

/// Texels per row of a state table (WebGL2 guarantees 2048 px a side, so 512 k features a tile).
pub const TABLE_WIDTH: u32 = 256;
/// Rows at most.
pub const MAX_TABLE_ROWS: u32 = 2048;

/// One feature's state: flags and an optional colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeatureState {
    pub flags: u8,
    pub rgb: [u8; 3],
}

impl FeatureState {
    /// Not drawn, and casts no shadow.
    pub const HIDDEN: u8 = 1;
    /// Drawn in the highlight colour over its own.
    pub const HIGHLIGHTED: u8 = 2;
    /// Drawn see-through (every other pixel), shadows included.
    pub const XRAY: u8 = 4;
    /// Drawn in `rgb` instead of its material's colour.
    pub const COLOURED: u8 = 8;

    pub const fn hidden() -> Self {
        Self { flags: Self::HIDDEN, rgb: [0; 3] }
    }

    pub const fn coloured(rgb: [u8; 3]) -> Self {
        Self { flags: Self::COLOURED, rgb }
    }

    pub fn with(self, flags: u8) -> Self {
        Self { flags: self.flags | flags, ..self }
    }

    /// This state with `other`'s flags too, and `other`'s colour when it sets one.
    pub fn merged(self, other: Self) -> Self {
        let rgb = if other.flags & Self::COLOURED != 0 { other.rgb } else { self.rgb };
        Self { flags: self.flags | other.flags, rgb }
    }

    pub fn texel(self) -> [u8; 4] {
        [self.rgb[0], self.rgb[1], self.rgb[2], self.flags]
    }
}

/// The states of one tile's features, as the texels of its table.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTable {
    features: u32,
    texels: Vec<[u8; 4]>,
}

impl StateTable {
    /// A table for feature IDs `0..features`, all in the default state; `None` past the size a
    /// table can have (the features of such a tile keep their materials' look).
    pub fn new(features: u32) -> Option<Self> {
        let rows = features.div_ceil(TABLE_WIDTH).max(1);
        (rows <= MAX_TABLE_ROWS).then(|| Self { features, texels: vec![[0; 4]; (rows * TABLE_WIDTH) as usize] })
    }

    pub fn features(&self) -> u32 {
        self.features
    }

    /// Width and height in texels.
    pub fn size(&self) -> (u32, u32) {
        (TABLE_WIDTH, self.texels.len() as u32 / TABLE_WIDTH)
    }

    /// Sets one feature's state; an ID outside the table is ignored (the shader never reads it).
    pub fn set(&mut self, id: u32, state: FeatureState) {
        if id < self.features {
            self.texels[id as usize] = state.texel();
        }
    }

    pub fn get(&self, id: u32) -> FeatureState {
        let [r, g, b, flags] = self.texels.get(id as usize).copied().unwrap_or_default();
        FeatureState { flags, rgb: [r, g, b] }
    }

    /// Every feature back to the default state.
    pub fn clear(&mut self) {
        self.texels.fill([0; 4]);
    }

    /// The texels, row by row, as RGBA8 bytes.
    pub fn bytes(&self) -> &[u8] {
        self.texels.as_flattened()
    }
}

/// Each feature's bounding box (min, max) over the vertices that carry its ID (one ID a vertex,
/// in order), transformed by `to_frame` (e.g. a site's local metres from a part's own).
pub fn feature_bounds(
    positions: impl IntoIterator<Item = Vec3>,
    feature_ids: impl IntoIterator<Item = u32>,
    to_frame: impl Fn(DVec3) -> DVec3,
) -> BTreeMap<u32, (DVec3, DVec3)> {
    let mut bounds: BTreeMap<u32, (DVec3, DVec3)> = BTreeMap::new();
    for (p, id) in positions.into_iter().zip(feature_ids) {
        let p = to_frame(p.as_dvec3());
        bounds.entry(id).and_modify(|(lo, hi)| (*lo, *hi) = (lo.min(p), hi.max(p))).or_insert((p, p));
    }
    bounds
}

/// Per-vertex feature IDs kept as runs: a feature's vertices mostly follow each other (a
/// building's walls and roof), so a tile's IDs take a few bytes a feature rather than four a vertex.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureRuns {
    /// The first vertex of each run, rising from 0.
    starts: Vec<u32>,
    ids: Vec<u32>,
    vertices: u32,
}

impl FeatureRuns {
    pub fn new(per_vertex: &[u32]) -> Self {
        let mut runs = Self { vertices: per_vertex.len() as u32, ..Self::default() };
        for (v, id) in per_vertex.iter().enumerate() {
            if runs.ids.last() != Some(id) {
                runs.starts.push(v as u32);
                runs.ids.push(*id);
            }
        }
        runs
    }

    /// The feature ID of `vertex`; `None` past the last vertex.
    pub fn get(&self, vertex: u32) -> Option<u32> {
        if vertex >= self.vertices {
            return None;
        }
        Some(self.ids[self.starts.partition_point(|s| *s <= vertex) - 1])
    }

    /// Every vertex's feature ID, in order.
    pub fn per_vertex(&self) -> impl Iterator<Item = u32> + '_ {
        let ends = self.starts.iter().skip(1).copied().chain([self.vertices]);
        self.starts.iter().zip(ends).zip(&self.ids).flat_map(|((s, e), id)| std::iter::repeat_n(*id, (e - s) as usize))
    }

    pub fn byte_size(&self) -> usize {
        (self.starts.len() + self.ids.len()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_land_at_their_feature_ids_texel() {
        let mut t = StateTable::new(300).unwrap();
        assert_eq!(t.size(), (256, 2));
        t.set(0, FeatureState::hidden());
        t.set(257, FeatureState::coloured([10, 20, 30]).with(FeatureState::HIGHLIGHTED));
        t.set(300, FeatureState::hidden()); // past the last feature: ignored
        let bytes = t.bytes();
        assert_eq!(bytes.len(), 256 * 2 * 4);
        assert_eq!(&bytes[0..4], &[0, 0, 0, FeatureState::HIDDEN]);
        // Row 1, column 1.
        let at = (256 + 1) * 4;
        assert_eq!(&bytes[at..at + 4], &[10, 20, 30, FeatureState::COLOURED | FeatureState::HIGHLIGHTED]);
        assert_eq!(t.get(1), FeatureState::default());
        assert_eq!(bytes.iter().filter(|b| **b != 0).count(), 1 + 4);
        t.clear();
        assert!(t.bytes().iter().all(|b| *b == 0));
    }

    #[test]
    fn tables_are_bounded() {
        assert_eq!(StateTable::new(0).unwrap().size(), (256, 1));
        assert!(StateTable::new(TABLE_WIDTH * MAX_TABLE_ROWS).is_some());
        assert!(StateTable::new(TABLE_WIDTH * MAX_TABLE_ROWS + 1).is_none());
    }

    #[test]
    fn feature_runs_give_each_vertex_its_id_in_a_few_bytes() {
        let per_vertex = [7, 7, 7, 9, 9, 7, 3];
        let runs = FeatureRuns::new(&per_vertex);
        assert_eq!(runs.byte_size(), 4 * 2 * 4, "four runs: 7, 9, 7 again, 3");
        for (v, id) in per_vertex.iter().enumerate() {
            assert_eq!(runs.get(v as u32), Some(*id), "vertex {v}");
        }
        assert_eq!(runs.get(7), None);
        assert_eq!(runs.per_vertex().collect::<Vec<_>>(), per_vertex);
        let none = FeatureRuns::new(&[]);
        assert_eq!((none.get(0), none.per_vertex().count()), (None, 0));
    }

    #[test]
    fn feature_bounds_gather_each_ids_vertices() {
        let positions = [[0.0, 0.0, 0.0], [2.0, 1.0, 5.0], [10.0, 10.0, 0.0], [12.0, 9.0, 3.0]].map(Vec3::from);
        let b = feature_bounds(positions, [7, 7, 9, 9], |p| p + DVec3::X);
        assert_eq!(b.len(), 2);
        assert_eq!(b[&7], (DVec3::new(1.0, 0.0, 0.0), DVec3::new(3.0, 1.0, 5.0)));
        assert_eq!(b[&9], (DVec3::new(11.0, 9.0, 0.0), DVec3::new(13.0, 10.0, 3.0)));
    }
}
