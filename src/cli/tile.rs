//! `citytwin tile`: an OpenStreetMap extract, a procedural city or a BIM model to a 3D Tiles 1.1
//! directory.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::tiler::bim::{self, Placement};
use crate::tiler::{self, City, TileOptions, TileReport};

#[derive(Debug, Subcommand)]
pub enum TileCommand {
    /// Tile the buildings and roads of an OpenStreetMap PBF extract.
    Osm {
        /// The `.osm.pbf` extract.
        pbf: PathBuf,
        /// Ground heights: a GeoTIFF DEM in EPSG:4326 (SRTM, Copernicus GLO-30, …); else the ground is flat.
        #[arg(long)]
        dem: Option<PathBuf>,
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
        /// Flat ground instead of the relief (a river valley with levees, hills).
        #[arg(long)]
        flat: bool,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Tile a BIM model: a glb with IFC metadata (`extras.ifc` on one node per IfcProduct), or an
    /// IFC file (converted with IfcOpenShell, which needs Python 3 with `ifcopenshell`).
    Bim {
        /// The model: `.glb` or `.ifc`.
        model: PathBuf,
        /// Output directory (its `tileset.json` is the entry point).
        #[arg(short, long)]
        out: PathBuf,
        /// Where the model's origin stands, `lon,lat,height` (degrees, metres); else the model's
        /// georeference (IfcSite).
        #[arg(long, value_parser = parse_at)]
        at: Option<Placement>,
        /// Clockwise from north to the model's +Y axis; else the model's (TrueNorth), or 0.
        #[arg(long)]
        heading: Option<f64>,
    },
}

fn parse_at(s: &str) -> Result<Placement, String> {
    let v: Vec<f64> =
        s.split(',').map(|x| x.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    match v[..] {
        [lon_deg, lat_deg, height_m]
            if v.iter().all(|x| x.is_finite()) && lon_deg.abs() <= 180.0 && lat_deg.abs() <= 90.0 =>
        {
            Ok(Placement { lon_deg, lat_deg, height_m, heading_deg: 0.0 })
        }
        _ => Err("expected lon,lat,height in degrees and metres".into()),
    }
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
pub fn run(cmd: &TileCommand) -> anyhow::Result<()> {
    let (city, out) = match cmd {
        TileCommand::Bim { model, out, at, heading } => return tile_bim(model, out, *at, *heading),
        TileCommand::Osm { pbf, dem, out } => {
            let mut city = tiler::osm::read_pbf(pbf)?;
            if let Some(path) = dem {
                let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                let (dem, warnings) = crate::terrain::geotiff::read_geotiff(&bytes)
                    .with_context(|| format!("reading {}", path.display()))?;
                city.warnings.extend(warnings);
                city.set_dem(&dem);
            }
            (city, out)
        }
        TileCommand::Procedural { buildings, seed, flat, out } => {
            anyhow::ensure!(*buildings > 0, "--buildings must be at least 1");
            let new = tiler::procedural::ProceduralOptions::new(*buildings, *seed);
            (tiler::procedural::generate(&tiler::procedural::ProceduralOptions { terrain: !*flat, ..new }), out)
        }
    };
    write(&city, out).map(|_| ())
}

fn tile_bim(
    model: &std::path::Path,
    out: &std::path::Path,
    at: Option<Placement>,
    heading: Option<f64>,
) -> anyhow::Result<()> {
    let is_ifc = model.extension().is_some_and(|e| e.eq_ignore_ascii_case("ifc"));
    let glb = if is_ifc {
        super::ifc::convert(model)?
    } else {
        std::fs::read(model).with_context(|| format!("reading {}", model.display()))?
    };
    let (r, p) = bim::tile_bim(&glb, out, at, heading).with_context(|| format!("tiling {}", model.display()))?;
    println!(
        "{} products ({} with geometry, {} storeys) → {} tiles, {} triangles, {:.2} MB, at {:.6}, {:.6}, {:.2} m, heading {:.1}° → {}",
        r.products,
        r.components,
        r.storeys,
        r.tiles,
        r.triangles,
        r.bytes as f64 / 1e6,
        p.lon_deg,
        p.lat_deg,
        p.height_m,
        p.heading_deg,
        out.join("tileset.json").display()
    );
    if r.columns_left_out > 0 {
        eprintln!("warning: {} property columns past {} a tile were left out", r.columns_left_out, bim::MAX_COLUMNS);
    }
    Ok(())
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
