//! A drill's result to take away: its events and its figures minute by minute, as JSON (everything) or CSV (one
//! row a minute, for a spreadsheet).

use serde::{Deserialize, Serialize};

use super::session::{DrillEvent, DrillSession, Figures};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillReport {
    pub name: String,
    pub kind: String,
    pub duration_s: f64,
    /// The hazard's levels, most severe first (the columns of the per-level figures).
    pub levels: Vec<String>,
    pub events: Vec<DrillEvent>,
    pub figures: Vec<Figures>,
    /// When the last evacuee reached a shelter, s on the drill clock.
    pub clearance_s: Option<f64>,
    pub people_per_vehicle: Option<f64>,
}

impl DrillReport {
    /// What the session has simulated so far.
    pub fn of(session: &DrillSession, name: &str, kind: &str) -> Self {
        Self {
            name: name.into(),
            kind: kind.into(),
            duration_s: session.duration_s(),
            levels: session.hazard().level_names(),
            events: session.events().to_vec(),
            figures: session.figures().to_vec(),
            clearance_s: session.evacuation().and_then(|e| e.summary().clearance_s),
            people_per_vehicle: session.people_per_vehicle(),
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report is plain data")
    }

    /// One row a minute: time, buildings and people per level, sensors, the flood's figures and the evacuation's
    /// (in people).
    pub fn csv(&self) -> String {
        let mut out = String::from("time_s");
        for l in &self.levels {
            let l = l.replace(',', ";");
            out += &format!(",buildings {l},people {l}");
        }
        out += ",sensors_in_hazard,flooded_area_m2,flood_volume_m3,depth_max_m,evacuees_waiting,evacuees_moving,evacuees_arrived\n";
        let ppv = self.people_per_vehicle.unwrap_or(1.0);
        let blank = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
        for f in &self.figures {
            out += &format!("{}", f.time_s);
            for (b, p) in f.buildings_by_level.iter().zip(&f.people_by_level) {
                out += &format!(",{b},{p:.0}");
            }
            let e = f.evacuation.as_ref();
            out += &format!(
                ",{},{},{},{},{},{},{}\n",
                f.sensors_in_hazard,
                blank(f.flood.map(|x| x.flooded_area_m2)),
                blank(f.flood.map(|x| x.volume_m3)),
                blank(f.flood.map(|x| x.depth_max_m)),
                blank(e.map(|x| x.waiting_veh * ppv)),
                blank(e.map(|x| x.moving_veh * ppv)),
                blank(e.map(|x| x.arrived_veh * ppv)),
            );
        }
        out
    }
}
