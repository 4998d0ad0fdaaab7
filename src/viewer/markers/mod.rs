//! MarkersPlugin: the live sensors in the scene. Sites and readings from the live stream
//! ([`SensorNews`]) go into the engine-free chunks (`markers::MarkerChunks`); each chunk is one
//! entity drawn with one instanced draw (`draw`), as a cluster (count, worst level) when far and
//! as every sensor when near, with a band between so it does not flicker. A chunk's instance
//! buffer is rebuilt only when a reading changed it, its detail switched or the floating origin
//! moved. Sensor layers from the catalog switch their markers per view; the server sends no site
//! of a layer the user's role may not see, so none can be drawn.

mod draw;
mod labels;
mod panel;

use std::collections::HashMap;
use std::sync::Arc;

use bevy::prelude::*;

use super::camera::GeoCamera;
use super::catalog::LayerSource;
use super::layers::LayerViews;
use super::live::{Live, SensorNews};
use super::origin::FloatingOrigin;
use super::views::{MainView, SecondView};
use crate::markers::chunks::{ChunkKey, MarkerChunks};
use crate::markers::cluster::{Detail, next_detail};
use crate::markers::pace::{PaceBudget, Paced};
use crate::markers::ramp::legend;
use crate::protocol::live::Reading;
use crate::protocol::sensors::SensorKind;

pub use draw::{MarkerBatch, MarkerViews, Symbol};
pub use labels::sensor_labels_ui;
pub use panel::{History, SelectedSensor, SensorAtStart, nearest_symbol, pick_sensor, sensor_panel_ui};

/// How markers draw.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct MarkerSettings {
    /// A chunk nearer than this draws every sensor; farther than 1.3 × this, one cluster.
    pub split_m: f64,
    /// How many readings a frame applies and how many instances it rebuilds, at most.
    pub pace: PaceBudget,
    /// Whether the near sensors show their values (`labels`).
    pub labels: bool,
}

impl Default for MarkerSettings {
    fn default() -> Self {
        Self { split_m: 3_000.0, pace: PaceBudget::default(), labels: true }
    }
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct MarkersSystems;

/// Every sensor placed so far, by chunk, and each chunk's entity and detail.
#[derive(Resource, Default)]
pub struct SensorMarkers {
    pub chunks: MarkerChunks,
    entities: HashMap<ChunkKey, (Entity, Detail)>,
    /// Readings and chunks waiting for a frame with room.
    pub paced: Paced,
    /// Instances rebuilt since the start (chunks × times), for the bench and the tests.
    pub rebuilt: u64,
    /// Sensors an open drill drives: their live readings wait until it closes.
    pub drilled: std::collections::HashSet<u32>,
}

impl SensorMarkers {
    /// The sensors drawn one by one (in chunks near the eye), with where they are.
    pub fn near_sensors(&self) -> impl Iterator<Item = (u32, glam::DVec3)> + '_ {
        self.entities
            .iter()
            .filter(|(_, (_, d))| *d == Detail::Sensors)
            .filter_map(|(key, _)| self.chunks.get(key))
            .flat_map(|c| c.sites_ecef())
    }
}

/// A chunk's entity.
#[derive(Component, Debug, Clone, Copy)]
pub struct MarkerChunk(pub ChunkKey);

pub struct MarkersPlugin;

impl Plugin for MarkersPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<MarkerSettings>()
            .init_resource::<SensorMarkers>()
            .init_resource::<SelectedSensor>()
            .init_resource::<SensorAtStart>()
            .add_plugins(draw::MarkerDrawPlugin)
            .add_systems(
                Update,
                (ingest, rebuild, show_per_view, panel::choose_at_start, panel::choose, panel::follow_history)
                    .chain()
                    .in_set(MarkersSystems),
            );
    }
}

/// Places new sites and applies readings to the chunks.
fn ingest(
    mut news: MessageReader<SensorNews>,
    mut markers: ResMut<SensorMarkers>,
    live: Res<Live>,
    settings: Res<MarkerSettings>,
) {
    let markers = &mut *markers;
    for n in news.read() {
        match n {
            SensorNews::Sites(sites) => {
                for s in sites {
                    // A reading that came before its site (a reconnect) colours it at once.
                    if markers.chunks.add_site(s)
                        && let Some((value, level)) = live.readings.get(&s.0)
                    {
                        markers.chunks.set_reading(&Reading(s.0, *value, *level));
                    }
                }
            }
            SensorNews::Readings { readings, .. } => {
                let drilled = &markers.drilled;
                markers.paced.push_readings(readings.iter().filter(|r| !drilled.contains(&r.0)).copied());
            }
        }
    }
    markers.paced.apply(&mut markers.chunks, settings.pace.readings_per_frame);
}

