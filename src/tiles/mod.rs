//! The engine-free OGC 3D Tiles 1.0/1.1 runtime: model, content decoders, implicit tiling,
//! selection, request scheduling and the cache. Sans-IO: the engine fetches, the core decides.

pub mod bounds;
pub mod content;
mod error;
pub mod gzip;
pub mod implicit;
pub mod inspect;
pub mod model;
pub mod prepare;
mod runtime;
pub mod uri;
pub mod view;

pub use error::{LoadError, TilesError, Warning, Warnings};
pub use runtime::{
    LoadPriorityGroup, Priority, RequestId, RequestKind, TileError, TileInfo, TileKey, TileRequest, TileSelectionState,
    Tileset, TilesetOptions, TilesetStats, UpAxis, UpdateResult, update_shared,
};
pub use view::{Projection, ViewState};
