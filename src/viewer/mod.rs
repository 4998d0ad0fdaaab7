//! The Bevy client (feature `client`): one plugin or system group per concern over the
//! engine-free core, and the two composition roots: the desktop viewer (`desktop`, feature
//! `viewer`) and the browser (`browser`, feature `web`).

pub mod bim;
#[cfg(feature = "web")]
pub mod browser;
mod camera;
#[cfg(feature = "viewer")]
mod capture;
pub mod catalog;
pub mod cctv;
#[cfg(feature = "viewer")]
mod desktop;
mod drill;
#[cfg(feature = "viewer")]
pub mod embedded;
pub mod feature_state;
mod fetch;
mod hud;
pub mod layers;
mod live;
mod look;
pub mod markers;
pub mod mesh;
mod origin;
pub mod page;
mod pick_geometry;
mod picking;
mod planning;
mod theme;
mod tiles;
mod views;
#[cfg(feature = "viewer")]
pub mod wall;

use bevy::prelude::*;
use bevy::transform::TransformSystems;
use bevy_egui::{EguiPlugin, EguiPrimaryContextPass};

pub use camera::{Bookmark, CameraLocked, GeoCamera, OwnCamera};
#[cfg(feature = "viewer")]
pub use desktop::{EmbeddedServer, ViewerArgs, run};
pub use drill::{Drill, DrillPlugin, DrillStart, DrillSystems};
pub use feature_state::{FeatureStatePlugin, FeatureStateSystems, FeatureStyle, TileMaterial};
pub use fetch::Fetcher;
pub use layers::{Layer, LayerViews};
pub use live::{Live, LivePlugin, LiveSettings, LiveStatus, SensorChosen, SensorNews};
pub use look::{DAY_SKY, NIGHT_SKY};
pub use planning::{Planning, PlanningPlugin, PlanningStart, PlanningSystems, Scenarios};
pub use tiles::{TileLayer, TilePart, TilesPlugin, TilesSettings, TilesSystems, TilesTotals, Tilesets};
pub use views::{MAIN_VIEW_LAYER, MainView, Offscreen, SECOND_VIEW_LAYER, SecondView, ViewLayout, WallView};

pub use hud::Attribution;
use hud::FrameTimes;
pub use origin::FloatingOrigin;
use picking::Picked;
pub use picking::{FeaturePicked, PickedFeature};

use crate::platform::Runtime;

/// Everything a viewer needs to start, on any platform.
pub struct ViewerConfig {
    pub window: Window,
    /// No window: the views render into an image of the window's size (screenshots come from it).
    pub offscreen: bool,
    /// Each frame is drawn and presented before the next begins (a video wall's follower).
    pub lockstep: bool,
    /// Tileset layers to stream (absolute URLs), besides the catalog's.
    pub tilesets: Vec<crate::protocol::catalog::TilesetLayer>,
    /// Whether the catalog's tilesets stream too.
    pub catalog_tilesets: bool,
    pub tiles: TilesSettings,
    /// Where to start; `None` frames the first tileset.
    pub camera: Option<Bookmark>,
    pub hud: bool,
    /// The data server: its catalog gives the layers, its `/live` feeds the sensors.
    pub data_server: Option<DataServer>,
    /// A comparison to open at start.
    pub planning: Option<PlanningStart>,
    /// A drill to open at start-up, played to a time.
    pub drill: Option<DrillStart>,
    /// The property to colour the city by at start (e.g. `height`).
    pub theme: Option<String>,
    /// Start in night mode.
    pub night: bool,
    /// Whether the catalog's sensor layers start shown.
    pub sensors_shown: bool,
    /// A sensor to fly to and show once placed.
    pub sensor: Option<u32>,
    /// A CCTV camera to choose once fetched.
    pub cctv: Option<u32>,
    /// The BIM tools to apply once the first model's tree has come (`bim::ComponentTools::from_spec`).
    pub bim: Option<String>,
}