/// Rebuilds the instances of chunks whose readings, detail or frame changed; spawns new chunks.
fn rebuild(
    mut commands: Commands,
    mut markers: ResMut<SensorMarkers>,
    settings: Res<MarkerSettings>,
    origin: Res<FloatingOrigin>,
    cam: Res<GeoCamera>,
    mut batches: Query<&mut MarkerBatch>,
) {
    let markers = &mut *markers;
    let mut dirty: Vec<ChunkKey> = Vec::new();
    // Detail follows the eye's distance to each chunk's centre.
    for chunk in markers.chunks.iter() {
        let centre = chunk.ecef_from_chunk.w_axis.truncate();
        let distance_m = (centre - cam.position_ecef).length();
        let entry = markers.entities.get_mut(&chunk.key);
        let current = entry.as_ref().map_or(Detail::Cluster, |(_, d)| *d);
        let next = next_detail(current, distance_m, settings.split_m);
        match entry {
            Some((_, d)) if *d != next => {
                *d = next;
                dirty.push(chunk.key);
            }
            Some(_) => {}
            None => {
                let batch = MarkerBatch { symbol: Symbol::Sensor(chunk.key.kind), instances: Arc::default() };
                let e = commands.spawn((MarkerChunk(chunk.key), batch, MarkerViews::default())).id();
                markers.entities.insert(chunk.key, (e, next));
                dirty.push(chunk.key);
            }
        }
    }
    // Readings' changes as the frame's budget allows; a new origin moves every chunk at once.
    let entities = &markers.entities;
    let chunks = &markers.chunks;
    let cost = |key: &ChunkKey| match entities.get(key) {
        Some((_, Detail::Sensors)) => chunks.get(key).map_or(0, |c| c.sensor_count()),
        _ => 1,
    };
    dirty.extend(markers.paced.next_rebuilds(settings.pace.instances_per_frame, cost));
    if origin.is_changed() {
        dirty = markers.entities.keys().copied().collect();
    }
    dirty.sort_unstable();
    dirty.dedup();
    for key in dirty {
        let (Some(chunk), Some((entity, detail))) = (markers.chunks.get(&key), markers.entities.get(&key)) else {
            continue;
        };
        let instances = Arc::new(chunk.drawn(*detail, &origin.matrix(&chunk.ecef_from_chunk)));
        if let Ok(mut batch) = batches.get_mut(*entity) {
            batch.instances = instances;
        } else {
            // Spawned this frame: its batch is inserted with the commands.
            commands.entity(*entity).insert(MarkerBatch { symbol: Symbol::Sensor(key.kind), instances });
        }
        markers.rebuilt += 1;
    }
}

/// A sensor layer's legend: its symbol's colours with what they mean.
pub fn legend_ui(ui: &mut bevy_egui::egui::Ui, kind: SensorKind) {
    use bevy_egui::egui;
    for entry in legend(kind) {
        ui.horizontal(|ui| {
            let [r, g, b, _] = entry.color_srgb.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8);
            let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 3.0, egui::Color32::from_rgb(r, g, b));
            ui.label(entry.label);
        });
    }
    ui.label("far away: one symbol per square kilometre, sized by its count, coloured by its worst");
}

/// Which views draw each chunk: those that show its kind's sensor layer.
fn show_per_view(
    layers: Query<(&LayerSource, &LayerViews)>,
    main: Query<Entity, With<MainView>>,
    second: Query<Entity, With<SecondView>>,
    mut chunks: Query<(&MarkerChunk, &mut MarkerViews)>,
) {
    let views_of = |kind: SensorKind| -> Vec<Entity> {
        let shown =
            layers.iter().find_map(|(s, v)| matches!(s, LayerSource::Sensors(l) if l.kind == kind).then_some(*v));
        let Some(v) = shown else { return Vec::new() };
        let main = main.iter().filter(|_| v.main);
        main.chain(second.iter().filter(|_| v.second)).collect()
    };
    let by_kind: HashMap<SensorKind, Vec<Entity>> = SensorKind::ALL.into_iter().map(|k| (k, views_of(k))).collect();
    for (chunk, mut views) in &mut chunks {
        let want = &by_kind[&chunk.0.kind];
        if &views.0 != want {
            views.0 = want.clone();
        }
    }
}
