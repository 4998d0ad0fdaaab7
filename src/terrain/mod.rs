//! Ground heights: a DEM as a geographic raster (heights above the ellipsoid on a longitude/latitude grid), read
//! from and written as GeoTIFF, and brought into a city's local frame, where the ground tiles, the buildings, the
//! road graph and the flood all stand on the same raster.

pub mod geotiff;

use crate::drill::raster::{Grid, Raster};
use crate::geo::LocalFrame;

/// A city tileset's DEM, beside its `tileset.json` (the tiler writes it when the city has relief).
pub const DEM_FILE: &str = "dem.tif";
/// The most cells a DEM may have (a 1-arc-second SRTM tile is 3601², 13 M).
pub const MAX_DEM_CELLS: usize = 64 * 1024 * 1024;
/// The most cells a DEM brought into a local frame may have.
pub const MAX_LOCAL_CELLS: usize = 4096 * 4096;

/// Heights on a regular longitude/latitude grid, row 0 the northernmost (GeoTIFF's order). Each value is the
/// height of its pixel's centre (GeoTIFF's "pixel is area").
#[derive(Debug, Clone, PartialEq)]
pub struct Dem {
    pub cols: usize,
    pub rows: usize,
    /// The west edge of column 0 and the north edge of row 0.
    pub west_deg: f64,
    pub north_deg: f64,
    /// A pixel's width (longitude) and height (latitude), both positive.
    pub step_deg: [f64; 2],
    /// Metres above the ellipsoid, row-major from the north-west; `NaN` where the source had no data.
    pub heights_m: Vec<f32>,
}

impl Dem {
    /// The height at a point, bilinear between pixel centres (clamped at the edges); `None` outside the raster or
    /// where a neighbouring pixel has no data.
    pub fn height_at(&self, lon_deg: f64, lat_deg: f64) -> Option<f64> {
        if self.cols == 0 || self.rows == 0 {
            return None;
        }
        let fx = (lon_deg - self.west_deg) / self.step_deg[0];
        let fy = (self.north_deg - lat_deg) / self.step_deg[1];
        if !(fx >= 0.0 && fy >= 0.0 && fx <= self.cols as f64 && fy <= self.rows as f64) {
            return None;
        }
        let fx = (fx - 0.5).clamp(0.0, (self.cols - 1) as f64);
        let fy = (fy - 0.5).clamp(0.0, (self.rows - 1) as f64);
        let (c0, r0) = (fx.floor() as usize, fy.floor() as usize);
        let (c1, r1) = ((c0 + 1).min(self.cols - 1), (r0 + 1).min(self.rows - 1));
        let (tx, ty) = (fx - c0 as f64, fy - r0 as f64);
        let v = |c: usize, r: usize| self.heights_m[r * self.cols + c] as f64;
        let north = v(c0, r0) * (1.0 - tx) + v(c1, r0) * tx;
        let south = v(c0, r1) * (1.0 - tx) + v(c1, r1) * tx;
        let h = north * (1.0 - ty) + south * ty;
        h.is_finite().then_some(h)
    }

    /// Ground heights on a local grid: each cell centre's height, or `outside_m` where the DEM has none.
    pub fn to_local(&self, frame: &LocalFrame, grid: Grid, outside_m: f32) -> Raster {
        let mut values = Vec::with_capacity(grid.len());
        for row in 0..grid.rows {
            for col in 0..grid.cols {
                let [x, y] = grid.centre_m(col, row);
                let c = frame.to_geodetic(x, y);
                let h = self.height_at(c.lon_rad.to_degrees(), c.lat_rad.to_degrees());
                values.push(h.map_or(outside_m, |h| h as f32));
            }
        }
        Raster { grid, values }
    }

