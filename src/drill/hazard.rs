//! A drill's hazard built from its catalog entry over the world: the flood on its grid, the plume, or the cordon;
//! and what each says of a place at a time: the level it reaches there (the most severe first), the reading a
//! sensor there would give, which buildings must leave and which roads close.

use super::flood::{Flood, FloodSetup, Inflow, InflowKind, LandUse};
use super::hydrograph::Series;
use super::plume::{BREATHING_HEIGHT_M, Leak, Plume, Substance};
use super::raster::Grid;
use super::world::DrillWorld;
use crate::geo::{LocalFrame, ring_contains};
use crate::protocol::drill::{Drill, Hazard};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HazardError {
    #[error("{0}")]
    Spec(String),
    #[error("unknown substance {0:?} (methane, chlorine, ammonia)")]
    Substance(String),
    #[error(transparent)]
    Flood(#[from] super::flood::FloodError),
    #[error(transparent)]
    Plume(#[from] super::plume::PlumeError),
}

/// The flood and what it needs to judge buildings.
#[derive(Debug, Clone)]
pub struct FloodHazard {
    pub flood: Flood,
    /// From this depth a building is flooded and a road closed, m.
    pub depth_m: f64,
    /// Per structure of the drill: the open cells along its walls.
    around: Vec<Vec<usize>>,
}

#[derive(Debug, Clone)]
pub enum HazardModel {
    Flood(Box<FloodHazard>),
    Gas(Box<Plume>),
    Area { outline_m: Vec<[f64; 2]>, start_s: f64 },
}

/// A point in lon/lat degrees to the world's local metres.
pub fn local_m(frame: &LocalFrame, deg: [f64; 2]) -> [f64; 2] {
    let p = frame.to_local(deg[0], deg[1], 0.0);
    [p.x, p.y]
}

fn series(points: &[[f64; 2]]) -> Series {
    Series::new(points.iter().map(|p| (p[0], p[1])).collect())
}

impl HazardModel {
    /// The hazard of `spec` over `world` on `grid`; `structures` are the world's structures in the drill.
    pub fn build(
        spec: &Drill,
        world: &DrillWorld,
        frame: &LocalFrame,
        grid: Grid,
        structures: &[usize],
    ) -> Result<Self, HazardError> {
        Ok(match &spec.hazard {
            Hazard::Flood { inflows, rain_mm_h, depth_m, .. } => {
                let mut setup = FloodSetup::new(world.ground_on(grid), LandUse::Paved);
                let cells: Vec<Vec<usize>> = structures.iter().map(|&k| world.structures[k].cells(&grid)).collect();
                for &c in cells.iter().flatten() {
                    setup.blocked[c] = true;
                }
                for e in &world.roads.edges {
                    for p in &e.geometry {
                        if let Some((c, r)) = grid.cell_at(*p) {
                            setup.manning_n[grid.index(c, r)] = LandUse::Road.manning_n() as f32;
                        }
                    }
                }
                setup.inflows = inflows
                    .iter()
                    .map(|i| Inflow {
                        kind: if i.kind == "breach" { InflowKind::Breach } else { InflowKind::River },
                        at_m: local_m(frame, i.at_deg),
                        discharge_m3_s: series(&i.discharge_m3_s),
                    })
                    .collect();
                setup.rain_mm_h = series(rain_mm_h);
                setup.boundary = super::flood::Boundary::FreeOutflow { slope: 0.001 };
                let around = cells.iter().map(|own| ring_around(&grid, own, &setup.blocked)).collect();
                HazardModel::Flood(Box::new(FloodHazard { flood: Flood::new(setup)?, depth_m: *depth_m, around }))
            }
            Hazard::GasLeak {
                at_deg,
                height_m,
                rate_kg_s,
                start_s,
                stop_s,
                wind_speed_m_s,
                wind_from_deg,
                stability,
                substance,
            } => {
                let substance = Substance::named(substance).ok_or_else(|| HazardError::Substance(substance.clone()))?;
                let leak = Leak {
                    at_m: local_m(frame, *at_deg),
                    height_m: *height_m,
                    rate_kg_s: *rate_kg_s,
                    start_s: *start_s,
                    stop_s: *stop_s,
                    wind_speed_m_s: *wind_speed_m_s,
                    wind_from_deg: *wind_from_deg,
                    stability: *stability,
                };
                HazardModel::Gas(Box::new(Plume::new(leak, substance)?))
            }
            Hazard::Area { outline_deg, start_s } => HazardModel::Area {
                outline_m: outline_deg.iter().map(|p| local_m(frame, *p)).collect(),
                start_s: *start_s,
            },
        })
    }

    /// The names of the hazard's levels, most severe first.
    pub fn level_names(&self) -> Vec<String> {
        match self {
            HazardModel::Flood(f) => vec![format!("flooded (≥ {} m)", f.depth_m)],
            HazardModel::Gas(p) => p.substance.thresholds.iter().map(|t| t.name.clone()).collect(),
            HazardModel::Area { .. } => vec!["inside the cordon".into()],
        }
    }

    /// The level down to which buildings are evacuated (`named`, or by default the second threshold: AEGL-2,
    /// half the LEL) and the level that closes roads (indices into the levels).
    fn evacuate_and_close_levels(&self, named: Option<&str>) -> (usize, Option<usize>) {
        let names = self.level_names();
        let default = names.len().saturating_sub(1).min(1);
        let evacuate = named.and_then(|n| names.iter().position(|l| l == n)).unwrap_or(default);
        match self {
            HazardModel::Flood(_) | HazardModel::Gas(_) => (evacuate, Some(0)),
            HazardModel::Area { .. } => (evacuate, None),
        }
    }

    pub fn advance(&mut self, time_s: f64) {
        if let HazardModel::Flood(f) = self {
            f.flood.run_until(time_s);
        }
    }

    /// What a sensor at a point reads at `time_s`: water depth (m), concentration (ppm), or 1 inside a cordon.
    pub fn reading_at(&self, xy_m: [f64; 2], time_s: f64) -> f64 {
        match self {
            HazardModel::Flood(f) => {
                let g = f.flood.grid();
                g.cell_at(xy_m).map_or(0.0, |(c, r)| f.flood.depth_m()[g.index(c, r)])
            }
            HazardModel::Gas(p) => p.ppm_at(xy_m, BREATHING_HEIGHT_M, time_s),
            HazardModel::Area { outline_m, start_s } => {
                f64::from(u8::from(time_s >= *start_s && ring_contains(outline_m, xy_m)))
            }
        }
    }

    /// The most severe level a reading reaches.
    pub fn level_of_reading(&self, reading: f64) -> Option<usize> {
        match self {
            HazardModel::Flood(f) => (reading >= f.depth_m).then_some(0),
            HazardModel::Gas(p) => p.zone_of_ppm(reading),
            HazardModel::Area { .. } => (reading >= 1.0).then_some(0),
        }
    }

    /// The level a structure (the `local`-th of the drill's) is in at `time_s`.
    pub fn structure_level(&self, world: &DrillWorld, structure: usize, local: usize, time_s: f64) -> Option<usize> {
        match self {
            HazardModel::Flood(f) => {
                let depth = f.around[local].iter().fold(0.0f64, |m, &c| m.max(f.flood.depth_m()[c]));
                (depth >= f.depth_m).then_some(0)
            }
            _ => {
                let points = world.structures[structure].probe_points_m();
                points.filter_map(|p| self.level_of_reading(self.reading_at(p, time_s))).min()
            }
        }
    }

    /// Which structures leave (by their index among the drill's) and which road edges close, decided at the
    /// evacuation order: a flood looks ahead to `until_s` (a forecast run of the same model), a plume at its
    /// steady state, a cordon at its outline.
    pub fn evacuation_zone(
        &self,
        world: &DrillWorld,
        structures: &[usize],
        until_s: f64,
        level: Option<&str>,
    ) -> (Vec<usize>, Vec<usize>) {
        let (evacuate, close) = self.evacuate_and_close_levels(level);
        let worst: Box<dyn Fn([f64; 2]) -> f64> = match self {
            HazardModel::Flood(f) => {
                let mut forecast = f.flood.clone();
                let mut deepest = forecast.depth_m().to_vec();
                while forecast.time_s() < until_s {
                    forecast.run_until((forecast.time_s() + 60.0).min(until_s));
                    for (m, h) in deepest.iter_mut().zip(forecast.depth_m()) {
                        *m = m.max(*h);
                    }
                }
                let grid = *f.flood.grid();
                Box::new(move |p| grid.cell_at(p).map_or(0.0, |(c, r)| deepest[grid.index(c, r)]))
            }
            HazardModel::Gas(p) => Box::new(|xy| p.substance.ppm_of_g_m3(p.steady_g_m3(xy, BREATHING_HEIGHT_M))),
            HazardModel::Area { .. } => Box::new(|xy| self.reading_at(xy, f64::INFINITY)),
        };
        let leaves = |local: usize| match self {
            HazardModel::Flood(f) => f.around[local].iter().any(|&c| {
                let g = f.flood.grid();
                let [x, y] = g.centre_m(c % g.cols, c / g.cols);
                self.level_of_reading(worst([x, y])).is_some_and(|l| l <= evacuate)
            }),
            _ => {
                let mut points = world.structures[structures[local]].probe_points_m();
                points.any(|p| self.level_of_reading(worst(p)).is_some_and(|l| l <= evacuate))
            }
        };
        let leaving = (0..structures.len()).filter(|&k| leaves(k)).collect();
        let closed = match close {
            None => Vec::new(),
            Some(level) => (0..world.roads.edges.len())
                .filter(|&e| {
                    let edge = &world.roads.edges[e];
                    edge.geometry.iter().any(|p| self.level_of_reading(worst(*p)).is_some_and(|l| l <= level))
                })
                .collect(),
        };
        (leaving, closed)
    }
}

/// The open cells next to a building's own (4-neighbours), or its own cells when none are open.
fn ring_around(grid: &Grid, own: &[usize], blocked: &[bool]) -> Vec<usize> {
    let mut ring: Vec<usize> = Vec::new();
    for &i in own {
        let (c, r) = (i % grid.cols, i / grid.cols);
        let neighbours = [
            (c > 0).then(|| i - 1),
            (c + 1 < grid.cols).then(|| i + 1),
            (r > 0).then(|| i - grid.cols),
            (r + 1 < grid.rows).then(|| i + grid.cols),
        ];
        ring.extend(neighbours.into_iter().flatten().filter(|&n| !blocked[n]));
    }
    ring.sort_unstable();
    ring.dedup();
    if ring.is_empty() { own.to_vec() } else { ring }
}
