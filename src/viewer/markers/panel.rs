//! The sensor panel: a sensor chosen (its marker clicked, or its alarm in the live list) is flown
//! to and shown with what it measures, where, its latest reading, and a chart of its last 24 h
//! from the data server's SensorThings API (zoomable; the warning and alarm thresholds drawn),
//! with the live readings appended as they come.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, egui};
use egui_plot::{HLine, Line, Plot, PlotPoints};

use super::SensorMarkers;
use crate::geo::WGS84;
use crate::markers::history::{MAX_PAGES, history_path, read_page};
use crate::platform::Runtime;
use crate::protocol::sensors::AlarmLevel;
use crate::viewer::camera::{Bookmark, GeoCamera};
use crate::viewer::fetch::{Answer, get};
use crate::viewer::hud::HudSettings;
use crate::viewer::live::{Live, SensorChosen, SensorNews, level_color};
use crate::viewer::origin::FloatingOrigin;
use crate::viewer::{DataServer, picking, views};

/// How far back the chart reaches.
const HISTORY_MS: i64 = 24 * 3_600_000;
/// A marker is clicked within this many pixels of its symbol's centre.
const PICK_PX: f32 = 14.0;
/// The symbol's size per metre of distance (as `shaders/markers.wgsl` draws it).
const SIZE_PER_METRE: f32 = 0.007;

/// A history fetched: the sensor's points, oldest first, or why not.
type Fetched = Result<Vec<(i64, f64)>, String>;

/// A sensor's history as the panel has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum History {
    #[default]
    None,
    Loading,
    /// `(time_ms, value)`, oldest first.
    Loaded(Vec<(i64, f64)>),
    Failed(String),
}

/// The sensor the panel shows.
#[derive(Resource, Default)]
pub struct SelectedSensor {
    pub sensor: Option<u32>,
    /// Whether its panel was drawn in the last frame (the HUD may hide it).
    pub panel_shown: bool,
    pub history: History,
    /// The fetch's answer: `(sensor, points or error)`.
    answer: Answer<(u32, Fetched)>,
}

/// A sensor to choose once it is placed (`--sensor`, `?sensor=`).
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct SensorAtStart(pub Option<u32>);

/// Chooses the start's sensor once its site has come.
pub fn choose_at_start(
    mut start: ResMut<SensorAtStart>,
    markers: Res<SensorMarkers>,
    mut chosen: MessageWriter<SensorChosen>,
) {
    if let Some(sensor) = start.0.filter(|s| markers.chunks.sensor_kind(*s).is_some()) {
        chosen.write(SensorChosen(sensor));
        start.0 = None;
    }
}

/// A click on a near marker chooses its sensor.
#[allow(clippy::too_many_arguments)]
pub fn pick_sensor(
    (buttons, mut press): (Res<ButtonInput<MouseButton>>, Local<Option<Vec2>>),
    windows: Query<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
    markers: Res<SensorMarkers>,
    origin: Res<FloatingOrigin>,
    mut egui: EguiContexts,
    mut chosen: MessageWriter<SensorChosen>,
) {
    let Some(cursor) = picking::click(&buttons, &mut press, &windows, &mut egui) else { return };
    let Some((camera, cam_t, at)) = views::view_under(cameras.iter(), cursor) else { return };
    if let Some((sensor, _)) =
        nearest_symbol(&markers, &origin, camera, cam_t, at).filter(|(_, p)| p.distance(at) < PICK_PX)
    {
        chosen.write(SensorChosen(sensor));
    }
}

/// Where a near sensor's symbol is centred in a view (viewport pixels).
pub fn symbol_in_view(
    origin: &FloatingOrigin,
    camera: &Camera,
    cam_t: &GlobalTransform,
    ecef: glam::DVec3,
) -> Option<Vec2> {
    let site = origin.point(ecef);
    let size = (site.distance(cam_t.translation()) * SIZE_PER_METRE).clamp(0.8, 4000.0);
    camera.world_to_viewport(cam_t, site + Vec3::Y * size).ok()
}

/// The near sensor whose symbol is nearest to `at` in a view, and where its symbol is (viewport pixels).
pub fn nearest_symbol(
    markers: &SensorMarkers,
    origin: &FloatingOrigin,
    camera: &Camera,
    cam_t: &GlobalTransform,
    at: Vec2,
) -> Option<(u32, Vec2)> {
    markers
        .near_sensors()
        .filter_map(|(sensor, ecef)| Some((sensor, symbol_in_view(origin, camera, cam_t, ecef)?)))
        .min_by(|a, b| a.1.distance(at).total_cmp(&b.1.distance(at)))
}

