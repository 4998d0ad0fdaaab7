//! `citytwin tile`: an OpenStreetMap extract or a procedural city to a 3D Tiles 1.1 directory.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::tiler::{self, City, TileOptions, TileReport};

#[derive(Debug, Subcommand)]
pub enum TileCommand {
    /// Tile the buildings and roads of an OpenStreetMap PBF extract.
    Osm {
        /// The `.osm.pbf` extract.
        pbf: PathBuf,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Tile a deterministic procedural city.
    Procedural {
        /// How many buildings.
        #[arg(long, default_value_t = 20_000)]
        buildings: usize,
        /// The seed: the same seed gives the same city.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        out: OutArgs,
    },
}

#[derive(Debug, Args)]
pub struct OutArgs {
    /// Output directory (its `tileset.json` is the entry point).
    #[arg(short, long)]
    pub out: PathBuf,
    /// Split tiles holding more buildings than this.
    #[arg(long, default_value_t = 1000)]
    pub max_buildings_per_tile: usize,
}

/// Runs the command and prints a summary.
pub fn run(cmd: &TileCommand) -> anyhow::Result<TileReport> {
    let (city, out) = match cmd {
        TileCommand::Osm { pbf, out } => (tiler::osm::read_pbf(pbf)?, out),
        TileCommand::Procedural { buildings, seed, out } => {
            anyhow::ensure!(*buildings > 0, "--buildings must be at least 1");
            (tiler::procedural::generate(&tiler::procedural::ProceduralOptions::new(*buildings, *seed)), out)
        }
    };
    write(&city, out)
}

fn write(city: &City, out: &OutArgs) -> anyhow::Result<TileReport> {
    for w in city.warnings.iter().take(20) {
        eprintln!("warning: {w}");
    }
    if city.warnings.len() > 20 {
        eprintln!("warning: … {} more", city.warnings.len() - 20);
    }
    let options = TileOptions { max_buildings_per_tile: out.max_buildings_per_tile, ..Default::default() };
    let report =
        tiler::write_city(city, &out.out, &options).with_context(|| format!("writing {}", out.out.display()))?;
    println!(
        "{} buildings → {} tiles ({} leaves, {} levels), {} triangles, {:.1} MB, {} road nodes / {} edges, {:.1} s → {}",
        report.buildings,
        report.tiles,
        report.leaf_tiles,
        report.max_level + 1,
        report.triangles,
        report.bytes as f64 / 1e6,
        report.road_nodes,
        report.road_edges,
        report.seconds,
        out.out.join("tileset.json").display()
    );
    if report.skipped_buildings > 0 {
        eprintln!("warning: {} buildings could not be triangulated and were left out", report.skipped_buildings);
    }
    Ok(report)
}
