//! The procedural city's relief, in its local metres: a river crossing the city west to east in a shallow valley,
//! its channel held by embankments (levees) on both banks, and hills to the north and the south-east; the centre
//! stays at 0 m. Heights are metres above the ellipsoid.

use crate::drill::raster::{Grid, Raster};

/// The DEM's cell.
pub const DEM_CELL_M: f64 = 8.0;
/// Half the channel's width at the top of its banks.
pub const CHANNEL_HALF_M: f64 = 24.0;
/// The levees' crest, from the river's centreline (inner and outer edge), and their height above the floodplain.
pub const LEVEE_CREST_M: (f64, f64) = (30.0, 40.0);
pub const LEVEE_HEIGHT_M: f64 = 3.0;
/// Where the levees' outer slope meets the floodplain: nothing is built nearer the river.
pub const LEVEE_FOOT_M: f64 = 50.0;
const CHANNEL_DEPTH_M: f64 = 4.0;
/// How far the valley reaches from the river, and how far below the plain its floor lies.
const VALLEY_HALF_M: f64 = 300.0;
const VALLEY_DEPTH_M: f64 = 2.0;
/// The river falls this much per metre east.
const RIVER_SLOPE: f64 = 0.0004;
/// Hills: centre (local metres), height and spread (m).
const HILLS: [([f64; 2], f64, f64); 3] =
    [([-2000.0, 1900.0], 55.0, 600.0), ([2300.0, 2200.0], 35.0, 700.0), ([1800.0, -2300.0], 25.0, 500.0)];

/// The river's centreline: north of a street line by half a block, meandering gently.
pub fn river_y_m(x_m: f64) -> f64 {
    -276.0 + 40.0 * (x_m / 900.0).sin()
}

/// Distance from the river's centreline (near enough: the meander's slope is at most 0.045).
pub fn river_distance_m(x_m: f64, y_m: f64) -> f64 {
    let slope = 40.0 / 900.0 * (x_m / 900.0).cos();
    (y_m - river_y_m(x_m)).abs() / (1.0 + slope * slope).sqrt()
}

fn smoothstep(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// The floodplain's height at a point: the valley's dip, falling eastwards along the river.
fn floodplain_m(x_m: f64, d_m: f64) -> f64 {
    let valley = smoothstep(1.0 - d_m / VALLEY_HALF_M);
    valley * (-VALLEY_DEPTH_M - RIVER_SLOPE * x_m)
}

/// Ground height at a local point.
pub fn ground_m(x_m: f64, y_m: f64) -> f64 {
    let d = river_distance_m(x_m, y_m);
    let plain = floodplain_m(x_m, d);
    let (crest_in, crest_out) = LEVEE_CREST_M;
    let river = if d < CHANNEL_HALF_M {
        // A parabolic channel below the floodplain.
        plain - CHANNEL_DEPTH_M * (1.0 - (d / CHANNEL_HALF_M).powi(2))
    } else if d < crest_in {
        plain + LEVEE_HEIGHT_M * (d - CHANNEL_HALF_M) / (crest_in - CHANNEL_HALF_M)
    } else if d <= crest_out {
        plain + LEVEE_HEIGHT_M
    } else if d < LEVEE_FOOT_M {
        plain + LEVEE_HEIGHT_M * (LEVEE_FOOT_M - d) / (LEVEE_FOOT_M - crest_out)
    } else {
        plain
    };
    let hills: f64 = HILLS
        .iter()
        .map(|&([cx, cy], h, spread)| {
            let r2 = (x_m - cx).powi(2) + (y_m - cy).powi(2);
            h * (-r2 / (2.0 * spread * spread)).exp()
        })
        .sum();
    river + hills
}

/// Whether a footprint keeps clear of the river, its banks and levees (its corners and its edges' middles, so
/// that a long footprint cannot straddle the river).
pub fn clear_of_river(outline_m: &[[f64; 2]]) -> bool {
    (0..outline_m.len()).all(|k| {
        let (a, b) = (outline_m[k], outline_m[(k + 1) % outline_m.len()]);
        let mid = [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])];
        [a, mid].iter().all(|p| river_distance_m(p[0], p[1]) > LEVEE_FOOT_M)
    })
}

/// The river at its usual level (2.5 m deep), from `west_m` to `east_m`.
pub fn river(west_m: f64, east_m: f64) -> super::Waterway {
    const DEPTH_M: f64 = 2.5;
    let steps = ((east_m - west_m) / 40.0).ceil().max(1.0) as usize;
    let line_m: Vec<[f64; 2]> =
        (0..=steps).map(|k| west_m + (east_m - west_m) * k as f64 / steps as f64).map(|x| [x, river_y_m(x)]).collect();
    let level_m = line_m.iter().map(|&[x, y]| ground_m(x, y) + DEPTH_M).collect();
    // Where the parabolic channel is as deep as the water.
    let half_width_m = CHANNEL_HALF_M * (1.0 - DEPTH_M / CHANNEL_DEPTH_M).sqrt();
    super::Waterway { line_m, half_width_m, level_m }
}

/// The relief as a DEM over `[lo, hi]` (local metres).
pub fn relief(lo: [f64; 2], hi: [f64; 2]) -> Raster {
    let cols = ((hi[0] - lo[0]) / DEM_CELL_M).ceil().max(1.0) as usize;
    let rows = ((hi[1] - lo[1]) / DEM_CELL_M).ceil().max(1.0) as usize;
    Raster::from_fn(Grid { cols, rows, cell_m: DEM_CELL_M, origin_m: lo }, ground_m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_river_runs_in_its_channel_between_levees_and_the_centre_is_flat() {
        for x in [-2500.0, -300.0, 0.0, 1200.0, 2800.0] {
            let y = river_y_m(x);
            let bed = ground_m(x, y);
            let (plain_n, plain_s) = (ground_m(x, y + 60.0), ground_m(x, y - 60.0));
            let (levee_n, levee_s) = (ground_m(x, y + 35.0), ground_m(x, y - 35.0));
            assert!(bed < plain_n - 3.5 && bed < plain_s - 3.5, "x {x}: bed {bed} below the plain");
            assert!(levee_n > plain_n + 2.5 && levee_s > plain_s + 2.5, "x {x}: levees above the plain");
            assert!(ground_m(x, y + 500.0) > plain_n, "x {x}: the valley rises away from the river");
        }
        assert!(ground_m(-2500.0, river_y_m(-2500.0)) > ground_m(2500.0, river_y_m(2500.0)), "flows east");
        for p in [[0.0, 0.0], [-120.0, 60.0], [255.0, 80.0], [400.0, 300.0]] {
            assert!(ground_m(p[0], p[1]).abs() < 0.05, "{p:?} is flat: {}", ground_m(p[0], p[1]));
        }
        assert!(ground_m(-2000.0, 1900.0) > 50.0, "the north-west hill");
    }

    #[test]
    fn footprints_over_the_river_or_its_levees_are_not_clear() {
        let square = |x: f64, y: f64| vec![[x, y], [x + 20.0, y], [x + 20.0, y + 20.0], [x, y + 20.0]];
        assert!(clear_of_river(&square(0.0, 0.0)));
        assert!(!clear_of_river(&square(0.0, river_y_m(0.0) - 10.0)));
        assert!(!clear_of_river(&square(0.0, river_y_m(0.0) + 40.0)), "on the levee");
        // Long and thin across the river: corners outside, middle on it.
        let across = vec![[0.0, -400.0], [5.0, -400.0], [5.0, -150.0], [0.0, -150.0]];
        assert!(!clear_of_river(&across));
    }
}
