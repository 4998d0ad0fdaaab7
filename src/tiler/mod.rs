//! The city tiler: OpenStreetMap extracts and procedural cities to streaming 3D Tiles 1.1
//! (glb with `EXT_mesh_features` and `EXT_structural_metadata`, in a quadtree with LODs).

pub mod bim;
mod building;
pub mod demo;
mod glb;
mod ground;
pub mod osm;
mod output;
pub mod procedural;
mod quadtree;
mod rings;

pub use crate::protocol::roads::{self, NodePos, RoadEdge, RoadGraph, RoadNode, RoadWay, build_graph};
pub use building::{Building, BuildingTags};
pub use output::{TileOptions, TileReport, write_city};

use crate::geo::Cartographic;
use crate::tiles::Warnings;

/// A city ready to tile: buildings and roads in the east-north-up frame at `origin`.
#[derive(Debug, Clone)]
pub struct City {
    pub origin: Cartographic,
    pub buildings: Vec<Building>,
    pub roads: RoadGraph,
    pub warnings: Warnings,
}
