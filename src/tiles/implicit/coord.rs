//! Implicit tile coordinates and their Morton (Z-order) indices.

use crate::tiles::model::SubdivisionScheme;

/// A tile of an implicit tree: level and x, y (and z for octrees) at that level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImplicitCoord {
    pub level: u32,
    pub x: u64,
    pub y: u64,
    pub z: u64,
}

impl ImplicitCoord {
    pub const ROOT: ImplicitCoord = ImplicitCoord { level: 0, x: 0, y: 0, z: 0 };

    /// The children of this tile, in Morton order.
    pub fn children(&self, scheme: SubdivisionScheme) -> impl Iterator<Item = ImplicitCoord> + '_ {
        let n = super::branching(scheme);
        (0..n).map(move |i| ImplicitCoord {
            level: self.level + 1,
            x: 2 * self.x + (i & 1),
            y: 2 * self.y + ((i >> 1) & 1),
            z: 2 * self.z + ((i >> 2) & 1),
        })
    }

    /// This tile's coordinates relative to an ancestor (`self` must descend from `ancestor`).
    pub fn relative_to(&self, ancestor: &ImplicitCoord) -> ImplicitCoord {
        let d = self.level - ancestor.level;
        ImplicitCoord {
            level: d,
            x: self.x - (ancestor.x << d),
            y: self.y - (ancestor.y << d),
            z: self.z - (ancestor.z << d),
        }
    }
}

fn spread(v: u64, stride: u32) -> u64 {
    let mut out = 0u64;
    for bit in 0..(64 / stride) {
        out |= ((v >> bit) & 1) << (bit * stride);
    }
    out
}

/// The Morton index of `(x, y[, z])` at one level.
pub fn morton_index(scheme: SubdivisionScheme, c: &ImplicitCoord) -> u64 {
    match scheme {
        SubdivisionScheme::Quadtree => spread(c.x, 2) | (spread(c.y, 2) << 1),
        SubdivisionScheme::Octree => spread(c.x, 3) | (spread(c.y, 3) << 1) | (spread(c.z, 3) << 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morton_interleaves_bits() {
        let q = |x, y| morton_index(SubdivisionScheme::Quadtree, &ImplicitCoord { level: 3, x, y, z: 0 });
        assert_eq!(q(0, 0), 0);
        assert_eq!(q(1, 0), 1);
        assert_eq!(q(0, 1), 2);
        assert_eq!(q(3, 3), 15);
        assert_eq!(q(5, 2), 0b011001);
        let o = morton_index(SubdivisionScheme::Octree, &ImplicitCoord { level: 1, x: 1, y: 0, z: 1 });
        assert_eq!(o, 0b101);
    }

    #[test]
    fn children_are_in_morton_order() {
        let c = ImplicitCoord { level: 1, x: 1, y: 0, z: 0 };
        let kids: Vec<_> = c.children(SubdivisionScheme::Quadtree).collect();
        assert_eq!(kids.len(), 4);
        for (i, k) in kids.iter().enumerate() {
            assert_eq!(morton_index(SubdivisionScheme::Quadtree, &k.relative_to(&c)), i as u64);
        }
        assert_eq!(c.children(SubdivisionScheme::Octree).count(), 8);
    }
}
