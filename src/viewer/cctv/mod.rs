//! CctvPlugin: the CCTV camera layer, for the roles the catalog lists it to (planners and
//! operators). The cameras around the view come from the data server (`/api/cameras?bbox=`,
//! fetched again when the view moves to another area), and each is drawn as its view frustum in
//! lines (`markers::frustum`: the eye to the corners of its picture at its range), one mesh for
//! all, in the views that show the layer. A click near a camera's eye (or `--camera ID`) chooses
//! it: the view flies behind it, its live feed opens in a panel (`feed`) and is projected onto
//! the buildings and ground it looks at (`projection`).

mod draw;
mod feed;
mod projection;

pub use draw::{CameraSymbols, Frusta, frusta_lines};
pub use feed::{ChosenCamera, feed_panel_ui};
pub use projection::{FeedOverlay, FeedProjection, FeedProjectionPlugin};

use bevy::prelude::*;
use serde::Deserialize;

use super::camera::{Bookmark, GeoCamera};
use super::catalog::LayerSource;
use super::fetch::{Answer, get};
use super::live::{area_moved, camera_area};
use super::origin::FloatingOrigin;
use super::{DataServer, picking, views};
use crate::markers::frustum::ecef_from_camera;
use crate::platform::Runtime;
use crate::protocol::catalog::{Camera, CameraCluster};

/// A camera is clicked within this many pixels of its eye.
const PICK_PX: f32 = 12.0;
/// Cameras fetched per area, at most.
const MAX_CAMERAS: usize = 2_000;
/// The feeds' aspect (width / height).
pub const FEED_ASPECT: f64 = 16.0 / 9.0;

/// Clusters wanted for an area too wide to list its cameras (about).
const WANTED_CLUSTERS: f64 = 1_500.0;

/// The cameras of an area: each one, or (more than [`MAX_CAMERAS`]) their clusters.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Around {
    pub cameras: Vec<Camera>,
    pub clusters: Vec<CameraCluster>,
}

/// A fetch's answer: the cameras of an area, or why not.
type Fetched = Result<Around, String>;

/// The cameras around the view.
#[derive(Resource, Default)]
pub struct Cctv {
    /// The area fetched last, `[west, south, east, north]`.
    area: Option<[f64; 4]>,
    pub cameras: Vec<Camera>,
    pub clusters: Vec<CameraCluster>,
    pub last_error: Option<String>,
    answer: Answer<Fetched>,
}

#[derive(Deserialize)]
struct CameraPage {
    count: usize,
    #[serde(default)]
    cameras: Vec<Camera>,
    #[serde(default)]
    clusters: Vec<CameraCluster>,
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct CctvSystems;

/// A camera chosen (clicked, or named at start) by its ID.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct CameraChosen(pub u32);

/// A camera to choose once the cameras around the view have come (`--camera`, `?camera=`).
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct CameraAtStart(pub Option<u32>);

pub struct CctvPlugin;

impl Plugin for CctvPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Cctv>()
            .init_resource::<ChosenCamera>()
            .init_resource::<CameraAtStart>()
            .add_message::<CameraChosen>()
            .add_systems(
                Update,
                (
                    fetch_cameras,
                    draw::take_cameras,
                    (draw::draw_frusta, draw::place_symbols, draw::show_per_view).chain(),
                    choose_at_start,
                    choose,
                    feed::show_frames,
                )
                    .chain()
                    .in_set(CctvSystems),
            );
    }
}

/// Chooses the start's camera once it is among the cameras fetched.
fn choose_at_start(mut start: ResMut<CameraAtStart>, cctv: Res<Cctv>, mut chosen: MessageWriter<CameraChosen>) {
    if let Some(id) = start.0.filter(|id| cctv.cameras.iter().any(|c| c.id == *id)) {
        chosen.write(CameraChosen(id));
        start.0 = None;
    }
}

