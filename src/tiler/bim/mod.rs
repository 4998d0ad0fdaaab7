//! The BIM tiler: a model with IFC metadata (glb, one node per IfcProduct) to a 3D Tiles 1.1
//! tileset that streams from the whole building down to one component, placed on Earth from the
//! model's georeference or the caller's placement.

mod levels;
pub mod model;
mod tileset;

use std::path::Path;

pub use crate::bim::Placement;
pub use model::{BimModel, Georeference, Product, StoreyRef};
pub use tileset::{MAX_COLUMNS, SPATIAL_TREE_FILE};

impl From<Georeference> for Placement {
    fn from(g: Georeference) -> Self {
        Self { lon_deg: g.lon_deg, lat_deg: g.lat_deg, height_m: g.height_m, heading_deg: g.heading_deg }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BimError {
    #[error("not a readable glTF model: {0}")]
    Gltf(String),
    #[error("the model is too large: {0}")]
    TooLarge(String),
    #[error("the model has no component with geometry (no node with `extras.ifc` and a mesh)")]
    Empty,
    #[error("the model has no georeference (IfcSite RefLatitude/RefLongitude): place it with --at lon,lat,height")]
    NoPlacement,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What was written.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BimReport {
    /// IfcProducts in the model, and those with geometry (each one feature).
    pub products: usize,
    pub components: usize,
    pub storeys: usize,
    pub tiles: usize,
    pub triangles: u64,
    pub bytes: u64,
    /// Property columns beyond [`MAX_COLUMNS`] in some tile, left out.
    pub columns_left_out: usize,
}

/// Tiles the glb `bytes` into `dir`, at `placement` or else where the model's georeference says;
/// `heading_deg` (when given) turns the model whichever placement is used.
pub fn tile_bim(
    bytes: &[u8],
    dir: &Path,
    placement: Option<Placement>,
    heading_deg: Option<f64>,
) -> Result<(BimReport, Placement), BimError> {
    let model = BimModel::from_glb(bytes)?;
    if model.with_geometry().next().is_none() {
        return Err(BimError::Empty);
    }
    let mut placement = placement.or(model.georeference.map(Placement::from)).ok_or(BimError::NoPlacement)?;
    if let Some(h) = heading_deg {
        placement.heading_deg = h;
    }
    Ok((write_model(&model, placement, dir)?, placement))
}

/// Tiles a model already read into `dir` at `placement`.
pub fn write_model(model: &BimModel, placement: Placement, dir: &Path) -> Result<BimReport, BimError> {
    std::fs::create_dir_all(dir)?;
    tileset::write(model, placement, dir)
}
