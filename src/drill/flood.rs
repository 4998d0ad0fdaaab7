//! Flood: the local-inertial shallow-water scheme of LISFLOOD-FP (Bates, Horritt & Fewtrell 2010, J. Hydrol. 387)
//! on a regular grid over the ground, with buildings as walls, Manning roughness per cell, river and breach
//! inflows, rain, and the adaptive step `Δt = α·Δx/√(g·h_max)`; optionally the q-centred form of de Almeida et
//! al. (2012, WRR 48), `θ < 1`, which damps the scheme's oscillations where friction is low. Deterministic: the same setup gives the same
//! depths on every machine (sequential f64, and a cube root of plain arithmetic).

use serde::{Deserialize, Serialize};

use super::hydrograph::Series;
use super::raster::{Grid, Raster};

pub const GRAVITY_M_S2: f64 = 9.81;
/// Below this flow depth a face carries nothing (LISFLOOD-FP's depth threshold).
const FLOW_DEPTH_MIN_M: f64 = 1e-3;
/// Cells at most a million by a million, and no more than this many in all.
pub const MAX_CELLS: usize = 16_000_000;
/// A wall's ground height: far above any water, so a face to it has no flow depth (`max(η) − max(z)` is 0).
/// Heights and roughness are kept as f32 (the ground's precision), depths and discharges as f64.
const WALL_M: f32 = 1e9;

/// What covers a cell's ground: sets its Manning roughness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LandUse {
    #[default]
    Paved,
    Road,
    Grass,
    Trees,
    Water,
}

impl LandUse {
    /// Manning's n, s·m^(-1/3) (Chow 1959, Open-Channel Hydraulics, table 5-6).
    pub fn manning_n(self) -> f64 {
        match self {
            LandUse::Road => 0.013,
            LandUse::Paved => 0.016,
            LandUse::Water => 0.030,
            LandUse::Grass => 0.035,
            LandUse::Trees => 0.100,
        }
    }
}

/// Where a point inflow comes from (shown on the timeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InflowKind {
    River,
    Breach,
}

/// Water entering at one point: discharge in m³/s over drill time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inflow {
    pub kind: InflowKind,
    pub at_m: [f64; 2],
    pub discharge_m3_s: Series,
}

/// What the grid's outer edge does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Boundary {
    /// A wall: nothing leaves.
    Closed,
    /// Water leaves at normal depth on this slope (Manning), as LISFLOOD-FP's free boundary.
    FreeOutflow { slope: f64 },
}

/// Everything a flood run starts from.
#[derive(Debug, Clone)]
pub struct FloodSetup {
    /// Ground heights (m) on the simulation grid.
    pub ground: Raster,
    /// Cells water cannot enter (buildings).
    pub blocked: Vec<bool>,
    /// Manning's n per cell.
    pub manning_n: Vec<f32>,
    /// Depth at the start, per cell (m); empty for dry.
    pub initial_depth_m: Vec<f64>,
    pub inflows: Vec<Inflow>,
    /// Rain over every open cell, mm/h over drill time.
    pub rain_mm_h: Series,
    pub boundary: Boundary,
    /// The Courant-like factor α (LISFLOOD-FP: 0.7).
    pub alpha: f64,
    /// The longest step, s (when the grid is dry).
    pub max_step_s: f64,
    /// θ of the q-centred scheme: 1 is Bates et al. (2010), 0.7 de Almeida et al.'s suggestion.
    pub theta: f64,
}