/// The data server the viewer talks to, and the bearer token it presents (as `access_token`, which
/// the server reads on every route, the WebSocket included): a planner's or operator's token shows
/// what their role may see.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct DataServer {
    /// Its base URL (no trailing slash).
    pub url: String,
    pub token: Option<String>,
}

impl DataServer {
    pub fn new(url: &str, token: Option<String>) -> Self {
        Self { url: url.trim_end_matches('/').to_owned(), token }
    }

    /// `path` (with its query, if any) on the server, carrying the token.
    pub fn at(&self, path: &str) -> String {
        let mut url = format!("{}{path}", self.url);
        if let Some(t) = &self.token {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str("access_token=");
            url.extend(url::form_urlencoded::byte_serialize(t.as_bytes()));
        }
        url
    }

    /// The live stream's WebSocket URL (`http://h:p` → `ws://h:p/live`).
    pub fn live_url(&self) -> String {
        let http = self.at("/live");
        match http.split_once("://") {
            Some(("https", rest)) => format!("wss://{rest}"),
            Some(("http", rest)) => format!("ws://{rest}"),
            _ => http,
        }
    }
}

/// Whether the camera still waits for the first tileset to frame it.
#[derive(Resource)]
struct FrameFirstTileset(bool);

/// The viewer app, ready to run (the platform adds its own plugins first if it has any).
pub fn app(config: ViewerConfig, runtime: Runtime) -> App {
    let cam = config.camera.as_ref().map(GeoCamera::at);
    let origin_at = cam.as_ref().map_or(glam::DVec3::new(crate::geo::WGS84.a_m, 0.0, 0.0), |c| c.position_ecef);
    let mut app = App::new();
    let size = UVec2::new(config.window.resolution.physical_width(), config.window.resolution.physical_height());
    let window = (!config.offscreen).then_some(config.window);
    let plugins = crate::platform::default_plugins(window).set(mesh::render_plugin());
    app.add_plugins(if config.lockstep { crate::platform::unpipelined(plugins) } else { plugins });
    if config.offscreen {
        app.insert_resource(views::Offscreen::new(size));
    }
    mesh::frugal_mesh_buffers(&mut app);
    app.add_plugins(EguiPlugin::default())
        // egui draws from a camera of its own (`views`), over every view.
        .insert_resource(bevy_egui::EguiGlobalSettings { auto_create_primary_context: false, ..default() })
        .init_resource::<ViewLayout>()
        .insert_resource(ClearColor(look::DAY_SKY))
        .insert_resource(look::LookSettings { night: config.night, ..default() })
        .insert_resource(FloatingOrigin::at(origin_at))
        .insert_resource(FrameFirstTileset(cam.is_none()))
        .insert_resource(cam.unwrap_or_else(|| GeoCamera::looking_at(origin_at, 1000.0)))
        .insert_resource(config.tiles)
        .insert_resource(layers::StartLayers(config.tilesets))
        .insert_resource(Fetcher::new(runtime.clone()))
        .insert_resource(markers::SensorAtStart(config.sensor))
        .insert_resource(cctv::CameraAtStart(config.cctv))
        .insert_resource(bim::BimAtStart(config.bim))
        .insert_resource(LiveSettings { url: config.data_server.as_ref().map(DataServer::live_url) })
        .insert_resource(runtime)
        .init_resource::<Attribution>()
        .insert_resource(hud::HudSettings { visible: config.hud })
        .init_resource::<Picked>()
        .init_resource::<FrameTimes>()
        .insert_resource(theme::ThemeChoice { property: config.theme, offered: Vec::new() })
        .add_plugins((TilesPlugin, FeatureStatePlugin, LivePlugin, PlanningPlugin, look::LookPlugin))
        .add_plugins((catalog::CatalogPlugin, markers::MarkersPlugin, cctv::CctvPlugin, cctv::FeedProjectionPlugin))
        .add_plugins((bim::BimPlugin, drill::DrillPlugin))
        .add_systems(Startup, (views::spawn_views, setup_scene, layers::open_start_layers))
        .add_systems(Update, views::layout_views)
        .add_systems(
            Update,
            (
                (frame_first_tileset, fly_home, camera::controls).chain().run_if(not(resource_exists::<CameraLocked>)),
                views::wall_fov,
                camera::apply,
            )
                .chain()
                .before(TilesSystems::Select),
        )
        .add_message::<FeaturePicked>()
        // Before the drill's systems, which end a placing click.
        .add_systems(Update, (picking::pick, picking::follow_picks).chain().before(DrillSystems))
        .add_systems(Update, markers::pick_sensor.before(markers::MarkersSystems))
        .add_systems(Update, cctv::pick_camera.before(cctv::CctvSystems))
        .add_systems(Update, (hud::frame_times, hud::toggle))
        .add_systems(Update, (theme::offer_properties, theme::fit_theme).before(FeatureStateSystems))
        .add_systems(PostUpdate, origin::sync_transforms.before(TransformSystems::Propagate))
        .add_systems(
            EguiPrimaryContextPass,
            (
                hud::hud_ui,
                layers::layers_ui,
                live::live_panel_ui,
                markers::sensor_labels_ui,
                markers::sensor_panel_ui,
                cctv::feed_panel_ui,
                picking::feature_ui,
                theme::theme_ui,
                planning::planning_ui,
                planning::share_ui,
                drill::drill_ui,
            ),
        );
    if let Some(server) = config.data_server {
        app.insert_resource(catalog::CatalogSource {
            server: server.clone(),
            stream_tilesets: config.catalog_tilesets,
            sensors_shown: config.sensors_shown,
        });
        app.insert_resource(server);
    }
    if let Some(start) = config.planning {
        app.insert_resource(start);
    }
    if let Some(start) = config.drill {
        app.insert_resource(start);
    }
    app
}

