//! A drill on its clock: the hazard and the evacuation advanced in fixed ticks (so every client lands on the same
//! states whatever its frame times), the events of the timeline, figures every minute, and snapshots to scrub back
//! to: seeking to an earlier time restores the last snapshot before it and replays, which repeats exactly.

use serde::{Deserialize, Serialize};

use super::evacuation::{Evacuation, EvacuationError, EvacuationSetup, EvacuationSummary, Origin};
use super::flood::FloodState;
use super::hazard::{HazardError, HazardModel, local_m};
use super::raster::Grid;
use super::world::DrillWorld;
use crate::geo::LocalFrame;
use crate::protocol::drill::{Drill, Hazard};

/// The drill clock's tick, s: every state shown is the state at a whole tick.
pub const TICK_S: f64 = 5.0;
/// The evacuation's cell-transmission step, s.
const EVACUATION_STEP_S: f64 = 1.0;
/// Figures are recorded this often, s.
pub const FIGURES_EVERY_S: f64 = 60.0;
/// Snapshots start this far apart and spread out (every other one dropped) to stay within the budget.
const SNAPSHOT_EVERY_S: f64 = 300.0;
/// How far ahead a flood is forecast when the evacuation is ordered (the zone is where it will be by then).
const FORECAST_HORIZON_S: f64 = 1800.0;
const SNAPSHOT_BUDGET_BYTES: usize = 256 << 20;
/// Cells across the grid of a drill with no flood (for drawing zones).
const ZONE_CELLS: usize = 256;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DrillError {
    #[error("the drill is not well formed: {0}")]
    Spec(String),
    #[error(transparent)]
    Hazard(#[from] HazardError),
    #[error(transparent)]
    Evacuation(#[from] EvacuationError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Incident,
    Warning,
    Alarm,
    RoadClosure,
    Order,
    Cleared,
}

/// A moment on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillEvent {
    pub time_s: f64,
    pub kind: EventKind,
    pub text: String,
}

/// The drill's numbers at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub time_s: f64,
    /// Buildings and people at each level of the hazard (most severe first), each counted at its worst level.
    pub buildings_by_level: Vec<usize>,
    pub people_by_level: Vec<f64>,
    pub sensors_in_hazard: usize,
    /// A flood's wet area (at least its threshold deep), volume and deepest water.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flood: Option<super::flood::FloodSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evacuation: Option<EvacuationSummary>,
}

/// Which of the once-only events have happened.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Fired {
    first_building: bool,
    first_sensor: bool,
    cleared: bool,
}

#[derive(Debug, Clone)]
struct Snapshot {
    tick: u64,
    flood: Option<FloodState>,
    evacuation: Option<Evacuation>,
    fired: Fired,
    events: usize,
    figures: usize,
}

impl Snapshot {
    fn bytes(&self) -> usize {
        self.flood.as_ref().map_or(0, FloodState::bytes) + 64 * self.evacuation.as_ref().map_or(0, |e| e.links().len())
    }
}

/// An evacuation and the people it moves.
#[derive(Debug, Clone)]
struct Plan {
    setup: EvacuationSetup,
    people_per_vehicle: f64,
    level: Option<String>,
}

/// A running drill.
#[derive(Debug, Clone)]
pub struct DrillSession {
    spec: Drill,
    world: DrillWorld,
    grid: Grid,
    /// The world's structures in the drill's square.
    structures: Vec<usize>,
    hazard: HazardModel,
    plan: Option<Plan>,
    evacuation: Option<Evacuation>,
    closed_edges: Vec<usize>,
    evacuees: Vec<usize>,
    tick: u64,
    fired: Fired,
    /// The events the catalog entry fixes in time, in order.
    schedule: Vec<DrillEvent>,
    events: Vec<DrillEvent>,
    figures: Vec<Figures>,
    snapshots: Vec<Snapshot>,
    snapshot_every_ticks: u64,
}

