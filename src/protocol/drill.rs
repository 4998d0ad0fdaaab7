//! Emergency drills as the catalog serves them: the area, the hazard and its parameters, and the evacuation they
//! call for. Clients simulate them with the core's deterministic models, so every screen agrees.

use serde::{Deserialize, Serialize};

/// Bounds on a catalog drill, so that a client's work on one is bounded.
pub const MAX_DURATION_S: f64 = 24.0 * 3600.0;
pub const MAX_HALF_SIZE_M: f64 = 5000.0;
pub const MAX_DRILL_CELLS: usize = 4_000_000;
pub const MAX_SERIES_POINTS: usize = 1000;
pub const MAX_SOURCES: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drill {
    /// The tileset whose buildings and roads the drill acts on (its `roads.json` and `buildings.json`).
    #[serde(default = "default_tileset")]
    pub tileset: String,
    /// How long the drill's clock runs, s.
    pub duration_s: f64,
    /// The centre of the simulated square, `[lon_deg, lat_deg]`.
    pub center_deg: [f64; 2],
    /// Half its side, m.
    pub half_size_m: f64,
    pub hazard: Hazard,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evacuation: Option<EvacuationPlan>,
}

/// Pasquill–Gifford stability classes (A very unstable … F stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stability {
    A,
    B,
    C,
    D,
    E,
    F,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Hazard {
    /// Water over the ground: river and breach inflows and rain, on a grid of `cell_m`.
    Flood {
        cell_m: f64,
        #[serde(default)]
        inflows: Vec<InflowSpec>,
        /// Rain, `[t_s, mm_per_h]` points.
        #[serde(default)]
        rain_mm_h: Vec<[f64; 2]>,
        /// Depth from which a building counts as flooded and a road as closed, m.
        #[serde(default = "default_flood_depth_m")]
        depth_m: f64,
    },
    /// A leak on the gas network (or a chemical release) and the wind that carries it.
    GasLeak {
        at_deg: [f64; 2],
        height_m: f64,
        rate_kg_s: f64,
        start_s: f64,
        #[serde(default)]
        stop_s: Option<f64>,
        wind_speed_m_s: f64,
        wind_from_deg: f64,
        stability: Stability,
        /// `methane`, `chlorine` or `ammonia`.
        substance: String,
    },
    /// A cordon drawn by hand (a threat, an unexploded device): everyone inside leaves.
    Area { outline_deg: Vec<[f64; 2]>, start_s: f64 },
}

fn default_tileset() -> String {
    "city".into()
}

fn default_flood_depth_m() -> f64 {
    0.3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InflowSpec {
    /// `river` or `breach`.
    pub kind: String,
    pub at_deg: [f64; 2],
    /// `[t_s, m3_per_s]` points.
    pub discharge_m3_s: Vec<[f64; 2]>,
}

/// Who leaves, when, and where to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvacuationPlan {
    /// When the order to leave is given, s on the drill clock.
    pub order_s: f64,
    /// Departures spread over this long after the order, s.
    #[serde(default)]
    pub departure_window_s: f64,
    pub shelters: Vec<Shelter>,
    /// People per vehicle leaving.
    #[serde(default = "default_people_per_vehicle")]
    pub people_per_vehicle: f64,
    /// The hazard level whose buildings leave (a threshold's name, e.g. `10 % LEL` or `AEGL-1`); by default the
    /// second most severe (AEGL-2, 50 % LEL), or the only one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evacuate_level: Option<String>,
}

