//! Implicit tiling (3D Tiles 1.1): quadtree/octree coordinates, subtree files and availability.
//! Tiles are made lazily by the runtime, only where the traversal goes.

mod coord;
mod subtree;

pub use coord::{ImplicitCoord, morton_index};
pub use subtree::{Availability, Subtree, parse_subtree};

use glam::{DMat3, DVec3};

use super::TilesError;
use super::bounds::Volume;
use super::model::SubdivisionScheme;

/// Bits per subdivision: 2 for quadtrees, 3 for octrees.
pub fn branching(scheme: SubdivisionScheme) -> u64 {
    match scheme {
        SubdivisionScheme::Quadtree => 4,
        SubdivisionScheme::Octree => 8,
    }
}

/// Largest `subtreeLevels` accepted: a subtree's bitstreams then stay under 64 MiB.
pub const MAX_SUBTREE_LEVELS: [u32; 2] = [14, 9];
/// Largest `availableLevels` accepted (coordinates stay exact in f64 and u64).
pub const MAX_AVAILABLE_LEVELS: u32 = 48;

/// Checks `subtreeLevels` and `availableLevels` against what can be held in memory.
pub fn check_levels(scheme: SubdivisionScheme, subtree_levels: u32, available_levels: u32) -> Result<(), TilesError> {
    let max = MAX_SUBTREE_LEVELS[matches!(scheme, SubdivisionScheme::Octree) as usize];
    if subtree_levels == 0 || subtree_levels > max {
        return Err(TilesError::invalid("implicitTiling", format!("subtreeLevels {subtree_levels} outside 1..={max}")));
    }
    if available_levels == 0 || available_levels > MAX_AVAILABLE_LEVELS {
        return Err(TilesError::invalid(
            "implicitTiling",
            format!("availableLevels {available_levels} outside 1..={MAX_AVAILABLE_LEVELS}"),
        ));
    }
    Ok(())
}

/// The bounding volume of an implicit tile, by subdividing the root volume.
/// Returns `None` for sphere roots, which implicit tiling does not allow.
pub fn subdivide(root: &Volume, scheme: SubdivisionScheme, c: ImplicitCoord) -> Option<Volume> {
    let n = (1u64 << c.level) as f64;
    match *root {
        Volume::Box { center, half_axes } => {
            // Child centre in the root's unit cube [-1, 1]^3, then scaled back.
            let unit = |i: u64| (2.0 * i as f64 + 1.0) / n - 1.0;
            let (ux, uy) = (unit(c.x), unit(c.y));
            let (uz, sz) = match scheme {
                SubdivisionScheme::Quadtree => (0.0, 1.0),
                SubdivisionScheme::Octree => (unit(c.z), 1.0 / n),
            };
            Some(Volume::Box {
                center: center + half_axes * DVec3::new(ux, uy, uz),
                half_axes: DMat3::from_cols(half_axes.x_axis / n, half_axes.y_axis / n, half_axes.z_axis * sz),
            })
        }
        Volume::Region(r) => {
            let z = matches!(scheme, SubdivisionScheme::Octree).then_some(c.z);
            Some(Volume::Region(r.child(c.x, c.y, z, n)))
        }
        Volume::Sphere { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_subdivision_matches_the_sample_layout() {
        // SparseImplicitQuadtree's root: a unit square, 0.0125 thick.
        let root = Volume::Box {
            center: DVec3::new(0.5, 0.5, 0.00625),
            half_axes: DMat3::from_diagonal(DVec3::new(0.5, 0.5, 0.00625)),
        };
        let c = ImplicitCoord { level: 2, x: 3, y: 0, z: 0 };
        let Some(Volume::Box { center, half_axes }) = subdivide(&root, SubdivisionScheme::Quadtree, c) else {
            panic!("box expected")
        };
        assert!((center - DVec3::new(0.875, 0.125, 0.00625)).length() < 1e-12);
        assert!((half_axes.x_axis.x - 0.125).abs() < 1e-12 && (half_axes.z_axis.z - 0.00625).abs() < 1e-12);
        let Some(Volume::Box { center, half_axes }) =
            subdivide(&root, SubdivisionScheme::Octree, ImplicitCoord { level: 1, x: 1, y: 1, z: 1 })
        else {
            panic!()
        };
        assert!((center.z - 0.009375).abs() < 1e-12 && (half_axes.z_axis.z - 0.003125).abs() < 1e-12);
        assert!(
            subdivide(&Volume::Sphere { center: DVec3::ZERO, radius: 1.0 }, SubdivisionScheme::Quadtree, c).is_none()
        );
    }
}
