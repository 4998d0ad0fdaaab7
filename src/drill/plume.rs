//! Gas leak: a Gaussian plume with ground reflection and Briggs' urban dispersion coefficients (Briggs 1973, as
//! tabulated by Hanna, Briggs & Hosker 1982, Handbook on Atmospheric Diffusion, table 4.6), threshold zones
//! (lower explosive limit fractions, AEGL), and the leak's time on the drill clock: the plume reaches as far
//! downwind as the wind has carried it since the leak began, and clears behind its tail once it stops.

use serde::{Deserialize, Serialize};

use super::raster::{Grid, Raster};

/// Pasquill–Gifford stability classes (A very unstable … F stable), as the catalog names them.
pub use crate::protocol::drill::Stability;

/// Briggs' urban σy and σz (m) at `x_m` downwind (valid for 100 m to 10 km; used down to 1 m).
pub fn briggs_urban_sigmas_m(stability: Stability, x_m: f64) -> (f64, f64) {
    let x = x_m.max(1.0);
    let spread = |k: f64| k * x / (1.0 + 0.0004 * x).sqrt();
    match stability {
        Stability::A | Stability::B => (spread(0.32), 0.24 * x * (1.0 + 0.001 * x).sqrt()),
        Stability::C => (spread(0.22), 0.20 * x),
        Stability::D => (spread(0.16), 0.14 * x / (1.0 + 0.0003 * x).sqrt()),
        Stability::E | Stability::F => (spread(0.11), 0.08 * x / (1.0 + 0.0015 * x).sqrt()),
    }
}

/// A concentration that names a zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub name: String,
    pub ppm: f64,
}

/// What leaks: its molar mass and the zones drawn for it, most severe first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Substance {
    pub name: String,
    pub molar_mass_g_mol: f64,
    pub thresholds: Vec<Threshold>,
}

fn thresholds(list: &[(&str, f64)]) -> Vec<Threshold> {
    list.iter().map(|(name, ppm)| Threshold { name: (*name).into(), ppm: *ppm }).collect()
}

impl Substance {
    /// Natural gas as methane: the lower explosive limit (5 % by volume) and the 50 % and 10 % of it that gas
    /// alarms and evacuation criteria use.
    pub fn methane() -> Self {
        Self {
            name: "methane".into(),
            molar_mass_g_mol: 16.04,
            thresholds: thresholds(&[("LEL", 50_000.0), ("50 % LEL", 25_000.0), ("10 % LEL", 5_000.0)]),
        }
    }

    /// Chlorine with its 60-minute AEGLs (US EPA): 20, 2 and 0.5 ppm.
    pub fn chlorine() -> Self {
        Self {
            name: "chlorine".into(),
            molar_mass_g_mol: 70.90,
            thresholds: thresholds(&[("AEGL-3", 20.0), ("AEGL-2", 2.0), ("AEGL-1", 0.5)]),
        }
    }

    /// Ammonia with its 60-minute AEGLs (US EPA): 1,100, 160 and 30 ppm.
    pub fn ammonia() -> Self {
        Self {
            name: "ammonia".into(),
            molar_mass_g_mol: 17.03,
            thresholds: thresholds(&[("AEGL-3", 1100.0), ("AEGL-2", 160.0), ("AEGL-1", 30.0)]),
        }
    }

    /// The preset of a name (`methane`, `chlorine`, `ammonia`).
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "methane" | "natural_gas" => Some(Self::methane()),
            "chlorine" => Some(Self::chlorine()),
            "ammonia" => Some(Self::ammonia()),
            _ => None,
        }
    }

    /// ppm by volume of a mass concentration at 25 °C and 1 atm (molar volume 24.45 L).
    pub fn ppm_of_g_m3(&self, c_g_m3: f64) -> f64 {
        c_g_m3 * 1000.0 * 24.45 / self.molar_mass_g_mol
    }
}

/// A leak and the weather it meets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leak {
    /// The source, local metres.
    pub at_m: [f64; 2],
    /// Effective release height above ground, m.
    pub height_m: f64,
    pub rate_kg_s: f64,
    pub start_s: f64,
    /// When the leak is shut off (`None`: not during the drill).
    pub stop_s: Option<f64>,
    /// Wind speed at release height, m/s (at least 1: the plume model fails in calm air).
    pub wind_speed_m_s: f64,
    /// Where the wind blows from, degrees clockwise from north.
    pub wind_from_deg: f64,
    pub stability: Stability,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlumeError {
    #[error(
        "a leak needs a finite position, a height ≥ 0, a rate > 0, a wind of at least 1 m/s and a stop after its start"
    )]
    Leak,
    #[error("a substance needs a molar mass > 0 and thresholds > 0 ppm, most severe first")]
    Substance,
}

/// Breathing height at which zones are drawn, m.
pub const BREATHING_HEIGHT_M: f64 = 1.5;

/// A steady Gaussian plume, cut by the leak's time on the clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Plume {
    pub leak: Leak,
    pub substance: Substance,
    /// Downwind unit vector (east, north).
    downwind: [f64; 2],
}