fn default_people_per_vehicle() -> f64 {
    2.5
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shelter {
    pub name: String,
    pub at_deg: [f64; 2],
}

fn lon_lat(p: &[f64; 2]) -> bool {
    p[0].is_finite() && p[1].is_finite() && p[0].abs() <= 180.0 && p[1].abs() < 90.0
}

fn series(points: &[[f64; 2]]) -> bool {
    points.len() <= MAX_SERIES_POINTS
        && points.iter().all(|p| p[0].is_finite() && p[1].is_finite() && p[1] >= 0.0)
        && points.windows(2).all(|w| w[0][0] <= w[1][0])
}

impl Drill {
    /// What a well-formed drill needs; the kind it names (`flood`, `gas_leak`, `evacuation`) must match its hazard.
    pub fn check(&self, kind: &str) -> Result<(), String> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(self.duration_s) && self.duration_s <= MAX_DURATION_S) {
            return Err(format!("duration_s must lie in (0, {MAX_DURATION_S}]"));
        }
        let area = lon_lat(&self.center_deg) && positive(self.half_size_m) && self.half_size_m <= MAX_HALF_SIZE_M;
        if !area {
            return Err(format!("center_deg must be [lon, lat] and half_size_m in (0, {MAX_HALF_SIZE_M}]"));
        }
        let expected = match &self.hazard {
            Hazard::Flood { cell_m, inflows, rain_mm_h, depth_m } => {
                let cells = (2.0 * self.half_size_m / cell_m).powi(2);
                if !(positive(*cell_m) && cells <= MAX_DRILL_CELLS as f64) {
                    return Err(format!("a flood grid needs cells of a size that makes at most {MAX_DRILL_CELLS}"));
                }
                let inflow_ok = |i: &InflowSpec| {
                    matches!(i.kind.as_str(), "river" | "breach") && lon_lat(&i.at_deg) && series(&i.discharge_m3_s)
                };
                if inflows.len() > MAX_SOURCES || !inflows.iter().all(inflow_ok) || !series(rain_mm_h) {
                    return Err(format!("at most {MAX_SOURCES} river or breach inflows, with well-formed series"));
                }
                if !positive(*depth_m) {
                    return Err("depth_m must be positive".into());
                }
                if inflows.is_empty() && rain_mm_h.is_empty() {
                    return Err("a flood needs an inflow or rain".into());
                }
                "flood"
            }
            Hazard::GasLeak { at_deg, height_m, rate_kg_s, start_s, stop_s, wind_speed_m_s, wind_from_deg, .. } => {
                let ok = lon_lat(at_deg)
                    && height_m.is_finite()
                    && *height_m >= 0.0
                    && positive(*rate_kg_s)
                    && start_s.is_finite()
                    && stop_s.is_none_or(|s| s > *start_s)
                    && *wind_speed_m_s >= 1.0
                    && wind_speed_m_s.is_finite()
                    && wind_from_deg.is_finite();
                if !ok {
                    return Err(
                        "a leak needs a place, a height ≥ 0, a rate > 0, a stop after its start and wind ≥ 1 m/s"
                            .into(),
                    );
                }
                "gas_leak"
            }
            Hazard::Area { outline_deg, start_s } => {
                if !(3..=super::catalog::MAX_OUTLINE_POINTS).contains(&outline_deg.len())
                    || !outline_deg.iter().all(lon_lat)
                    || !start_s.is_finite()
                {
                    return Err("an area needs 3 to 1024 [lon, lat] points".into());
                }
                "evacuation"
            }
        };
        if kind != expected {
            return Err(format!("a {kind} drill cannot have a {expected} hazard"));
        }
        if let Some(plan) = &self.evacuation {
            let ok = plan.order_s.is_finite()
                && plan.departure_window_s.is_finite()
                && plan.departure_window_s >= 0.0
                && positive(plan.people_per_vehicle)
                && (1..=MAX_SOURCES).contains(&plan.shelters.len())
                && plan.shelters.iter().all(|s| lon_lat(&s.at_deg));
            if !ok {
                return Err(format!(
                    "an evacuation needs an order time, 1 to {MAX_SOURCES} shelters and people per vehicle > 0"
                ));
            }
        } else if kind == "evacuation" {
            return Err("an evacuation drill needs an evacuation plan".into());
        }
        Ok(())
    }

    /// Where the hazard starts: the leak, the flood's breach (else its first inflow), the cordon's centre.
    pub fn source_deg(&self) -> Option<[f64; 2]> {
        match &self.hazard {
            Hazard::GasLeak { at_deg, .. } => Some(*at_deg),
            Hazard::Flood { inflows, .. } => {
                inflows.iter().find(|i| i.kind == "breach").or(inflows.first()).map(|i| i.at_deg)
            }
            Hazard::Area { outline_deg, .. } => {
                let n = outline_deg.len().max(1) as f64;
                let sum = outline_deg.iter().fold([0.0, 0.0], |s, p| [s[0] + p[0], s[1] + p[1]]);
                (!outline_deg.is_empty()).then_some([sum[0] / n, sum[1] / n])
            }
        }
    }

    /// Moves the hazard's source (see [`Self::source_deg`]) to `at_deg`: a cordon moves whole.
    pub fn move_source(&mut self, at_deg: [f64; 2]) {
        let Some(from) = self.source_deg() else { return };
        let shift = [at_deg[0] - from[0], at_deg[1] - from[1]];
        match &mut self.hazard {
            Hazard::GasLeak { at_deg: leak, .. } => *leak = at_deg,
            Hazard::Flood { inflows, .. } => {
                let k = inflows.iter().position(|i| i.kind == "breach").unwrap_or(0);
                if let Some(i) = inflows.get_mut(k) {
                    i.at_deg = at_deg;
                }
            }
            Hazard::Area { outline_deg, .. } => {
                for p in outline_deg {
                    *p = [p[0] + shift[0], p[1] + shift[1]];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_moves_where_it_is_placed() {
        let mut leak = Drill {
            tileset: "city".into(),
            duration_s: 600.0,
            center_deg: [114.0, 22.5],
            half_size_m: 500.0,
            hazard: Hazard::GasLeak {
                at_deg: [114.0, 22.5],
                height_m: 0.5,
                rate_kg_s: 1.0,
                start_s: 0.0,
                stop_s: None,
                wind_speed_m_s: 2.0,
                wind_from_deg: 90.0,
                stability: Stability::D,
                substance: "methane".into(),
            },
            evacuation: None,
        };
        leak.move_source([114.001, 22.502]);
        assert_eq!(leak.source_deg(), Some([114.001, 22.502]));
        let inflow = |kind: &str, at_deg| InflowSpec { kind: kind.into(), at_deg, discharge_m3_s: vec![[0.0, 1.0]] };
        let mut flood = Drill {
            hazard: Hazard::Flood {
                cell_m: 10.0,
                inflows: vec![inflow("river", [114.0, 22.5]), inflow("breach", [114.002, 22.5])],
                rain_mm_h: vec![],
                depth_m: 0.3,
            },
            ..leak.clone()
        };
        flood.move_source([114.003, 22.501]);
        let Hazard::Flood { inflows, .. } = &flood.hazard else { unreachable!() };
        assert_eq!((inflows[0].at_deg, inflows[1].at_deg), ([114.0, 22.5], [114.003, 22.501]), "the breach moves");
        let mut cordon = Drill {
            hazard: Hazard::Area { outline_deg: vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]], start_s: 0.0 },
            ..leak
        };
        cordon.move_source([10.0, 20.0]);
        let Hazard::Area { outline_deg, .. } = &cordon.hazard else { unreachable!() };
        assert_eq!(outline_deg[0], [9.0, 19.0], "the whole cordon moves");
        assert_eq!(cordon.source_deg(), Some([10.0, 20.0]));
    }
}
