//! Regular rasters in a drill's local east-north frame (metres): the grid they share and f32 values on it
//! (ground heights, depths, concentrations), sampled bilinearly.

use serde::{Deserialize, Serialize};

/// A regular grid of square cells; row 0 is the southernmost, column 0 the westernmost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub cols: usize,
    pub rows: usize,
    pub cell_m: f64,
    /// The south-west corner of cell (0, 0), local metres.
    pub origin_m: [f64; 2],
}

impl Grid {
    pub fn len(&self) -> usize {
        self.cols * self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn index(&self, col: usize, row: usize) -> usize {
        row * self.cols + col
    }

    /// The centre of a cell, local metres.
    pub fn centre_m(&self, col: usize, row: usize) -> [f64; 2] {
        [self.origin_m[0] + (col as f64 + 0.5) * self.cell_m, self.origin_m[1] + (row as f64 + 0.5) * self.cell_m]
    }

    /// The cell holding a point, if any.
    pub fn cell_at(&self, xy_m: [f64; 2]) -> Option<(usize, usize)> {
        let c = ((xy_m[0] - self.origin_m[0]) / self.cell_m).floor();
        let r = ((xy_m[1] - self.origin_m[1]) / self.cell_m).floor();
        (c >= 0.0 && r >= 0.0 && (c as usize) < self.cols && (r as usize) < self.rows)
            .then_some((c as usize, r as usize))
    }

    /// The grid's extent: south-west and north-east corners.
    pub fn extent_m(&self) -> ([f64; 2], [f64; 2]) {
        let ne = [self.origin_m[0] + self.cols as f64 * self.cell_m, self.origin_m[1] + self.rows as f64 * self.cell_m];
        (self.origin_m, ne)
    }

    pub fn cell_area_m2(&self) -> f64 {
        self.cell_m * self.cell_m
    }
}

/// Values on a grid, row-major from the south-west.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    pub grid: Grid,
    pub values: Vec<f32>,
}

/// The height of optional ground at a point: without a raster, flat ground at 0 m.
pub fn height_or_flat(ground: Option<&Raster>, xy_m: [f64; 2]) -> f64 {
    ground.and_then(|g| g.sample(xy_m)).unwrap_or(0.0)
}

impl Raster {
    pub fn filled(grid: Grid, value: f32) -> Self {
        Self { grid, values: vec![value; grid.len()] }
    }

    /// A raster of `f(x_m, y_m)` at every cell centre.
    pub fn from_fn(grid: Grid, f: impl Fn(f64, f64) -> f64) -> Self {
        let mut values = Vec::with_capacity(grid.len());
        for row in 0..grid.rows {
            for col in 0..grid.cols {
                let [x, y] = grid.centre_m(col, row);
                values.push(f(x, y) as f32);
            }
        }
        Self { grid, values }
    }

    pub fn at(&self, col: usize, row: usize) -> f32 {
        self.values[self.grid.index(col, row)]
    }

    /// Bilinear between cell centres, clamped at the edges; `None` on an empty raster.
    pub fn sample(&self, xy_m: [f64; 2]) -> Option<f64> {
        let g = &self.grid;
        if g.is_empty() {
            return None;
        }
        let fx = ((xy_m[0] - g.origin_m[0]) / g.cell_m - 0.5).clamp(0.0, (g.cols - 1) as f64);
        let fy = ((xy_m[1] - g.origin_m[1]) / g.cell_m - 0.5).clamp(0.0, (g.rows - 1) as f64);
        if !fx.is_finite() || !fy.is_finite() {
            return None;
        }
        let (c0, r0) = (fx.floor() as usize, fy.floor() as usize);
        let (c1, r1) = ((c0 + 1).min(g.cols - 1), (r0 + 1).min(g.rows - 1));
        let (tx, ty) = (fx - c0 as f64, fy - r0 as f64);
        let v = |c, r| self.at(c, r) as f64;
        let south = v(c0, r0) * (1.0 - tx) + v(c1, r0) * tx;
        let north = v(c0, r1) * (1.0 - tx) + v(c1, r1) * tx;
        Some(south * (1.0 - ty) + north * ty)
    }

    /// This raster sampled at the cell centres of another grid.
    pub fn resampled(&self, grid: Grid) -> Option<Self> {
        (!self.grid.is_empty()).then(|| Self::from_fn(grid, |x, y| self.sample([x, y]).unwrap_or(0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(cols: usize, rows: usize, cell_m: f64) -> Grid {
        Grid { cols, rows, cell_m, origin_m: [-10.0, -20.0] }
    }

    #[test]
    fn cells_and_centres_agree() {
        let g = grid(4, 3, 5.0);
        assert_eq!(g.centre_m(0, 0), [-7.5, -17.5]);
        assert_eq!(g.cell_at([-7.5, -17.5]), Some((0, 0)));
        assert_eq!(g.cell_at([9.9, -5.1]), Some((3, 2)));
        assert_eq!(g.cell_at([10.0, -5.1]), None);
        assert_eq!(g.cell_at([-10.1, 0.0]), None);
        assert_eq!(g.extent_m(), ([-10.0, -20.0], [10.0, -5.0]));
    }

    #[test]
    fn bilinear_sampling_reproduces_a_plane_and_clamps() {
        let g = grid(5, 4, 2.0);
        let plane = |x: f64, y: f64| 3.0 + 0.5 * x - 0.25 * y;
        let r = Raster::from_fn(g, plane);
        for p in [[-8.0, -18.0], [-3.3, -14.1], [-1.0, -13.0]] {
            assert!((r.sample(p).unwrap() - plane(p[0], p[1])).abs() < 1e-5, "{p:?}");
        }
        // Outside: the edge's value.
        assert!((r.sample([-100.0, -19.0]).unwrap() - plane(-9.0, -19.0)).abs() < 1e-5);
        let finer = r.resampled(grid(10, 8, 1.0)).unwrap();
        assert!((finer.at(3, 3) as f64 - plane(-6.5, -16.5)).abs() < 1e-5);
    }
}