/// A click near a shown camera's eye chooses it.
#[allow(clippy::too_many_arguments)]
pub fn pick_camera(
    (buttons, mut press): (Res<ButtonInput<MouseButton>>, Local<Option<Vec2>>),
    windows: Query<&Window, With<bevy::window::PrimaryWindow>>,
    views: Query<(&bevy::camera::Camera, &GlobalTransform), With<Camera3d>>,
    frusta: Query<&Visibility, With<Frusta>>,
    (cctv, origin): (Res<Cctv>, Res<FloatingOrigin>),
    mut egui: bevy_egui::EguiContexts,
    mut chosen: MessageWriter<CameraChosen>,
) {
    if !frusta.iter().any(|v| *v != Visibility::Hidden) {
        return;
    }
    let Some(cursor) = picking::click(&buttons, &mut press, &windows, &mut egui) else { return };
    let Some((view, view_t, at)) = views::view_under(views.iter(), cursor) else { return };
    let nearest = cctv
        .cameras
        .iter()
        .filter_map(|c| {
            let eye = origin.point(ecef_from_camera(c).w_axis.truncate());
            Some((view.world_to_viewport(view_t, eye).ok()?.distance(at), c.id))
        })
        .filter(|(d, _)| *d < PICK_PX)
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, id)) = nearest {
        chosen.write(CameraChosen(id));
    }
}

/// Where the view goes to watch a camera: 40 m behind it and 20 m above, looking its way.
pub fn behind(camera: &Camera) -> Bookmark {
    let h = camera.heading_deg.to_radians();
    let (east_m, north_m) = (-40.0 * h.sin(), -40.0 * h.cos());
    Bookmark {
        lon_deg: camera.lon_deg + east_m / (111_320.0 * camera.lat_deg.to_radians().cos().max(0.01)),
        lat_deg: camera.lat_deg + north_m / 111_320.0,
        height_m: camera.height_m + 20.0,
        heading_deg: camera.heading_deg,
        pitch_deg: (camera.pitch_deg - 12.0).max(-60.0),
    }
}

/// Flies behind a chosen camera and opens its feed.
fn choose(
    mut messages: MessageReader<CameraChosen>,
    cctv: Res<Cctv>,
    mut chosen: ResMut<ChosenCamera>,
    mut cam: ResMut<GeoCamera>,
    (server, runtime): (Option<Res<DataServer>>, Res<Runtime>),
) {
    let Some(CameraChosen(id)) = messages.read().last().copied() else { return };
    let Some(camera) = cctv.cameras.iter().find(|c| c.id == id) else { return };
    cam.fly_to(&behind(camera), 2.0);
    chosen.choose(Some(camera.clone()), server.as_deref(), &runtime);
}

/// Fetches the cameras around the view when the layer exists and the view moved to another area.
fn fetch_cameras(
    layers: Query<&LayerSource>,
    cam: Res<GeoCamera>,
    server: Option<Res<DataServer>>,
    runtime: Res<Runtime>,
    mut cctv: ResMut<Cctv>,
) {
    let Some(layer) = layers.iter().find_map(|s| if let LayerSource::Cameras(c) = s { Some(c) } else { None }) else {
        return;
    };
    let (Some(server), Some(area)) = (server, camera_area(&cam)) else { return };
    if cctv.area.is_some_and(|a| !area_moved(&a, &area)) {
        return;
    }
    cctv.area = Some(area);
    let [w, s, e, n] = area;
    let list = server.at(&format!("{}?bbox={w},{s},{e},{n}&limit={MAX_CAMERAS}", layer.url));
    let cell_deg = ((e - w) * (n - s) / WANTED_CLUSTERS).sqrt().max(1e-3);
    let clusters = server.at(&format!("{}?bbox={w},{s},{e},{n}&cluster_deg={cell_deg}", layer.url));
    cctv.answer.spawn(&runtime, async move {
        let page = read_page(&list).await?;
        if page.count <= page.cameras.len() {
            return Ok(Around { cameras: page.cameras, clusters: Vec::new() });
        }
        Ok(Around { cameras: Vec::new(), clusters: read_page(&clusters).await?.clusters })
    });
}

async fn read_page(url: &str) -> Result<CameraPage, String> {
    serde_json::from_slice(&get(url).await?).map_err(|e| format!("{url}: not a camera list: {e}"))
}