impl DrillSession {
    /// A drill of catalog `kind` over `world` (in the local frame `frame`), at time 0.
    pub fn new(spec: Drill, kind: &str, world: DrillWorld, frame: &LocalFrame) -> Result<Self, DrillError> {
        spec.check(kind).map_err(DrillError::Spec)?;
        let half = spec.half_size_m;
        let cell_m = match spec.hazard {
            Hazard::Flood { cell_m, .. } => cell_m,
            _ => 2.0 * half / ZONE_CELLS as f64,
        };
        let n = ((2.0 * half / cell_m).ceil() as usize).max(1);
        let [cx, cy] = local_m(frame, spec.center_deg);
        let grid = Grid { cols: n, rows: n, cell_m, origin_m: [cx - half, cy - half] };
        let structures = world.structures_in(&grid);
        let hazard = HazardModel::build(&spec, &world, frame, grid, &structures)?;
        let plan = match &spec.evacuation {
            None => None,
            Some(p) => {
                let at: Vec<[f64; 2]> = p.shelters.iter().map(|s| local_m(frame, s.at_deg)).collect();
                let shelters: Vec<usize> =
                    world.nearest_nodes(&at, &world.drivable_nodes()).into_iter().flatten().collect();
                if shelters.is_empty() {
                    return Err(DrillError::Spec("no shelter is near a drivable road".into()));
                }
                let setup = EvacuationSetup {
                    origins: Vec::new(),
                    shelters,
                    closed_edges: Vec::new(),
                    start_s: p.order_s,
                    departure_window_s: p.departure_window_s,
                    step_s: EVACUATION_STEP_S,
                };
                Some(Plan { setup, people_per_vehicle: p.people_per_vehicle, level: p.evacuate_level.clone() })
            }
        };
        let schedule = Self::schedule(&spec);
        let mut session = Self {
            snapshot_every_ticks: (SNAPSHOT_EVERY_S / TICK_S) as u64,
            spec,
            world,
            grid,
            structures,
            hazard,
            plan,
            evacuation: None,
            closed_edges: Vec::new(),
            evacuees: Vec::new(),
            tick: 0,
            fired: Fired::default(),
            schedule,
            events: Vec::new(),
            figures: Vec::new(),
            snapshots: Vec::new(),
        };
        session.after_tick();
        Ok(session)
    }

    pub fn spec(&self) -> &Drill {
        &self.spec
    }

