//! Emergency drills in the viewer: a catalog drill opened over the city's roads and buildings, its clock played,
//! paused, sped up and scrubbed; the hazard drawn (water by depth, gas zones, the evacuation's vehicles and
//! congested roads), the buildings in it coloured through the per-feature state, and the panel's numbers and
//! timeline. The models are the engine-free `crate::drill`; the simulation runs a few ticks a frame, within a
//! time budget, so the picture never stalls (on the desktop and in the browser alike).

mod draw;
mod edit;
mod panel;
mod sensors;

use std::sync::Arc;

use bevy::platform::time::Instant;
use bevy::prelude::*;

use super::DataServer;
use super::catalog::CatalogStatus;
use super::feature_state::{FeatureStyle, PropertyStyle};
use super::fetch::{Answer, get, get_optional};
use super::layers::Layer;
use super::markers::SensorMarkers;
use super::planning::Scenarios;
use crate::bim::ComponentStates;
use crate::drill::session::{DrillSession, TICK_S};
use crate::drill::world::{DrillWorld, Structure};
use crate::feature_state::FeatureState;
use crate::geo::{Cartographic, LocalFrame};
use crate::platform::Runtime;
use crate::protocol::catalog::Scenario;
use crate::protocol::drill::Drill as DrillSpec;
use crate::protocol::roads::RoadGraph;
use crate::terrain::DEM_FILE;
use crate::terrain::geotiff::read_geotiff;

pub use panel::drill_ui;

/// The city feature property that names a building (its feature id).
const CITY_FEATURE_ID: &str = "id";

/// How the drill clock runs.
#[derive(Resource, Debug, Clone)]
pub struct DrillSettings {
    /// Simulation work allowed per frame, ms (the clock waits for it, not the picture).
    pub budget_ms: f64,
}

impl Default for DrillSettings {
    fn default() -> Self {
        Self { budget_ms: 8.0 }
    }
}

/// A drill to open at start-up (`--drill ID[@SECONDS]`), played to that time.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct DrillStart {
    pub id: String,
    pub time_s: f64,
}

impl DrillStart {
    /// Reads `ID` or `ID@SECONDS`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (id, time) = s.split_once('@').unwrap_or((s, "0"));
        let time_s = time.parse::<f64>().ok().filter(|t| t.is_finite() && *t >= 0.0);
        match time_s {
            Some(time_s) if !id.is_empty() => Ok(Self { id: id.into(), time_s }),
            _ => Err(format!("{s:?}: a drill is ID or ID@SECONDS")),
        }
    }
}

/// The open drill and its clock.
#[derive(Resource, Default)]
pub struct Drill {
    pub open: Option<OpenDrill>,
    /// The scenario whose world is being fetched.
    pub loading: Option<Scenario>,
    pub error: Option<String>,
    pub playing: bool,
    /// Drill seconds per real second.
    pub speed: f64,
    /// The time the user wants to see; the session catches up tick by tick.
    pub clock_s: f64,
    /// The open drill's parameters as the panel edits them, until applied.
    pub draft: Option<DrillSpec>,
    /// The next click on the map places the hazard's source.
    pub placing: bool,
    /// Seconds of simulation work since the drill opened (what catching up cost, for the figures).
    pub work_s: f64,
    answer: Answer<Result<(DrillWorld, LocalFrame), String>>,
}

pub struct OpenDrill {
    pub scenario: Scenario,
    pub session: DrillSession,
    pub frame: LocalFrame,
}

impl Drill {
    /// Whether the session shows the clock's time (nothing left to simulate).
    pub fn caught_up(&self) -> bool {
        self.open.as_ref().is_none_or(|o| {
            let target = (self.clock_s.min(o.session.duration_s()) / TICK_S).floor() * TICK_S;
            o.session.time_s() == target
        })
    }

    pub fn close(&mut self) {
        self.open = None;
        self.work_s = 0.0;
        self.draft = None;
        self.placing = false;
        self.loading = None;
        self.playing = false;
        self.clock_s = 0.0;
    }
}

/// Fetches what a drill acts on: the city tileset's road graph, buildings and DEM (flat ground without one).
pub fn request_drill(drill: &mut Drill, scenario: &Scenario, server: &DataServer, runtime: &Runtime) {
    let Some(spec) = &scenario.drill else { return };
    drill.close();
    drill.error = None;
    drill.loading = Some(scenario.clone());
    let base = format!("/tiles/{}", spec.tileset);
    let [roads_url, buildings_url, dem_url] =
        ["roads.json", "buildings.json", DEM_FILE].map(|f| server.at(&format!("{base}/{f}")));
    let (centre_deg, half_size_m) = (spec.center_deg, spec.half_size_m);
    drill.answer.spawn(runtime, async move {
        let roads: RoadGraph = serde_json::from_slice(&get(&roads_url).await?)
            .map_err(|e| format!("{roads_url}: not a road graph: {e}"))?;
        let structures: Vec<Structure> = serde_json::from_slice(&get(&buildings_url).await?)
            .map_err(|e| format!("{buildings_url}: not a list of buildings: {e}"))?;
        let frame = LocalFrame::new(Cartographic::from_degrees(roads.origin_lon_deg, roads.origin_lat_deg, 0.0));
        let ground = match get_optional(&dem_url).await? {
            None => None,
            Some(bytes) => {
                let (dem, warnings) = read_geotiff(&bytes).map_err(|e| format!("{dem_url}: {e}"))?;
                for w in warnings.iter() {
                    warn!("{dem_url}: {w}");
                }
                // The drill's square and a cell around it.
                let c = frame.to_local(centre_deg[0], centre_deg[1], 0.0);
                let r = half_size_m + 2.0 * dem.cell_m();
                let grid = dem.local_grid([c.x - r, c.y - r], [c.x + r, c.y + r], 2.0);
                Some(dem.to_local(&frame, grid, 0.0))
            }
        };
        Ok((DrillWorld { ground, structures, roads, sensors: Vec::new() }, frame))
    });
}

