//! BIM components, engine-free: the spatial tree a BIM tileset ships (`bim.json`, from
//! `citytwin tile bim`), searching it, and the component tools (select, hide, isolate, x-ray,
//! storey filter, colour by a property) as one feature state per component, keyed by GlobalId,
//! which the viewer applies to every tile that draws the component; section planes; measuring.

mod measure;
mod section;
mod tools;
mod tree;

use glam::{DMat4, DVec3};

use crate::geo::{Cartographic, LocalFrame};

pub use measure::{Measurement, measure};
pub use section::{MAX_SECTIONS, SectionPlane};
pub use tools::{Colouring, ComponentStates, ComponentTools};
pub use tree::{MAX_TREE_NODES, SpatialTree, TreeError, TreeNode};

/// Where a model's origin stands and where its +Y axis points.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    pub lon_deg: f64,
    pub lat_deg: f64,
    pub height_m: f64,
    /// Clockwise from north.
    pub heading_deg: f64,
}

impl Placement {
    /// ECEF from the model frame (z up; +Y turned `heading_deg` clockwise from north).
    pub fn ecef_from_model(&self) -> DMat4 {
        let frame = LocalFrame::new(Cartographic::from_degrees(self.lon_deg, self.lat_deg, self.height_m));
        frame.ecef_from_enu * DMat4::from_rotation_z(-self.heading_deg.to_radians())
    }

    /// The ECEF position of a model-frame point.
    pub fn ecef_of(&self, model_m: DVec3) -> DVec3 {
        self.ecef_from_model().transform_point3(model_m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_turns_the_model_clockwise_from_north() {
        let p = Placement { lon_deg: 0.0, lat_deg: 0.0, height_m: 0.0, heading_deg: 90.0 };
        // At (0, 0) east is ECEF +Y and north +Z: the model's +Y (north at heading 0) faces east.
        let d = p.ecef_from_model().transform_vector3(DVec3::Y);
        assert!((d - DVec3::Y).length() < 1e-9, "{d}");
    }
}
