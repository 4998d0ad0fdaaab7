//! Command-line entry points (feature `cli`): argument parsing and the blocking I/O they need.

pub mod fetch;
pub mod inspect;
pub mod tile;

use clap::{Parser, Subcommand};

/// citytwin: a 3D digital twin of a whole city. Without a command it opens the viewer.
#[derive(Debug, Parser)]
#[command(name = "citytwin", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[cfg(feature = "viewer")]
    #[command(flatten)]
    pub view: crate::viewer::ViewerArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk a tileset (with its external tilesets and implicit subtrees), decode every content,
    /// and print tree statistics and validation warnings. Exits 1 when anything failed to load.
    Inspect(inspect::InspectArgs),
    /// Turn a city into streaming 3D Tiles 1.1: buildings with feature IDs and properties in a
    /// quadtree with levels of detail, a ground tile with roads, and the road graph.
    #[command(subcommand)]
    Tile(tile::TileCommand),
}
