//! Section planes: a plane in the model's frame (z up, metres) that cuts away what lies on the
//! side its normal points to. Axis-aligned or through a picked face; moved along its normal by
//! its offset. The tile shader gets each as `(n, w)` in render space and discards fragments with
//! `n·p + w > 0`; back faces seen through the cut are filled as caps.

use glam::{DMat4, DVec3, DVec4};

/// The most section planes at once (the shader's uniform holds this many).
pub const MAX_SECTIONS: usize = 4;

/// One section plane: `normal · p = offset_m` in the model frame; the normal's side is cut away.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectionPlane {
    pub normal: DVec3,
    pub offset_m: f64,
}

impl SectionPlane {
    /// The plane at `offset_m` along a model axis (`x`, `y`, `z`, or `-x`… to cut the other side).
    pub fn axis(axis: &str, offset_m: f64) -> Option<Self> {
        let (sign, name) = axis.strip_prefix('-').map_or((1.0, axis), |a| (-1.0, a));
        let normal = match name {
            "x" => DVec3::X,
            "y" => DVec3::Y,
            "z" => DVec3::Z,
            _ => return None,
        } * sign;
        Some(Self { normal, offset_m: offset_m * sign })
    }

    /// The plane through `point` with the face normal `normal` (cutting what is in front of it).
    pub fn through(point: DVec3, normal: DVec3) -> Option<Self> {
        let normal = normal.try_normalize()?;
        Some(Self { normal, offset_m: normal.dot(point) })
    }

    /// The same plane facing the other way (cutting the other side).
    pub fn flipped(self) -> Self {
        Self { normal: -self.normal, offset_m: -self.offset_m }
    }

    /// Whether a model-frame point is kept.
    pub fn keeps(&self, p: DVec3) -> bool {
        self.normal.dot(p) <= self.offset_m
    }

    /// The plane in another frame, `(n, w)` with `n·p + w > 0` on the cut side: `to_from_model` is
    /// a rigid transform (the render world from the model frame).
    pub fn in_frame(&self, to_from_model: &DMat4) -> DVec4 {
        let n = to_from_model.transform_vector3(self.normal).normalize();
        let p = to_from_model.transform_point3(self.normal * self.offset_m);
        n.extend(-n.dot(p))
    }

    /// The offsets the plane can move through to cut a box `lo`..`hi`, from all kept to all cut.
    pub fn range(&self, lo: DVec3, hi: DVec3) -> (f64, f64) {
        let corners = (0..8).map(|i| {
            DVec3::new(
                if i & 1 == 0 { lo.x } else { hi.x },
                if i & 2 == 0 { lo.y } else { hi.y },
                if i & 4 == 0 { lo.z } else { hi.z },
            )
        });
        corners.map(|c| self.normal.dot(c)).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), d| (a.min(d), b.max(d)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plane_cuts_the_side_its_normal_points_to_in_any_frame() {
        let z = SectionPlane::axis("z", 3.0).unwrap();
        assert!(z.keeps(DVec3::new(5.0, 5.0, 2.9)) && !z.keeps(DVec3::new(0.0, 0.0, 3.1)));
        let below = SectionPlane::axis("-z", 3.0).unwrap();
        assert!(!below.keeps(DVec3::new(5.0, 5.0, 2.9)) && below.keeps(DVec3::new(0.0, 0.0, 3.1)));
        assert_eq!(z.flipped(), below);
        assert_eq!(SectionPlane::axis("w", 1.0), None);
        // In a frame turned and moved: the same points on the same sides.
        let world_from_model = DMat4::from_translation(DVec3::new(100.0, -20.0, 7.0)) * DMat4::from_rotation_x(-1.2);
        let plane = z.in_frame(&world_from_model);
        for p in [DVec3::new(5.0, 5.0, 2.9), DVec3::new(0.0, 0.0, 3.1), DVec3::new(-40.0, 9.0, 2.0)] {
            let w = world_from_model.transform_point3(p);
            assert_eq!(plane.truncate().dot(w) + plane.w > 0.0, !z.keeps(p), "{p}");
        }
        // Through a face: a wall's face at x = 4 facing +x.
        let face = SectionPlane::through(DVec3::new(4.0, 1.0, 1.0), DVec3::new(2.0, 0.0, 0.0)).unwrap();
        assert_eq!(face, SectionPlane::axis("x", 4.0).unwrap());
        assert_eq!(SectionPlane::through(DVec3::ZERO, DVec3::ZERO), None);
        assert_eq!(z.range(DVec3::new(0.0, 0.0, -1.0), DVec3::new(9.0, 20.0, 8.0)), (-1.0, 8.0));
    }
}