fn setup_scene(mut commands: Commands) {
    // The light and the ambient light by day and by night: `planning::follow_clock`.
    commands.spawn(planning::sun_light(Transform::default().looking_to(Vec3::new(-0.5, -0.8, -0.35), Vec3::Y)));
}

/// How much of a tileset to frame: all of a model or a block, the centre of a city.
fn framing_radius(radius_m: f64) -> f64 {
    if radius_m > 3_000.0 { (radius_m * 0.35).min(7_000.0) } else { radius_m }
}

/// The centre (ECEF) and radius of the first tileset whose root is known; a model (one
/// building) is not home.
pub(crate) fn home_bounds(sets: &Tilesets, sources: &Query<&catalog::LayerSource>) -> Option<(glam::DVec3, f64)> {
    let is_model = |e: Entity| matches!(sources.get(e), Ok(catalog::LayerSource::Model(_)));
    let root = sets
        .entries()
        .filter(|(e, _)| !is_model(*e))
        .find_map(|(_, t)| t.tileset.root().and_then(|k| t.tileset.tile(k)))?;
    Some((root.bounds.center(), root.bounds.radius()))
}

/// The view framing home.
fn home_view(sets: &Tilesets, sources: &Query<&catalog::LayerSource>) -> Option<GeoCamera> {
    let (centre, radius) = home_bounds(sets, sources)?;
    Some(GeoCamera::looking_at(centre, framing_radius(radius)))
}

/// Frames the first tileset once its root is known (unless `--camera` was given).
fn frame_first_tileset(
    mut pending: ResMut<FrameFirstTileset>,
    sets: Tilesets,
    sources: Query<&catalog::LayerSource>,
    mut cam: ResMut<GeoCamera>,
) {
    if pending.0
        && let Some(home) = home_view(&sets, &sources)
    {
        *cam = home;
        pending.0 = false;
    }
}

/// `F` flies smoothly back to the view of the first tileset.
fn fly_home(
    keys: Res<ButtonInput<KeyCode>>,
    sets: Tilesets,
    sources: Query<&catalog::LayerSource>,
    mut cam: ResMut<GeoCamera>,
) {
    if !keys.just_pressed(KeyCode::KeyF) {
        return;
    }
    if let Some(to) = home_view(&sets, &sources).and_then(|home| home.bookmark()) {
        cam.fly_to(&to, 1.5);
    }
}