    /// A local raster as a DEM: the geographic grid over its extent with about the same cell size.
    pub fn from_local(frame: &LocalFrame, local: &Raster) -> Self {
        let (lo, hi) = local.grid.extent_m();
        let corners = [[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]].map(|[x, y]| {
            let c = frame.to_geodetic(x, y);
            [c.lon_rad.to_degrees(), c.lat_rad.to_degrees()]
        });
        let west = corners.iter().map(|c| c[0]).fold(f64::INFINITY, f64::min);
        let east = corners.iter().map(|c| c[0]).fold(f64::NEG_INFINITY, f64::max);
        let south = corners.iter().map(|c| c[1]).fold(f64::INFINITY, f64::min);
        let north = corners.iter().map(|c| c[1]).fold(f64::NEG_INFINITY, f64::max);
        let cols = local.grid.cols.max(1);
        let rows = local.grid.rows.max(1);
        let step_deg = [(east - west) / cols as f64, (north - south) / rows as f64];
        let mut heights_m = Vec::with_capacity(cols * rows);
        for r in 0..rows {
            for c in 0..cols {
                let lon = west + (c as f64 + 0.5) * step_deg[0];
                let lat = north - (r as f64 + 0.5) * step_deg[1];
                let p = frame.to_local(lon, lat, 0.0);
                heights_m.push(local.sample([p.x, p.y]).unwrap_or(0.0) as f32);
            }
        }
        Self { cols, rows, west_deg: west, north_deg: north, step_deg, heights_m }
    }

    /// A pixel's height in metres (north to south), about its size on the ground.
    pub fn cell_m(&self) -> f64 {
        self.step_deg[1].to_radians() * 6_371_000.0
    }

    /// The local grid covering `[lo, hi]` at about this DEM's resolution (no finer than `finest_m`), within
    /// [`MAX_LOCAL_CELLS`].
    pub fn local_grid(&self, lo: [f64; 2], hi: [f64; 2], finest_m: f64) -> Grid {
        let native_m = self.cell_m();
        let (w, h) = ((hi[0] - lo[0]).max(1.0), (hi[1] - lo[1]).max(1.0));
        let fit_m = (w * h / MAX_LOCAL_CELLS as f64).sqrt();
        let cell_m = native_m.max(finest_m).max(fit_m);
        Grid { cols: (w / cell_m).ceil() as usize, rows: (h / cell_m).ceil() as usize, cell_m, origin_m: lo }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Cartographic;

    fn frame() -> LocalFrame {
        LocalFrame::new(Cartographic::from_degrees(114.0579, 22.5431, 0.0))
    }

    #[test]
    fn heights_interpolate_between_pixel_centres_and_stop_at_the_edge() {
        // 2 × 2 pixels of 0.01°: centres at (0.005, -0.005) …
        let dem = Dem {
            cols: 2,
            rows: 2,
            west_deg: 0.0,
            north_deg: 0.0,
            step_deg: [0.01, 0.01],
            heights_m: vec![0.0, 10.0, 20.0, 30.0],
        };
        assert_eq!(dem.height_at(0.005, -0.005), Some(0.0));
        assert_eq!(dem.height_at(0.0075, -0.005), Some(2.5), "a quarter of the way to the next centre");
        assert_eq!(dem.height_at(0.01, -0.01), Some(15.0));
        assert_eq!(dem.height_at(0.0, 0.0), Some(0.0), "clamped inside the outer half pixel");
        assert_eq!(dem.height_at(0.021, -0.01), None);
        let holed = Dem { heights_m: vec![0.0, f32::NAN, 20.0, 30.0], ..dem };
        assert_eq!(holed.height_at(0.0075, -0.005), None, "no data is not a height");
    }

    #[test]
    fn a_local_raster_survives_the_trip_through_geographic_coordinates() {
        let grid = Grid { cols: 200, rows: 150, cell_m: 10.0, origin_m: [-1000.0, -700.0] };
        let slope = |x: f64, y: f64| 5.0 + 0.01 * x - 0.02 * y;
        let local = Raster::from_fn(grid, slope);
        let dem = Dem::from_local(&frame(), &local);
        let back = dem.to_local(&frame(), grid, -99.0);
        for (row, col) in [(10, 10), (75, 100), (140, 190)] {
            let [x, y] = grid.centre_m(col, row);
            let h = back.at(col, row) as f64;
            assert!((h - slope(x, y)).abs() < 0.05, "({x}, {y}): {h} vs {}", slope(x, y));
        }
        let g = dem.local_grid([-1000.0, -700.0], [1000.0, 800.0], 2.0);
        assert!((g.cell_m - 10.0).abs() < 0.5, "about the DEM's resolution: {}", g.cell_m);
    }
}
