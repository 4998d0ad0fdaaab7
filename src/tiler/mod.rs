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
pub mod relief;
mod rings;

pub use crate::protocol::roads::{self, NodePos, RoadEdge, RoadGraph, RoadNode, RoadWay, build_graph};
pub use building::{Building, BuildingTags};
pub use output::{TileOptions, TileReport, write_city};

use crate::drill::raster::{Raster, height_or_flat};
use crate::geo::{Cartographic, LocalFrame};
use crate::terrain::Dem;
use crate::tiles::Warnings;

/// A city ready to tile: buildings and roads in the east-north-up frame at `origin`.
#[derive(Debug, Clone)]
pub struct City {
    pub origin: Cartographic,
    pub buildings: Vec<Building>,
    pub roads: RoadGraph,
    /// Ground heights above the ellipsoid (local metres); `None` is flat ground on the ellipsoid.
    pub ground: Option<Raster>,
    /// Rivers drawn on the ground.
    pub waterways: Vec<Waterway>,
    pub warnings: Warnings,
}

/// A river's surface to draw on the ground: a ribbon along its centreline.
#[derive(Debug, Clone, PartialEq)]
pub struct Waterway {
    pub line_m: Vec<[f64; 2]>,
    pub half_width_m: f64,
    /// The surface's height above the ellipsoid at each point of the line.
    pub level_m: Vec<f64>,
}

/// Ground around the city's buildings and roads, each side.
pub const GROUND_MARGIN_M: f64 = 100.0;

impl City {
    /// The ground's height above the ellipsoid at a local point.
    pub fn ground_m(&self, xy_m: [f64; 2]) -> f64 {
        height_or_flat(self.ground.as_ref(), xy_m)
    }

    /// The square the ground covers: the buildings and the roads with [`GROUND_MARGIN_M`] around them.
    pub fn extent_m(&self) -> ([f64; 2], [f64; 2]) {
        let points = self.buildings.iter().flat_map(|b| b.outer.iter().copied());
        let nodes = self.roads.nodes.iter().map(|n| [n.x_m, n.y_m]);
        let (lo, hi) = points.chain(nodes).fold(([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]), |(lo, hi), p| {
            ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])])
        });
        if lo[0] > hi[0] {
            return ([-GROUND_MARGIN_M; 2], [GROUND_MARGIN_M; 2]);
        }
        let m = GROUND_MARGIN_M;
        ([lo[0] - m, lo[1] - m], [hi[0] + m, hi[1] + m])
    }

    /// Puts the city on a DEM: the ground raster over the city's extent at the DEM's resolution (at least 2 m),
    /// flat where the DEM has no data; then stands the city on it.
    pub fn set_dem(&mut self, dem: &Dem) {
        let (lo, hi) = self.extent_m();
        let frame = LocalFrame::new(self.origin);
        let grid = dem.local_grid(lo, hi, 2.0);
        let mut ground = dem.to_local(&frame, grid, f32::NAN);
        let missing = ground.values.iter().filter(|h| h.is_nan()).count();
        if missing == ground.values.len() {
            self.warnings.push("dem", "the DEM does not cover the city: the ground is flat");
            return;
        }
        if missing > 0 {
            let share = 100.0 * missing as f64 / ground.values.len() as f64;
            self.warnings.push("dem", format!("{share:.1} % of the city's ground has no height: flat (0 m) there"));
            ground.values.iter_mut().filter(|h| h.is_nan()).for_each(|h| *h = 0.0);
        }
        self.ground = Some(ground);
        self.stand_on_ground();
    }

    /// Stands every building on the lowest ground under its footprint (no building floats on a slope) and gives
    /// every road node the ground's height.
    pub fn stand_on_ground(&mut self) {
        let frame = LocalFrame::new(self.origin);
        let ground = |p: [f64; 2]| self.ground_m(p);
        let bases: Vec<f64> = self
            .buildings
            .iter()
            .map(|b| {
                let c = b.center();
                let lowest = b.outer.iter().map(|&p| ground(p)).fold(ground(c), f64::min);
                frame.surface_z(c[0], c[1]) + lowest
            })
            .collect();
        let heights: Vec<f64> = self.roads.nodes.iter().map(|n| ground([n.x_m, n.y_m])).collect();
        for (b, base) in self.buildings.iter_mut().zip(bases) {
            b.base_z_m = base;
        }
        for (n, h) in self.roads.nodes.iter_mut().zip(heights) {
            n.height_m = h;
        }
    }
}