impl FloodSetup {
    /// Dry ground with one land use everywhere, closed edges, α 0.7, θ 1.
    pub fn new(ground: Raster, land_use: LandUse) -> Self {
        let n = ground.grid.len();
        Self {
            ground,
            blocked: vec![false; n],
            manning_n: vec![land_use.manning_n() as f32; n],
            initial_depth_m: Vec::new(),
            inflows: Vec::new(),
            rain_mm_h: Series::default(),
            boundary: Boundary::Closed,
            alpha: 0.7,
            max_step_s: 10.0,
            theta: 1.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FloodError {
    #[error("a flood grid needs 1 to {MAX_CELLS} cells of a positive size")]
    Grid,
    #[error("{0} has {1} values for a grid of {2} cells")]
    Length(&'static str, usize, usize),
    #[error("inflow {0} stands outside the grid")]
    InflowOutside(usize),
    #[error("{0} must be finite and not negative")]
    Value(&'static str),
    #[error("α must lie in (0, 1], θ in [0.5, 1] and the longest step be positive")]
    Parameters,
}

/// Volumes that crossed the model's edges so far, m³.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub inflow_m3: f64,
    pub rain_m3: f64,
    pub outflow_m3: f64,
    /// Depth below zero cut off by rounding (should stay near 0).
    pub clipped_m3: f64,
}

/// The running flood: depths and face discharges at `time_s`.
#[derive(Debug, Clone)]
pub struct Flood {
    grid: Grid,
    /// Ground heights, with walls (buildings) raised to [`WALL_M`] so that no face to them ever carries water.
    z_m: Vec<f32>,
    manning_n: Vec<f32>,
    open_cells: usize,
    inflows: Vec<(usize, Inflow)>,
    rain_mm_h: Series,
    boundary: Boundary,
    alpha: f64,
    max_step_s: f64,
    theta: f64,
    /// The previous row's y-face discharges before this step (the q-centred average needs old values).
    old_row: Vec<f64>,
    depth_m: Vec<f64>,
    /// Discharge per unit width (m²/s) on the faces between columns: `(cols + 1) × rows`, positive eastwards.
    qx: Vec<f64>,
    /// On the faces between rows: `cols × (rows + 1)`, positive northwards.
    qy: Vec<f64>,
    scale: Vec<f64>,
    time_s: f64,
    steps: u64,
    ledger: Ledger,
    /// Wet cells' bounds (inclusive column, row), or none when dry.
    wet: Option<[usize; 4]>,
    depth_max_m: f64,
}

impl Flood {
    pub fn new(setup: FloodSetup) -> Result<Self, FloodError> {
        let grid = setup.ground.grid;
        let n = grid.len();
        if n == 0 || n > MAX_CELLS || !(grid.cell_m.is_finite() && grid.cell_m > 0.0) {
            return Err(FloodError::Grid);
        }
        let check = |name, len| if len == n { Ok(()) } else { Err(FloodError::Length(name, len, n)) };
        check("ground", setup.ground.values.len())?;
        check("blocked", setup.blocked.len())?;
        check("manning_n", setup.manning_n.len())?;
        if !setup.initial_depth_m.is_empty() {
            check("initial_depth_m", setup.initial_depth_m.len())?;
        }
        if !setup.ground.values.iter().all(|z| z.is_finite()) {
            return Err(FloodError::Value("ground"));
        }
        if !setup.manning_n.iter().all(|v| v.is_finite() && *v >= 0.0) {
            return Err(FloodError::Value("manning_n"));
        }
        if !setup.initial_depth_m.iter().all(|v| v.is_finite() && *v >= 0.0) {
            return Err(FloodError::Value("initial_depth_m"));
        }
        if !setup.rain_mm_h.is_valid() || !setup.inflows.iter().all(|i| i.discharge_m3_s.is_valid()) {
            return Err(FloodError::Value("series"));
        }
        if let Boundary::FreeOutflow { slope } = setup.boundary
            && !(slope.is_finite() && slope > 0.0)
        {
            return Err(FloodError::Value("boundary slope"));
        }
        let positive = |v: f64| v > 0.0 && v.is_finite();
        let valid = positive(setup.alpha) && setup.alpha <= 1.0 && positive(setup.max_step_s);
        if !valid || !(0.5..=1.0).contains(&setup.theta) {
            return Err(FloodError::Parameters);
        }
        let inflows = setup
            .inflows
            .into_iter()
            .enumerate()
            .map(|(k, inflow)| {
                let (c, r) = grid.cell_at(inflow.at_m).ok_or(FloodError::InflowOutside(k))?;
                Ok((grid.index(c, r), inflow))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut depth_m = if setup.initial_depth_m.is_empty() { vec![0.0; n] } else { setup.initial_depth_m };
        for (d, b) in depth_m.iter_mut().zip(&setup.blocked) {
            if *b {
                *d = 0.0;
            }
        }
        let mut flood = Self {
            grid,
            z_m: (setup.ground.values.iter().zip(&setup.blocked)).map(|(&z, &b)| if b { WALL_M } else { z }).collect(),
            open_cells: setup.blocked.iter().filter(|b| !**b).count(),
            manning_n: setup.manning_n,
            inflows,
            rain_mm_h: setup.rain_mm_h,
            boundary: setup.boundary,
            alpha: setup.alpha,
            max_step_s: setup.max_step_s,
            theta: setup.theta,
            old_row: vec![0.0; grid.cols],
            depth_m,
            qx: vec![0.0; (grid.cols + 1) * grid.rows],
            qy: vec![0.0; grid.cols * (grid.rows + 1)],
            scale: vec![1.0; n],
            time_s: 0.0,
            steps: 0,
            ledger: Ledger::default(),
            wet: None,
            depth_max_m: 0.0,
        };
        flood.rescan();
        Ok(flood)
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    pub fn time_s(&self) -> f64 {
        self.time_s
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn depth_m(&self) -> &[f64] {
        &self.depth_m
    }

    /// The water's surface at a cell (ground plus depth, metres above the ellipsoid); `None` on a dry cell or a wall.
    pub fn surface_m(&self, cell: usize) -> Option<f64> {
        let h = self.depth_m[cell];
        (h > 0.0 && !self.is_wall(cell)).then(|| self.z_m[cell] as f64 + h)
    }

    /// Whether a cell is a wall (a building).
    pub fn is_wall(&self, cell: usize) -> bool {
        self.z_m[cell] == WALL_M
    }

    pub fn ledger(&self) -> Ledger {
        self.ledger
    }

    pub fn volume_m3(&self) -> f64 {
        self.depth_m.iter().sum::<f64>() * self.grid.cell_area_m2()
    }

    /// Depth-averaged velocity at a cell (m/s, east and north), from its faces.
    pub fn velocity_m_s(&self, col: usize, row: usize) -> [f64; 2] {
        let h = self.depth_m[self.grid.index(col, row)];
        if h < FLOW_DEPTH_MIN_M {
            return [0.0, 0.0];
        }
        let c = self.grid.cols;
        let qx = 0.5 * (self.qx[row * (c + 1) + col] + self.qx[row * (c + 1) + col + 1]);
        let qy = 0.5 * (self.qy[row * c + col] + self.qy[(row + 1) * c + col]);
        [qx / h, qy / h]
    }

    /// Runs until `time_s` (landing on it exactly).
    pub fn run_until(&mut self, time_s: f64) {
        while self.time_s < time_s {
            let dt = self.stable_step_s().min(time_s - self.time_s);
            self.step(dt);
        }
    }

    /// The step the scheme allows now: `α·Δx/√(g·h_max)`, at most the setup's longest.
    pub fn stable_step_s(&self) -> f64 {
        if self.depth_max_m < FLOW_DEPTH_MIN_M {
            return self.max_step_s;
        }
        (self.alpha * self.grid.cell_m / (GRAVITY_M_S2 * self.depth_max_m).sqrt()).min(self.max_step_s)
    }

    /// One explicit step of `dt_s`: momentum on every face near water, the positivity limiter, continuity,
    /// then the sources.
    pub fn step(&mut self, dt_s: f64) {
        let (mut wet, mut h_max) = (None, 0.0);
        if let Some(region) = self.active_region() {
            self.update_faces(region, dt_s);
            self.limit_outflow(region, dt_s);
            (wet, h_max) = self.update_depths(region, dt_s);
        }
        self.wet = wet;
        self.depth_max_m = h_max;
        self.add_sources(dt_s);
        self.time_s += dt_s;
        self.steps += 1;
    }

    /// The wet cells' bounds grown by one cell (the faces and cells a step can change).
    fn active_region(&self) -> Option<[usize; 4]> {
        let [c0, r0, c1, r1] = self.wet?;
        Some([
            c0.saturating_sub(1),
            r0.saturating_sub(1),
            (c1 + 1).min(self.grid.cols - 1),
            (r1 + 1).min(self.grid.rows - 1),
        ])
    }

    fn update_faces(&mut self, [c0, r0, c1, r1]: [usize; 4], dt: f64) {
        let (cols, rows, dx) = (self.grid.cols, self.grid.rows, self.grid.cell_m);
        let theta = self.theta;
        // The θ-average of a face with its two neighbours along the flow, from old values.
        let centred = |q: f64, before: Option<f64>, after: Option<f64>| match (before, after) {
            (Some(b), Some(a)) if theta < 1.0 => theta * q + (1.0 - theta) * 0.5 * (b + a),
            _ => q,
        };
        let (z, h, n) = (&self.z_m, &self.depth_m, &self.manning_n);
        // Faces between columns c-1 and c, for c in c0..=c1+1.
        for r in r0..=r1 {
            let row = r * (cols + 1);
            let cell = r * cols;
            let mut before = (c0 > 1).then(|| self.qx[row + c0 - 1]);
            for c in c0..=c1 + 1 {
                let f = row + c;
                let old = self.qx[f];
                self.qx[f] = if c == 0 || c == cols {
                    let (edge, outward) = if c == 0 { (cell, -1.0) } else { (cell + cols - 1, 1.0) };
                    outward * boundary_q(self.boundary, z[edge], h[edge], n[edge] as f64)
                } else {
                    let after = (c + 1 < cols).then(|| self.qx[f + 1]);
                    let q_avg = centred(old, before.filter(|_| c > 1), after);
                    let (a, b) = (cell + c - 1, cell + c);
                    face_q([z[a] as f64, z[b] as f64], [h[a], h[b]], 0.5 * (n[a] + n[b]) as f64, old, q_avg, dx, dt)
                };
                before = Some(old);
            }
        }
        // Faces between rows r-1 and r, for r in r0..=r1+1.
        if r0 > 1 {
            self.old_row[c0..=c1].copy_from_slice(&self.qy[(r0 - 1) * cols + c0..=(r0 - 1) * cols + c1]);
        }
        for r in r0..=r1 + 1 {
            for c in c0..=c1 {
                let f = r * cols + c;
                let old = self.qy[f];
                self.qy[f] = if r == 0 || r == rows {
                    let (edge, outward) = if r == 0 { (c, -1.0) } else { ((rows - 1) * cols + c, 1.0) };
                    outward * boundary_q(self.boundary, z[edge], h[edge], n[edge] as f64)
                } else {
                    let before = (r > 1).then(|| self.old_row[c]);
                    let after = (r + 1 < rows).then(|| self.qy[f + cols]);
                    let q_avg = centred(old, before, after);
                    let (a, b) = (f - cols, f);
                    face_q([z[a] as f64, z[b] as f64], [h[a], h[b]], 0.5 * (n[a] + n[b]) as f64, old, q_avg, dx, dt)
                };
                self.old_row[c] = old;
            }
        }
    }

    /// Scales each cell's outgoing faces so that no cell gives more water than it has.
    fn limit_outflow(&mut self, [c0, r0, c1, r1]: [usize; 4], dt: f64) {
        let (cols, rows) = (self.grid.cols, self.grid.rows);
        let k = dt / self.grid.cell_m;
        let mut limited = false;
        for r in r0..=r1 {
            for c in c0..=c1 {
                let i = r * cols + c;
                let (w, e) = (self.qx[r * (cols + 1) + c], self.qx[r * (cols + 1) + c + 1]);
                let (s, n) = (self.qy[i], self.qy[i + cols]);
                let out = ((-w).max(0.0) + e.max(0.0) + (-s).max(0.0) + n.max(0.0)) * k;
                self.scale[i] = if out > self.depth_m[i] {
                    limited = true;
                    self.depth_m[i] / out
                } else {
                    1.0
                };
            }
        }
        if !limited {
            return;
        }
        for r in r0..=r1 {
            for c in c0..=c1 + 1 {
                let f = r * (cols + 1) + c;
                let q = self.qx[f];
                let donor = if q > 0.0 { (c > 0).then(|| r * cols + c - 1) } else { (c < cols).then(|| r * cols + c) };
                if let Some(d) = donor.filter(|_| q != 0.0) {
                    self.qx[f] = q * self.scale[d];
                }
            }
        }
        for r in r0..=r1 + 1 {
            for c in c0..=c1 {
                let f = r * cols + c;
                let q = self.qy[f];
                let donor = if q > 0.0 { (r > 0).then(|| f - cols) } else { (r < rows).then_some(f) };
                if let Some(d) = donor.filter(|_| q != 0.0) {
                    self.qy[f] = q * self.scale[d];
                }
            }
        }
        // Cells outside the region keep a scale of 1 (they are dry and give nothing).
        for r in r0..=r1 {
            self.scale[r * cols + c0..=r * cols + c1].fill(1.0);
        }
    }

    /// Continuity over the region; returns the wet bounds and the deepest depth after it.
    fn update_depths(&mut self, [c0, r0, c1, r1]: [usize; 4], dt: f64) -> (Option<[usize; 4]>, f64) {
        let (cols, rows, dx) = (self.grid.cols, self.grid.rows, self.grid.cell_m);
        let k = dt / dx;
        let (mut out, mut clipped) = (0.0, 0.0);
        let (mut bounds, mut h_max) = (None::<[usize; 4]>, 0.0f64);
        for r in r0..=r1 {
            let (xrow, cell) = (r * (cols + 1), r * cols);
            let (mut first, mut last) = (usize::MAX, 0);
            for c in c0..=c1 {
                let i = cell + c;
                let (w, e) = (self.qx[xrow + c], self.qx[xrow + c + 1]);
                let (s, n) = (self.qy[i], self.qy[i + cols]);
                let mut h = self.depth_m[i] + k * (w - e + s - n);
                if h < 0.0 {
                    clipped -= h;
                    h = 0.0;
                }
                self.depth_m[i] = h;
                if h > 0.0 {
                    first = first.min(c);
                    last = c;
                    h_max = h_max.max(h);
                }
            }
            // What left through the grid's edges.
            if c0 == 0 {
                out -= self.qx[xrow].min(0.0);
            }
            if c1 == cols - 1 {
                out += self.qx[xrow + cols].max(0.0);
            }
            if first != usize::MAX {
                bounds = Some(union(bounds, [first, r, last, r]));
            }
        }
        for c in c0..=c1 {
            if r0 == 0 {
                out -= self.qy[c].min(0.0);
            }
            if r1 == rows - 1 {
                out += self.qy[rows * cols + c].max(0.0);
            }
        }
        self.ledger.outflow_m3 += out * dt * dx;
        self.ledger.clipped_m3 += clipped * dx * dx;
        (bounds, h_max)
    }

    fn add_sources(&mut self, dt: f64) {
        let (t0, t1) = (self.time_s, self.time_s + dt);
        let area = self.grid.cell_area_m2();
        let rain_m = self.rain_mm_h.integral(t0, t1) / 3.6e6;
        if rain_m > 0.0 {
            for (h, z) in self.depth_m.iter_mut().zip(&self.z_m) {
                if *z != WALL_M {
                    *h += rain_m;
                }
            }
            self.ledger.rain_m3 += rain_m * area * self.open_cells as f64;
            self.depth_max_m += rain_m;
            if self.open_cells > 0 {
                self.wet = Some([0, 0, self.grid.cols - 1, self.grid.rows - 1]);
            }
        }
        for (cell, inflow) in &self.inflows {
            let v = inflow.discharge_m3_s.integral(t0, t1);
            if v > 0.0 && self.z_m[*cell] != WALL_M {
                self.depth_m[*cell] += v / area;
                self.ledger.inflow_m3 += v;
                self.depth_max_m = self.depth_max_m.max(self.depth_m[*cell]);
                let (c, r) = (cell % self.grid.cols, cell / self.grid.cols);
                self.wet = Some(union(self.wet, [c, r, c, r]));
            }
        }
    }

    /// Recomputes the wet bounds and the deepest depth.
    fn rescan(&mut self) {
        let cols = self.grid.cols;
        let (mut bounds, mut h_max) = (None::<[usize; 4]>, 0.0f64);
        for (r, row) in self.depth_m.chunks_exact(cols).enumerate() {
            let Some(first) = row.iter().position(|h| *h > 0.0) else { continue };
            let last = row.iter().rposition(|h| *h > 0.0).unwrap_or(first);
            h_max = row[first..=last].iter().fold(h_max, |m, h| m.max(*h));
            bounds = Some(union(bounds, [first, r, last, r]));
        }
        self.wet = bounds;
        self.depth_max_m = h_max;
    }

    /// What the flood's future depends on, to restore later (scrubbing back on the drill's timeline).
    pub fn state(&self) -> FloodState {
        FloodState {
            time_s: self.time_s,
            steps: self.steps,
            ledger: self.ledger,
            depth_m: self.depth_m.clone(),
            qx: self.qx.clone(),
            qy: self.qy.clone(),
        }
    }

    /// Back to a state taken from this flood: every later step repeats exactly.
    pub fn restore(&mut self, state: &FloodState) {
        self.time_s = state.time_s;
        self.steps = state.steps;
        self.ledger = state.ledger;
        self.depth_m.clone_from(&state.depth_m);
        self.qx.clone_from(&state.qx);
        self.qy.clone_from(&state.qy);
        self.rescan();
    }

    /// Depths as a raster (f32), for drawing and for the report.
    pub fn depth_raster(&self) -> Raster {
        Raster { grid: self.grid, values: self.depth_m.iter().map(|&h| h as f32).collect() }
    }

    /// Figures at this moment: cells at least `threshold_m` deep.
    pub fn summary(&self, threshold_m: f64) -> FloodSummary {
        let wet = self.depth_m.iter().filter(|h| **h >= threshold_m).count();
        FloodSummary {
            time_s: self.time_s,
            flooded_area_m2: wet as f64 * self.grid.cell_area_m2(),
            depth_max_m: self.depth_max_m,
            volume_m3: self.volume_m3(),
        }
    }
}

/// Equation 8 of Bates et al. (2010), with de Almeida's `q_avg` in the numerator: the new discharge per unit
/// width from cell `a` to cell `b` (ground `z`, depth `h`), with Manning's `n` between them.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn face_q(z: [f64; 2], h: [f64; 2], n: f64, q: f64, q_avg: f64, dx: f64, dt: f64) -> f64 {
    let (ea, eb) = (z[0] + h[0], z[1] + h[1]);
    let h_flow = ea.max(eb) - z[0].max(z[1]);
    if h_flow <= FLOW_DEPTH_MIN_M {
        return 0.0;
    }
    let slope = (eb - ea) / dx;
    // (q_avg − g·h·Δt·S) / (1 + g·Δt·n²·|q| / h^(7/3)), with one division.
    let h_73 = h_flow * h_flow * cbrt(h_flow);
    (q_avg - GRAVITY_M_S2 * h_flow * dt * slope) * h_73 / (h_73 + GRAVITY_M_S2 * dt * n * n * q.abs())
}

/// The cube root of a positive number to about 1e-12 relative: an exponent-thirding first guess and two Halley
/// steps. Plain IEEE arithmetic, so every platform (the browser too) gets the same bits.
#[inline(always)]
fn cbrt(x: f64) -> f64 {
    let mut y = f64::from_bits(x.to_bits() / 3 + 0x2A9F_7893_782D_A1CE);
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * x) / (2.0 * y3 + x);
    }
    y
}

/// Discharge per unit width leaving an edge cell (not negative).
fn boundary_q(boundary: Boundary, z: f32, h: f64, n: f64) -> f64 {
    match boundary {
        Boundary::Closed => 0.0,
        Boundary::FreeOutflow { slope } => {
            if z == WALL_M || h <= FLOW_DEPTH_MIN_M {
                return 0.0;
            }
            h * h / cbrt(h) * slope.sqrt() / n.max(0.010)
        }
    }
}

/// A flood's restorable state.
#[derive(Debug, Clone, PartialEq)]
pub struct FloodState {
    pub time_s: f64,
    pub steps: u64,
    pub ledger: Ledger,
    pub depth_m: Vec<f64>,
    pub qx: Vec<f64>,
    pub qy: Vec<f64>,
}

impl FloodState {
    pub fn bytes(&self) -> usize {
        8 * (self.depth_m.len() + self.qx.len() + self.qy.len())
    }
}

/// A flood's figures at one time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FloodSummary {
    pub time_s: f64,
    pub flooded_area_m2: f64,
    pub depth_max_m: f64,
    pub volume_m3: f64,
}

/// Bounds (first column, first row, last column, last row) holding both.
fn union(bounds: Option<[usize; 4]>, [c0, r0, c1, r1]: [usize; 4]) -> [usize; 4] {
    match bounds {
        None => [c0, r0, c1, r1],
        Some([a, b, c, d]) => [a.min(c0), b.min(r0), c.max(c1), d.max(r1)],
    }
}

#[cfg(test)]
#[path = "flood_tests.rs"]
mod tests;
