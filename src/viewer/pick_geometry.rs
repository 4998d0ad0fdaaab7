//! Geometry kept on the CPU for what casts rays at the city or draws it off the GPU (picking, sun
//! hours, camera depth maps, sites' feature bounds): positions at two bytes an axis, indices at
//! two bytes where they fit, and feature IDs as runs.

use bevy::math::Vec3;
use bevy::mesh::Indices;

use super::mesh::{compact_indices, index_bytes};
use crate::feature_state::FeatureRuns;

/// A part's triangles on the CPU.
pub struct PickGeometry {
    positions: Quantized,
    indices: Option<Indices>,
    features: Option<FeatureRuns>,
}

/// Positions as steps of 1/65535 of their bounding box on each axis: 1.5 cm over a tile a
/// kilometre wide, the bounds' corners exact.
struct Quantized {
    min: Vec3,
    extent: Vec3,
    steps: Vec<[u16; 3]>,
}

impl Quantized {
    const STEPS: f32 = u16::MAX as f32;

    fn new(positions: &[[f32; 3]]) -> Self {
        let (min, max) = positions
            .iter()
            .map(|p| Vec3::from(*p))
            .fold((Vec3::INFINITY, Vec3::NEG_INFINITY), |(lo, hi), p| (lo.min(p), hi.max(p)));
        let (min, extent) = if positions.is_empty() { (Vec3::ZERO, Vec3::ZERO) } else { (min, max - min) };
        let per_metre = Vec3::select(extent.cmpgt(Vec3::ZERO), Self::STEPS / extent, Vec3::ZERO);
        let steps = positions
            .iter()
            .map(|p| ((Vec3::from(*p) - min) * per_metre).round().to_array().map(|s| s.clamp(0.0, Self::STEPS) as u16))
            .collect();
        Self { min, extent, steps }
    }

    fn get(&self, i: usize) -> Vec3 {
        self.min + self.extent * Vec3::from(self.steps[i].map(f32::from)) / Self::STEPS
    }
}

impl PickGeometry {
    /// From a part's arrays (every index below the number of positions).
    pub fn new(positions: &[[f32; 3]], indices: Option<&[u32]>, feature_ids: Option<&[u32]>) -> Self {
        let indices = indices.map(|i| compact_indices(i.to_vec(), positions.len()));
        Self { positions: Quantized::new(positions), indices, features: feature_ids.map(FeatureRuns::new) }
    }

    pub fn byte_size(&self) -> usize {
        let indices = index_bytes(self.indices.as_ref());
        self.positions.steps.len() * 6 + indices + self.features.as_ref().map_or(0, FeatureRuns::byte_size)
    }

    /// A vertex's position in the part's frame.
    pub fn position(&self, vertex: u32) -> Vec3 {
        self.positions.get(vertex as usize)
    }

    /// Every vertex's position, in order.
    pub fn positions(&self) -> impl Iterator<Item = Vec3> + '_ {
        (0..self.positions.steps.len()).map(|i| self.positions.get(i))
    }

    /// The vertex indices of each triangle, indexed or not.
    pub fn triangles(&self) -> impl Iterator<Item = [u32; 3]> + '_ {
        let n = self.indices.as_ref().map_or(self.positions.steps.len(), Indices::len) / 3;
        let idx = move |i: usize| match &self.indices {
            None => i as u32,
            Some(Indices::U16(ix)) => ix[i] as u32,
            Some(Indices::U32(ix)) => ix[i],
        };
        (0..n).map(move |t| [idx(3 * t), idx(3 * t + 1), idx(3 * t + 2)])
    }

    /// The feature IDs of the vertices, when the part has them.
    pub fn features(&self) -> Option<&FeatureRuns> {
        self.features.as_ref()
    }

    /// The feature ID of `vertex`.
    pub fn feature(&self, vertex: u32) -> Option<u32> {
        self.features.as_ref()?.get(vertex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_take_two_bytes_where_the_vertices_allow_and_triangles_read_the_same() {
        let quad = PickGeometry::new(&[[0.0; 3]; 4], Some(&[0, 1, 2, 0, 2, 3]), Some(&[5, 5, 6, 6]));
        assert_eq!(quad.byte_size(), 4 * 6 + 6 * 2 + 2 * 2 * 4);
        assert_eq!(quad.triangles().collect::<Vec<_>>(), [[0, 1, 2], [0, 2, 3]]);
        assert_eq!((quad.feature(1), quad.feature(2), quad.feature(4)), (Some(5), Some(6), None));

        let big = (1 << 16) + 1;
        let last = big as u32 - 1;
        let wide = PickGeometry::new(&vec![[0.0; 3]; big], Some(&[0, 1, last]), None);
        assert_eq!(wide.triangles().collect::<Vec<_>>(), [[0, 1, last]]);
        assert_eq!(wide.byte_size(), big * 6 + 3 * 4);
        let unindexed = PickGeometry::new(&[[0.0; 3]; 6], None, None);
        assert_eq!(unindexed.triangles().collect::<Vec<_>>(), [[0, 1, 2], [3, 4, 5]]);
        assert_eq!(unindexed.feature(0), None);
    }

    #[test]
    fn positions_come_back_within_half_a_step_and_the_corners_exact() {
        // A kilometre-wide tile, 80 m tall.
        let positions = [[-500.0, 0.0, 3.0], [500.0, 80.0, -7.0], [123.456, 41.5, 0.25], [0.0, 0.0, 0.0]];
        let g = PickGeometry::new(&positions, None, None);
        let half_step = Vec3::new(1000.0, 80.0, 10.0) / 65535.0 / 2.0 + 1e-4;
        for (i, p) in positions.iter().enumerate() {
            let error = (g.position(i as u32) - Vec3::from(*p)).abs();
            assert!(error.cmple(half_step).all(), "vertex {i}: {error}");
        }
        assert_eq!(g.position(0).x, -500.0);
        assert_eq!(g.position(1).to_array(), [500.0, 80.0, 3.0 - 10.0]);
        assert_eq!(g.positions().count(), 4);
        // Flat on one axis, or nothing at all, is no division by zero.
        let flat = PickGeometry::new(&[[1.0, 2.0, 5.0], [3.0, 2.0, 5.0]], None, None);
        assert_eq!(flat.position(1).to_array(), [3.0, 2.0, 5.0]);
        assert_eq!(PickGeometry::new(&[], None, None).positions().count(), 0);
    }
}