/// Opens the start-up drill once the catalog is in.
fn open_at_start(
    start: Option<Res<DrillStart>>,
    catalog: Option<Res<CatalogStatus>>,
    scenarios: Res<Scenarios>,
    (server, runtime): (Option<Res<DataServer>>, Res<Runtime>),
    mut drill: ResMut<Drill>,
    mut done: Local<bool>,
) {
    if *done || catalog.is_none_or(|c| matches!(*c, CatalogStatus::Loading | CatalogStatus::None)) {
        return;
    }
    let (Some(start), Some(server)) = (start, server) else { return };
    *done = true;
    match scenarios.0.iter().find(|s| s.id == start.id && s.drill.is_some()) {
        Some(s) => {
            request_drill(&mut drill, s, &server, &runtime);
            drill.clock_s = start.time_s;
        }
        None => warn!("no drill {:?} in the catalog", start.id),
    }
}

/// Builds the session when its world has arrived, with the live sensors the drill drives.
fn receive_world(mut drill: ResMut<Drill>, markers: Option<Res<SensorMarkers>>) {
    let Some(answer) = drill.answer.take() else { return };
    let Some(scenario) = drill.loading.take() else { return };
    let opened = answer.and_then(|(mut world, frame)| {
        let spec = scenario.drill.clone().ok_or("not a drill")?;
        world.sensors = markers.map(|m| sensors::driven_sites(&m, &spec, &frame)).unwrap_or_default();
        let session = DrillSession::new(spec, &scenario.kind, world, &frame).map_err(|e| e.to_string())?;
        Ok(OpenDrill { scenario, session, frame })
    });
    match opened {
        Ok(open) => {
            info!("drill {} open: {} buildings in its square", open.scenario.id, open.session.affected().len());
            drill.draft = Some(open.session.spec().clone());
            drill.open = Some(open);
        }
        Err(e) => {
            error!("drill: {e}");
            drill.error = Some(e);
        }
    }
}

/// Moves the clock when playing and brings the session to it, within the frame's budget.
fn advance(time: Res<Time<Real>>, settings: Res<DrillSettings>, mut drill: ResMut<Drill>) {
    let drill = drill.as_mut();
    let Some(open) = &mut drill.open else { return };
    let duration = open.session.duration_s();
    if drill.playing {
        drill.clock_s = (drill.clock_s + time.delta_secs_f64() * drill.speed).min(duration);
        if drill.clock_s >= duration {
            drill.playing = false;
        }
    }
    open.session.rewind(drill.clock_s);
    let target = (drill.clock_s.min(duration) / TICK_S).floor() * TICK_S;
    if open.session.time_s() >= target {
        return;
    }
    let started = Instant::now();
    while open.session.time_s() < target && started.elapsed().as_secs_f64() * 1e3 < settings.budget_ms {
        open.session.advance_tick();
    }
    drill.work_s += started.elapsed().as_secs_f64();
    if open.session.time_s() >= target {
        let t = open.session.time_s();
        info!(
            "drill {} at {t} s after {:.1} s of simulation ({:.0}× real time)",
            open.scenario.id,
            drill.work_s,
            t / drill.work_s.max(1e-9)
        );
    }
}

/// Colours the city's buildings in the hazard by level (red, orange, yellow), through the per-feature state.
fn style_affected(
    drill: Res<Drill>,
    layers: Query<(Entity, &Layer)>,
    mut style: ResMut<FeatureStyle>,
    mut shown: Local<Option<(f64, usize)>>,
) {
    let now = drill.open.as_ref().map(|o| (o.session.time_s(), o.session.events().len()));
    if !drill.is_changed() || *shown == now {
        return;
    }
    *shown = now;
    let wanted = drill.open.as_ref().and_then(|open| {
        let spec = open.session.spec();
        let (city, _) = layers.iter().find(|(_, l)| l.id == spec.tileset)?;
        let states = open
            .session
            .affected()
            .into_iter()
            .map(|(id, level)| (id.to_owned(), FeatureState::coloured(draw::level_rgb(level))));
        let states = Arc::new(ComponentStates::from_states(states));
        Some(PropertyStyle { layer: city, property: CITY_FEATURE_ID.into(), states })
    });
    let same = match (&style.hazard, &wanted) {
        (Some(a), Some(b)) => a.layer == b.layer && *a.states == *b.states,
        (None, None) => true,
        _ => false,
    };
    if !same {
        style.hazard = wanted;
    }
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct DrillSystems;

pub struct DrillPlugin;

impl Plugin for DrillPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Drill>()
            .init_resource::<DrillSettings>()
            .init_resource::<Scenarios>()
            .init_resource::<FeatureStyle>()
            .add_systems(
                Update,
                (
                    open_at_start,
                    receive_world,
                    edit::place_source,
                    advance,
                    style_affected,
                    sensors::drive_sensors,
                    draw::draw_hazard,
                )
                    .chain()
                    .in_set(DrillSystems),
            );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drill_starts_parse() {
        assert_eq!(DrillStart::parse("flood-drill@1800"), Ok(DrillStart { id: "flood-drill".into(), time_s: 1800.0 }));
        assert_eq!(DrillStart::parse("gas").unwrap().time_s, 0.0);
        for bad in ["@5", "x@-1", "x@soon"] {
            assert!(DrillStart::parse(bad).is_err(), "{bad}");
        }
    }
}