/// Flies to a chosen sensor and fetches its history.
pub fn choose(
    mut chosen: MessageReader<SensorChosen>,
    mut selected: ResMut<SelectedSensor>,
    markers: Res<SensorMarkers>,
    mut cam: ResMut<GeoCamera>,
    (live, server, runtime): (Res<Live>, Option<Res<DataServer>>, Res<Runtime>),
) {
    let Some(SensorChosen(sensor)) = chosen.read().last().copied() else { return };
    if let Some(c) = markers.chunks.sensor_ecef(sensor).and_then(|p| WGS84.cartographic_from_ecef(p)) {
        // From 200 m south and 200 m up, looking at it.
        let to = Bookmark {
            lon_deg: c.lon_rad.to_degrees(),
            lat_deg: c.lat_rad.to_degrees() - 200.0 / 111_320.0,
            height_m: c.height_m + 200.0,
            heading_deg: 0.0,
            pitch_deg: -45.0,
        };
        cam.fly_to(&to, 2.0);
    }
    selected.sensor = Some(sensor);
    let Some(server) = server else {
        selected.history = History::Failed("no data server".into());
        return;
    };
    selected.history = History::Loading;
    let url = server.at(&history_path(sensor, live.server_time_ms - HISTORY_MS));
    selected.answer.spawn(&runtime, async move { (sensor, load_history(url).await) });
}

/// Every page of the history, up to [`MAX_PAGES`].
async fn load_history(mut url: String) -> Fetched {
    let mut points = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = read_page(&get(&url).await?)?;
        points.extend(page.points);
        let Some(next) = page.next else { break };
        url = next;
    }
    Ok(points)
}

/// Takes a fetched history (of the sensor still shown) and appends live readings to it.
pub fn follow_history(mut selected: ResMut<SelectedSensor>, mut news: MessageReader<SensorNews>) {
    if let Some((sensor, result)) = selected.answer.take()
        && selected.sensor == Some(sensor)
    {
        selected.history = result.map_or_else(History::Failed, History::Loaded);
    }
    let Some(sensor) = selected.sensor else { return };
    for n in news.read() {
        let SensorNews::Readings { time_ms, readings } = n else { continue };
        if let (History::Loaded(points), Some(r)) = (&mut selected.history, readings.iter().find(|r| r.0 == sensor))
            && points.last().is_none_or(|p| p.0 < *time_ms)
        {
            points.push((*time_ms, r.1 as f64));
        }
    }
}

/// The panel of the chosen sensor.
pub fn sensor_panel_ui(
    mut contexts: EguiContexts,
    mut selected: ResMut<SelectedSensor>,
    markers: Res<SensorMarkers>,
    live: Res<Live>,
    hud: Res<HudSettings>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    selected.panel_shown = false;
    let Some(sensor) = selected.sensor.filter(|_| hud.visible) else { return Ok(()) };
    let Some(kind) = markers.chunks.sensor_kind(sensor) else { return Ok(()) };
    selected.panel_shown = true;
    let mut open = true;
    egui::Window::new(format!("{} #{sensor}", kind.name())).open(&mut open).default_pos([380.0, 90.0]).show(
        ctx,
        |ui| {
            let unit = kind.unit().1;
            if let Some(c) = markers.chunks.sensor_ecef(sensor).and_then(|p| WGS84.cartographic_from_ecef(p)) {
                ui.label(format!("at {:.5}°, {:.5}°", c.lon_rad.to_degrees(), c.lat_rad.to_degrees()));
            }
            if let Some((value, level)) = live.readings.get(&sensor) {
                ui.colored_label(level_color(*level), format!("now {value:.1} {unit} ({level:?})"));
            }
            match &selected.history {
                History::None => {}
                History::Loading => {
                    ui.label("reading its last 24 h…");
                }
                History::Failed(e) => {
                    ui.colored_label(level_color(AlarmLevel::Alarm), e);
                }
                History::Loaded(points) => {
                    ui.label(format!(
                        "{} readings in 24 h (hours before now; drag to pan, scroll to zoom)",
                        points.len()
                    ));
                    let now_ms = live.server_time_ms.max(points.last().map_or(0, |p| p.0));
                    let series: PlotPoints = points.iter().map(|(t, v)| [(t - now_ms) as f64 / 3.6e6, *v]).collect();
                    let (warn, alarm, _) = kind.thresholds();
                    Plot::new(("history", sensor)).height(160.0).width(360.0).show(ui, |plot| {
                        plot.line(Line::new(format!("{} ({unit})", kind.name()), series));
                        plot.hline(HLine::new("warning", warn).color(level_color(AlarmLevel::Warning)));
                        plot.hline(HLine::new("alarm", alarm).color(level_color(AlarmLevel::Alarm)));
                    });
                }
            }
        },
    );
    if !open {
        selected.sensor = None;
        selected.history = History::None;
    }
    Ok(())
}