impl Plume {
    pub fn new(leak: Leak, substance: Substance) -> Result<Self, PlumeError> {
        let l = &leak;
        let ok = l.at_m.iter().all(|v| v.is_finite())
            && l.height_m >= 0.0
            && l.rate_kg_s > 0.0
            && l.rate_kg_s.is_finite()
            && l.wind_speed_m_s >= 1.0
            && l.wind_speed_m_s.is_finite()
            && l.wind_from_deg.is_finite()
            && l.start_s.is_finite()
            && l.stop_s.is_none_or(|s| s.is_finite() && s > l.start_s);
        if !ok {
            return Err(PlumeError::Leak);
        }
        let s = &substance;
        let sorted = s.thresholds.windows(2).all(|w| w[0].ppm >= w[1].ppm);
        if !(s.molar_mass_g_mol > 0.0 && sorted && s.thresholds.iter().all(|t| t.ppm > 0.0 && t.ppm.is_finite())) {
            return Err(PlumeError::Substance);
        }
        let from = leak.wind_from_deg.to_radians();
        Ok(Self { downwind: [-from.sin(), -from.cos()], leak, substance })
    }

    /// A point relative to the source: (downwind, crosswind) metres.
    pub fn plume_frame_m(&self, xy_m: [f64; 2]) -> (f64, f64) {
        let (dx, dy) = (xy_m[0] - self.leak.at_m[0], xy_m[1] - self.leak.at_m[1]);
        let [ex, ey] = self.downwind;
        (dx * ex + dy * ey, -dx * ey + dy * ex)
    }

    /// The steady concentration (g/m³) at a point `z_m` above ground, with ground reflection.
    pub fn steady_g_m3(&self, xy_m: [f64; 2], z_m: f64) -> f64 {
        let (x, y) = self.plume_frame_m(xy_m);
        if x <= 0.0 {
            return 0.0;
        }
        let (sy, sz) = briggs_urban_sigmas_m(self.leak.stability, x);
        let (q, u, h) = (self.leak.rate_kg_s * 1000.0, self.leak.wind_speed_m_s, self.leak.height_m);
        let vertical = (-(z_m - h).powi(2) / (2.0 * sz * sz)).exp() + (-(z_m + h).powi(2) / (2.0 * sz * sz)).exp();
        q / (2.0 * std::f64::consts::PI * u * sy * sz) * (-y * y / (2.0 * sy * sy)).exp() * vertical
    }

    /// The stretch of the plume's axis the gas occupies at `time_s`: from its tail to its head, metres downwind.
    pub fn reach_m(&self, time_s: f64) -> Option<(f64, f64)> {
        let u = self.leak.wind_speed_m_s;
        let head = u * (time_s - self.leak.start_s);
        let tail = self.leak.stop_s.map_or(0.0, |s| (u * (time_s - s)).max(0.0));
        (head > 0.0 && head > tail).then_some((tail, head))
    }

    /// The concentration in ppm at a point and time.
    pub fn ppm_at(&self, xy_m: [f64; 2], z_m: f64, time_s: f64) -> f64 {
        let Some((tail, head)) = self.reach_m(time_s) else { return 0.0 };
        let (x, _) = self.plume_frame_m(xy_m);
        if x < tail || x > head {
            return 0.0;
        }
        self.substance.ppm_of_g_m3(self.steady_g_m3(xy_m, z_m))
    }

    /// How far downwind the steady ground-level centreline stays at or above `ppm` (0 when it never does).
    pub fn zone_length_m(&self, ppm: f64) -> f64 {
        // The centreline falls with distance past its peak: march out, then bisect the crossing.
        let on_axis = |x: f64| {
            let [ex, ey] = self.downwind;
            let p = [self.leak.at_m[0] + ex * x, self.leak.at_m[1] + ey * x];
            self.substance.ppm_of_g_m3(self.steady_g_m3(p, BREATHING_HEIGHT_M))
        };
        let (mut lo, mut hi, mut x) = (0.0, 0.0, 1.0);
        while x < 100_000.0 {
            if on_axis(x) >= ppm {
                lo = x;
            } else if lo > 0.0 {
                hi = x;
                break;
            }
            x *= 1.25;
        }
        if lo == 0.0 {
            return 0.0;
        }
        if hi == 0.0 {
            return lo;
        }
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if on_axis(mid) >= ppm { lo = mid } else { hi = mid }
        }
        lo
    }

    /// Concentrations in ppm at breathing height over a grid at `time_s`.
    pub fn ppm_raster(&self, grid: Grid, time_s: f64) -> Raster {
        Raster::from_fn(grid, |x, y| self.ppm_at([x, y], BREATHING_HEIGHT_M, time_s))
    }

    /// A grid covering the zone of the weakest threshold (square cells, about `cells_across` of them across).
    pub fn zone_grid(&self, cells_across: usize) -> Option<Grid> {
        let weakest = self.substance.thresholds.last()?;
        let length = self.zone_length_m(weakest.ppm);
        if length <= 0.0 {
            return None;
        }
        let (sy, _) = briggs_urban_sigmas_m(self.leak.stability, length);
        let half = (length + 3.0 * sy).max(10.0);
        let cell_m = 2.0 * half / cells_across.max(1) as f64;
        let n = cells_across.max(1);
        Some(Grid { cols: n, rows: n, cell_m, origin_m: [self.leak.at_m[0] - half, self.leak.at_m[1] - half] })
    }

    /// The most severe zone a concentration falls in (an index into the thresholds).
    pub fn zone_of_ppm(&self, ppm: f64) -> Option<usize> {
        self.substance.thresholds.iter().position(|t| ppm >= t.ppm)
    }
}

#[cfg(test)]
#[path = "plume_tests.rs"]
mod tests;
