//! The browser's composition root (feature `web`): the page's options, the viewer in the page's
//! canvas, and progress reported to the page (`document.body.dataset`, read by `index.html` and
//! the browser test) through the platform's page shims.

use bevy::prelude::*;

use super::bim::BimModel;
use super::camera::GeoCamera;
use super::catalog::CatalogStatus;
use super::cctv::{ChosenCamera, FeedOverlay};
use super::drill::Drill;
use super::markers::{SelectedSensor, SensorMarkers, nearest_symbol};
use super::origin::FloatingOrigin;
use super::views::MainView;
use super::{Fetcher, Live, Tilesets, app, page};
use crate::platform::{Runtime, page_location, page_now_ms, set_page_value, show_page_error};

/// The browser entry point: reads the page's address and starts the viewer in its canvas (the app
/// reads the catalog of the server that served the page).
pub fn start() {
    match page_location().and_then(|(origin, search)| page::config_from_page(&origin, &search)) {
        Ok(config) => {
            let mut app = app(config, Runtime);
            app.add_systems(Last, report_to_page);
            app.run();
        }
        Err(e) => show_page_error(&format!("citytwin could not start: {e:#}")),
    }
}

/// What the page last saw, to write only changes.
#[derive(Default)]
struct Reported {
    frames: u64,
    shown_once: bool,
    values: Vec<(&'static str, String)>,
}

/// Progress for the page: frames, tiles, bytes, errors, live readings, `settled` once tiles show
/// and the view is at rest (as a native screenshot waits: a view still flying selects more);
/// the sensors: how many are placed, where the near sensor nearest the view's centre stands on
/// screen (`x,y,sensor`, for automation), and which sensor's panel is open; and the chosen
/// camera's feed: frames shown, its error, the tile parts its projection covers.
#[allow(clippy::too_many_arguments)]
fn report_to_page(
    sets: Tilesets,
    fetcher: Res<Fetcher>,
    live: Res<Live>,
    catalog: Res<CatalogStatus>,
    (markers, selected, origin, cam): (Res<SensorMarkers>, Res<SelectedSensor>, Res<FloatingOrigin>, Res<GeoCamera>),
    main: Query<(&Camera, &GlobalTransform), With<MainView>>,
    (cctv, overlays, drill): (Res<ChosenCamera>, Query<(), With<FeedOverlay>>, Res<Drill>),
    models: Query<&BimModel>,
    mut last: Local<Reported>,
) {
    last.frames += 1;
    let totals = sets.totals();
    if last.frames == 1 {
        set_page_value("firstFrameMs", &format!("{:.0}", page_now_ms()));
    }
    if let CatalogStatus::Failed(e) = &*catalog
        && catalog.is_changed()
    {
        show_page_error(e);
    }
    if totals.shown > 0 && !last.shown_once {
        last.shown_once = true;
        set_page_value("firstTilesMs", &format!("{:.0}", page_now_ms()));
    }
    let values = vec![
        ("frames", (last.frames / 10 * 10).to_string()),
        ("tilesShown", totals.shown.to_string()),
        ("tilesLoaded", totals.loaded.to_string()),
        ("tilesPending", (totals.in_flight + totals.queued).to_string()),
        ("tileErrors", totals.errors.to_string()),
        ("bytesFetched", fetcher.bytes_fetched().to_string()),
        ("liveReadings", live.updates.to_string()),
        ("liveSensors", live.subscribed.to_string()),
        ("settled", (cam.flight.is_none() && sets.settled(5)).to_string()),
        ("sensorsPlaced", markers.chunks.sensors().to_string()),
        ("sensorPanel", selected.sensor.filter(|_| selected.panel_shown).map_or(String::new(), |s| s.to_string())),
        ("nearSensorPx", near_sensor_px(&markers, &origin, main.single().ok())),
        ("cctvFrames", cctv.frames.to_string()),
        ("cctvError", cctv.error.clone().unwrap_or_default()),
        ("feedOverlays", overlays.iter().count().to_string()),
        ("bimNodes", models.iter().map(|m| m.tree.as_ref().map_or(0, |t| t.nodes.len())).sum::<usize>().to_string()),
        ("bimShown", models.iter().any(|m| m.shown).to_string()),
        ("bimSections", models.iter().map(|m| m.tools.sections.len()).sum::<usize>().to_string()),
        ("drillTimeS", drill.open.as_ref().map_or(String::new(), |o| o.session.time_s().to_string())),
        ("drillCaughtUp", (drill.open.is_some() && drill.caught_up()).to_string()),
        ("drillWorkS", format!("{:.1}", drill.work_s)),
        ("drillError", drill.error.clone().unwrap_or_default()),
    ];
    for (k, v) in &values {
        if !last.values.iter().any(|(lk, lv)| lk == k && lv == v) {
            set_page_value(k, v);
        }
    }
    last.values = values;
}

/// `x,y,sensor`: the near sensor whose symbol is nearest the main view's centre, where it is.
fn near_sensor_px(
    markers: &SensorMarkers,
    origin: &FloatingOrigin,
    view: Option<(&Camera, &GlobalTransform)>,
) -> String {
    let Some((camera, cam_t)) = view else { return String::new() };
    let Some(centre) = camera.logical_viewport_size().map(|s| s / 2.0) else { return String::new() };
    nearest_symbol(markers, origin, camera, cam_t, centre)
        .map_or(String::new(), |(sensor, p)| format!("{:.0},{:.0},{sensor}", p.x, p.y))
}