    pub fn world(&self) -> &DrillWorld {
        &self.world
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    pub fn hazard(&self) -> &HazardModel {
        &self.hazard
    }

    pub fn evacuation(&self) -> Option<&Evacuation> {
        self.evacuation.as_ref()
    }

    /// Road edges closed by the hazard (from the evacuation order on).
    pub fn closed_edges(&self) -> &[usize] {
        &self.closed_edges
    }

    pub fn events(&self) -> &[DrillEvent] {
        &self.events
    }

    pub fn figures(&self) -> &[Figures] {
        &self.figures
    }

    pub fn time_s(&self) -> f64 {
        self.tick as f64 * TICK_S
    }

    pub fn duration_s(&self) -> f64 {
        self.spec.duration_s
    }

    /// The clock to the last whole tick at or before `time_s` (within the drill): forwards by simulating, backwards
    /// by restoring the last snapshot before it and replaying.
    pub fn seek(&mut self, time_s: f64) {
        self.rewind(time_s);
        let target = (time_s.clamp(0.0, self.spec.duration_s) / TICK_S).floor() as u64;
        while self.tick < target {
            self.advance_tick();
        }
    }

    /// Back to the last snapshot at or before `time_s` (when that is earlier than now), without replaying: the
    /// caller steps forward with [`Self::advance_tick`] as its time allows (the viewer, a few ticks a frame).
    pub fn rewind(&mut self, time_s: f64) {
        let target = (time_s.clamp(0.0, self.spec.duration_s) / TICK_S).floor() as u64;
        if target < self.tick
            && let Some(snapshot) = self.snapshots.iter().rev().find(|s| s.tick <= target).cloned()
        {
            self.restore(snapshot);
        }
    }

    fn restore(&mut self, s: Snapshot) {
        self.tick = s.tick;
        if let (HazardModel::Flood(f), Some(state)) = (&mut self.hazard, &s.flood) {
            f.flood.restore(state);
        }
        if s.evacuation.is_none() {
            self.closed_edges.clear();
            self.evacuees.clear();
        }
        self.evacuation = s.evacuation;
        self.fired = s.fired;
        self.events.truncate(s.events);
        self.figures.truncate(s.figures);
    }

    /// One tick forward (nothing at the drill's end).
    pub fn advance_tick(&mut self) {
        let t = (self.tick + 1) as f64 * TICK_S;
        if t > self.spec.duration_s + 1e-9 {
            return;
        }
        self.hazard.advance(t);
        if self.evacuation.is_none()
            && let Some(plan) = &self.plan
            && t >= plan.setup.start_s
        {
            self.order_evacuation(t);
        }
        if let Some(e) = &mut self.evacuation {
            e.run_until(t);
        }
        self.tick += 1;
        self.after_tick();
    }

    /// The events, figures and snapshot due at the tick just reached.
    fn after_tick(&mut self) {
        let t = self.time_s();
        let due = |e: &&DrillEvent| e.time_s <= t && (e.time_s > t - TICK_S || self.tick == 0);
        let scheduled: Vec<DrillEvent> = self.schedule.iter().filter(due).cloned().collect();
        self.events.extend(scheduled);
        let levels = self.structure_levels();
        let alarms: Vec<(String, f64)> =
            self.sensor_readings().into_iter().filter(|r| r.2.is_some()).map(|(id, r, _)| (id.to_owned(), r)).collect();
        if !self.fired.first_building && levels.iter().any(Option::is_some) {
            self.fired.first_building = true;
            let n = levels.iter().filter(|l| l.is_some()).count();
            self.event(t, EventKind::Warning, format!("The hazard reaches buildings ({n})"));
        }
        if !self.fired.first_sensor
            && let Some((id, reading)) = alarms.first()
        {
            let text = format!("Sensor {id} alarms: {reading:.2} {}", self.reading_unit());
            self.fired.first_sensor = true;
            self.event(t, EventKind::Alarm, text);
        }
        if let Some(e) = &self.evacuation
            && !self.fired.cleared
            && let Some(clear) = e.summary().clearance_s
        {
            self.fired.cleared = true;
            let minutes = (clear - self.plan.as_ref().map_or(0.0, |p| p.setup.start_s)) / 60.0;
            self.event(t, EventKind::Cleared, format!("Evacuation complete, {minutes:.0} min after the order"));
        }
        if self.tick.is_multiple_of((FIGURES_EVERY_S / TICK_S) as u64) {
            let figures = self.figures_now(&levels, alarms.len());
            self.figures.push(figures);
        }
        if self.tick.is_multiple_of(self.snapshot_every_ticks) {
            self.take_snapshot();
        }
    }

    fn event(&mut self, time_s: f64, kind: EventKind, text: String) {
        self.events.push(DrillEvent { time_s, kind, text });
    }

    /// Events the catalog entry fixes in time: sources starting, a leak shut off, a cordon drawn.
    fn schedule(spec: &Drill) -> Vec<DrillEvent> {
        let at = |time_s: f64, text: String| DrillEvent { time_s: time_s.max(0.0), kind: EventKind::Incident, text };
        let mut events = match &spec.hazard {
            Hazard::Flood { inflows, rain_mm_h, .. } => {
                // A source starts where its series leaves zero: at the last zero point before the first flow.
                let first = |points: &[[f64; 2]]| {
                    let k = points.iter().position(|p| p[1] > 0.0)?;
                    Some(points[k.saturating_sub(1)][0])
                };
                let sources = inflows.iter().filter_map(|i| {
                    let text = if i.kind == "breach" { "Levee breach" } else { "The river rises" };
                    first(&i.discharge_m3_s).map(|s| at(s, text.into()))
                });
                sources.chain(first(rain_mm_h).map(|s| at(s, "Heavy rain begins".into()))).collect()
            }
            Hazard::GasLeak { start_s, stop_s, rate_kg_s, substance, .. } => {
                let mut e = vec![at(*start_s, format!("A {substance} leak, {rate_kg_s} kg/s"))];
                e.extend(stop_s.map(|s| at(s, "The leak is shut off".into())));
                e
            }
            Hazard::Area { start_s, .. } => vec![at(*start_s, "Cordon set".into())],
        };
        events.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        events
    }

    /// Decides who leaves and which roads close, and starts the evacuation.
    fn order_evacuation(&mut self, t: f64) {
        let Some(plan) = &self.plan else { return };
        let until_s = (t + FORECAST_HORIZON_S).min(self.spec.duration_s);
        let (leaving, closed) =
            self.hazard.evacuation_zone(&self.world, &self.structures, until_s, plan.level.as_deref());
        let centroids: Vec<[f64; 2]> =
            leaving.iter().map(|&k| self.world.structures[self.structures[k]].centroid_m()).collect();
        // People walk out to the nearest road with an open route to a shelter.
        let open = super::evacuation::routable_nodes(&self.world.roads, &plan.setup.shelters, &closed);
        let nodes = self.world.nearest_nodes(&centroids, &open);
        let mut per_node: std::collections::BTreeMap<usize, f64> = Default::default();
        for (&k, node) in leaving.iter().zip(nodes) {
            if let Some(node) = node {
                *per_node.entry(node).or_default() +=
                    self.world.structures[self.structures[k]].occupants() / plan.people_per_vehicle;
            }
        }
        let mut setup = plan.setup.clone();
        setup.origins = per_node.into_iter().map(|(node, vehicles)| Origin { node, vehicles }).collect();
        setup.closed_edges = closed.clone();
        let people: f64 = leaving.iter().map(|&k| self.world.structures[self.structures[k]].occupants()).sum();
        let order = plan.setup.start_s;
        if !closed.is_empty() {
            self.event(order, EventKind::RoadClosure, format!("{} road stretches closed", closed.len()));
        }
        self.event(
            order,
            EventKind::Order,
            format!("Evacuation ordered: {} buildings, {people:.0} people", leaving.len()),
        );
        match Evacuation::new(&self.world.roads, setup) {
            Ok(mut e) => {
                e.run_until(t);
                self.evacuation = Some(e);
            }
            Err(err) => self.event(order, EventKind::Warning, format!("No evacuation: {err}")),
        }
        self.closed_edges = closed;
        self.evacuees = leaving;
    }

    fn take_snapshot(&mut self) {
        let snapshot = Snapshot {
            tick: self.tick,
            flood: match &self.hazard {
                HazardModel::Flood(f) => Some(f.flood.state()),
                _ => None,
            },
            evacuation: self.evacuation.clone(),
            fired: self.fired,
            events: self.events.len(),
            figures: self.figures.len(),
        };
        self.snapshots.push(snapshot);
        // Over budget: keep every other snapshot (the first always) and take them half as often.
        while self.snapshots.iter().map(Snapshot::bytes).sum::<usize>() > SNAPSHOT_BUDGET_BYTES
            && self.snapshots.len() > 1
        {
            let mut k = 0;
            self.snapshots.retain(|_| {
                k += 1;
                k % 2 == 1
            });
            self.snapshot_every_ticks *= 2;
        }
    }

    /// Each of the drill's structures' level now (an index into [`HazardModel::level_names`]).
    pub fn structure_levels(&self) -> Vec<Option<usize>> {
        let t = self.time_s();
        (0..self.structures.len())
            .map(|local| self.hazard.structure_level(&self.world, self.structures[local], local, t))
            .collect()
    }

    /// The city feature ids of the structures in the hazard now, with their level.
    pub fn affected(&self) -> Vec<(&str, usize)> {
        self.structure_levels()
            .into_iter()
            .enumerate()
            .filter_map(|(k, l)| l.map(|l| (self.world.structures[self.structures[k]].id.as_str(), l)))
            .collect()
    }

    /// The unit of the hazard's readings.
    pub fn reading_unit(&self) -> &'static str {
        match self.hazard {
            HazardModel::Flood(_) => "m",
            HazardModel::Gas(_) => "ppm",
            HazardModel::Area { .. } => "",
        }
    }

