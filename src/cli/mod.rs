//! Command-line entry points (feature `cli`): argument parsing and the blocking I/O they need.

pub mod fetch;
mod ifc;
pub mod inspect;
pub mod tile;

use clap::Subcommand;

/// The commands besides the viewer (the `citytwin` binary composes them with the viewer's options;
/// this module never depends on the viewer).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk a tileset (with its external tilesets and implicit subtrees), decode every content,
    /// and print tree statistics and validation warnings. Exits 1 when anything failed to load.
    Inspect(inspect::InspectArgs),
    /// Turn a city into streaming 3D Tiles 1.1: buildings with feature IDs and properties in a
    /// quadtree with levels of detail, ground tiles with roads, and the road graph; or a BIM
    /// model from the building down to its components.
    #[command(subcommand)]
    Tile(tile::TileCommand),
}