    /// What the sensors in the drill's square read now (drill mode): id, reading and level, for those reading
    /// anything.
    pub fn sensor_readings(&self) -> Vec<(&str, f64, Option<usize>)> {
        let t = self.time_s();
        let (lo, hi) = self.grid.extent_m();
        self.world
            .sensors
            .iter()
            .filter(|s| s.at_m[0] >= lo[0] && s.at_m[0] <= hi[0] && s.at_m[1] >= lo[1] && s.at_m[1] <= hi[1])
            .filter_map(|s| {
                let reading = self.hazard.reading_at(s.at_m, t);
                (reading > 0.0).then(|| (s.id.as_str(), reading, self.hazard.level_of_reading(reading)))
            })
            .collect()
    }

    fn figures_now(&self, levels: &[Option<usize>], sensors_in_hazard: usize) -> Figures {
        let n = self.hazard.level_names().len();
        let (mut buildings_by_level, mut people_by_level) = (vec![0; n], vec![0.0; n]);
        for (k, level) in levels.iter().enumerate() {
            if let Some(l) = level {
                buildings_by_level[*l] += 1;
                people_by_level[*l] += self.world.structures[self.structures[k]].occupants();
            }
        }
        Figures {
            time_s: self.time_s(),
            buildings_by_level,
            people_by_level,
            sensors_in_hazard,
            flood: match &self.hazard {
                HazardModel::Flood(f) => Some(f.flood.summary(f.depth_m)),
                _ => None,
            },
            evacuation: self.evacuation.as_ref().map(Evacuation::summary),
        }
    }

    /// People per vehicle of the evacuation plan.
    pub fn people_per_vehicle(&self) -> Option<f64> {
        self.plan.as_ref().map(|p| p.people_per_vehicle)
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
