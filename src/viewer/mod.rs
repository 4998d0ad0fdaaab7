//! The Bevy viewer (feature `viewer`): one plugin or system group per concern over the
//! engine-free core. Native window; the embedded data server when no source is given.

mod camera;
mod capture;
mod embedded;
mod fetch;
mod hud;
mod mesh;
mod origin;
mod picking;
mod tiles;

use std::path::PathBuf;

use anyhow::Context;
use bevy::prelude::*;
use bevy::transform::TransformSystems;
use bevy::window::{MonitorSelection, WindowMode, WindowResolution};
use bevy_egui::{EguiPlugin, EguiPrimaryContextPass};
use serde::Deserialize;

pub use camera::{Bookmark, GeoCamera};
pub use fetch::Fetcher;
pub use tiles::{TilePart, TilesPlugin, TilesSettings, TilesSystems, Tilesets};

use capture::{CapturePlugin, CaptureSettings};
use hud::{Attribution, FrameTimes};
use origin::FloatingOrigin;
use picking::Picked;

/// Viewer options, from the command line and optionally a TOML file with the same keys.
#[derive(Debug, Clone, Default, clap::Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewerArgs {
    /// A tileset.json path or URL to stream (repeatable). Default: the embedded demo city.
    #[arg(long = "tileset", value_name = "PATH|URL")]
    pub tilesets: Vec<String>,
    /// A citytwin data server URL: stream the tilesets of its catalog.
    #[arg(long)]
    pub server: Option<String>,
    /// Maximum screen-space error in pixels (default 16).
    #[arg(long)]
    pub max_sse: Option<f64>,
    /// Tile cache budget in MB (default 512).
    #[arg(long)]
    pub cache_mb: Option<usize>,
    /// Borderless fullscreen on the primary monitor (video walls).
    #[arg(long)]
    pub fullscreen: bool,
    /// Window size, e.g. 1280x720.
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    /// Save a screenshot here once the view has settled, then exit.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    /// Run at least this many frames before the screenshot (default 30).
    #[arg(long)]
    pub after_frames: Option<u32>,
    /// Exit after this many frames (an error if a screenshot was asked for and not taken).
    #[arg(long)]
    pub exit_after_frames: Option<u32>,
    /// Fly a scripted path and print frame times, bytes, tiles, convergence time and peak RSS.
    #[arg(long)]
    pub bench_flight: bool,
    /// Start without the HUD (F1 toggles it): clean screenshots and video walls.
    #[arg(long)]
    pub no_hud: bool,
    /// Start the camera at lon,lat,height_m,heading_deg,pitch_deg.
    #[arg(long, value_name = "LON,LAT,H,HEADING,PITCH")]
    pub camera: Option<String>,
    /// A TOML file with these options (command-line values win).
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

/// Options checked and resolved to sources.
struct Resolved {
    urls: Vec<String>,
    attribution: Vec<String>,
    embedded: Option<embedded::Embedded>,
    max_sse: f64,
    cache_bytes: usize,
    size: (u32, u32),
    camera: Option<Bookmark>,
}

fn parse_camera(s: &str) -> anyhow::Result<Bookmark> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .context("--camera takes five numbers")?;
    let [lon_deg, lat_deg, height_m, heading_deg, pitch_deg] = v.as_slice() else {
        anyhow::bail!("--camera takes lon,lat,height,heading,pitch")
    };
    anyhow::ensure!(
        (-180.0..=180.0).contains(lon_deg) && (-90.0..=90.0).contains(lat_deg) && *height_m > 0.0,
        "--camera {s}: out of range"
    );
    Ok(Bookmark {
        lon_deg: *lon_deg,
        lat_deg: *lat_deg,
        height_m: *height_m,
        heading_deg: *heading_deg,
        pitch_deg: *pitch_deg,
    })
}

fn merge(mut args: ViewerArgs) -> anyhow::Result<ViewerArgs> {
    let Some(path) = args.config.take() else { return Ok(args) };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: ViewerArgs = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(ViewerArgs {
        tilesets: if args.tilesets.is_empty() { file.tilesets } else { args.tilesets },
        server: args.server.or(file.server),
        max_sse: args.max_sse.or(file.max_sse),
        cache_mb: args.cache_mb.or(file.cache_mb),
        fullscreen: args.fullscreen || file.fullscreen,
        size: args.size.or(file.size),
        screenshot: args.screenshot.or(file.screenshot),
        after_frames: args.after_frames.or(file.after_frames),
        exit_after_frames: args.exit_after_frames.or(file.exit_after_frames),
        bench_flight: args.bench_flight || file.bench_flight,
        no_hud: args.no_hud || file.no_hud,
        camera: args.camera.or(file.camera),
        config: None,
    })
}

fn resolve(args: &ViewerArgs) -> anyhow::Result<Resolved> {
    let max_sse = args.max_sse.unwrap_or(16.0);
    anyhow::ensure!(max_sse > 0.0 && max_sse <= 1000.0, "--max-sse must be in (0, 1000]");
    let cache_mb = args.cache_mb.unwrap_or(512);
    anyhow::ensure!((16..=1 << 20).contains(&cache_mb), "--cache-mb must be at least 16");
    let size = match &args.size {
        Some(s) => {
            let (w, h) = s.split_once('x').context("--size is WxH, e.g. 1280x720")?;
            let (w, h) = (w.parse::<u32>().context("--size width")?, h.parse::<u32>().context("--size height")?);
            anyhow::ensure!((64..=16384).contains(&w) && (64..=16384).contains(&h), "--size out of range");
            (w, h)
        }
        None => (1280, 720),
    };
    let camera = args.camera.as_deref().map(parse_camera).transpose()?;
    let mut urls = args.tilesets.iter().map(|t| crate::cli::fetch::to_url(t)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut attribution = Vec::new();
    let mut embedded = None;
    if let Some(server) = &args.server {
        let base = server.trim_end_matches('/');
        let catalog: crate::protocol::catalog::Catalog = reqwest::blocking::get(format!("{base}/api/layers"))
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .with_context(|| format!("reading the catalog of {base}"))?;
        urls.extend(catalog.tilesets.iter().map(|t| format!("{base}{}", t.url)));
        attribution = catalog.attribution;
    }
    if urls.is_empty() {
        let e = embedded::start_demo(&embedded::cache_dir())?;
        urls.push(e.tileset_url.clone());
        attribution.push("Demo city: procedurally generated by citytwin".into());
        embedded = Some(e);
    }
    Ok(Resolved { urls, attribution, embedded, max_sse, cache_bytes: cache_mb << 20, size, camera })
}

/// The embedded data server, alive as long as the app; the HUD shows where it serves.
#[derive(Resource)]
pub struct EmbeddedServer(embedded::Embedded);

impl EmbeddedServer {
    pub fn url(&self) -> String {
        self.0.server.url()
    }
}

/// Whether the camera still waits for the first tileset to frame it.
#[derive(Resource)]
struct FrameFirstTileset(bool);

/// Runs the viewer until its window closes (or a screenshot or bench flight ends it).
pub fn run(args: ViewerArgs) -> anyhow::Result<()> {
    let args = merge(args)?;
    let r = resolve(&args)?;
    info!("streaming {}", r.urls.join(", "));
    let mode = if args.fullscreen {
        WindowMode::BorderlessFullscreen(MonitorSelection::Primary)
    } else {
        WindowMode::Windowed
    };
    let window =
        Window { title: "citytwin".into(), resolution: WindowResolution::new(r.size.0, r.size.1), mode, ..default() };
    let cam = r.camera.as_ref().map(GeoCamera::at);
    let origin_at = cam.as_ref().map_or(glam::DVec3::new(crate::geo::WGS84.a_m, 0.0, 0.0), |c| c.position_ecef);
    let mut app = App::new();
    // Logging is set up by `main` (tracing-subscriber), not by Bevy.
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin { primary_window: Some(window), ..default() })
            .disable::<bevy::log::LogPlugin>(),
    )
    .add_plugins(EguiPlugin::default())
    .insert_resource(ClearColor(Color::srgb(0.62, 0.74, 0.86)))
    .insert_resource(FloatingOrigin::at(origin_at))
    .insert_resource(FrameFirstTileset(cam.is_none()))
    .insert_resource(cam.unwrap_or_else(|| GeoCamera::looking_at(origin_at, 1000.0)))
    .insert_resource(TilesSettings { urls: r.urls, max_sse: r.max_sse, cache_bytes: r.cache_bytes, max_requests: 16 })
    .insert_resource(fetch::Fetcher::new()?)
    .insert_resource(CaptureSettings {
        screenshot: args.screenshot.clone(),
        after_frames: args.after_frames.unwrap_or(30),
        exit_after_frames: args.exit_after_frames,
        bench_flight: args.bench_flight,
    })
    .insert_resource(Attribution(r.attribution))
    .insert_resource(hud::HudSettings { visible: !args.no_hud })
    .init_resource::<Picked>()
    .init_resource::<FrameTimes>()
    .add_plugins((TilesPlugin, CapturePlugin))
    .add_systems(Startup, setup_scene)
    .add_systems(
        Update,
        (frame_first_tileset, fly_home, camera::controls, camera::apply).chain().before(TilesSystems::Select),
    )
    .add_systems(Update, (picking::pick, hud::frame_times, hud::toggle))
    .add_systems(PostUpdate, origin::sync_transforms.before(TransformSystems::Propagate))
    .add_systems(EguiPrimaryContextPass, hud::hud_ui);
    if let Some(e) = r.embedded {
        app.insert_resource(EmbeddedServer(e));
    }
    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => anyhow::bail!("the viewer exited with code {code}"),
    }
}

fn setup_scene(mut commands: Commands) {
    commands.spawn((
        Camera3d::default(),
        Projection::Perspective(PerspectiveProjection::default()),
        Transform::default(),
    ));
    commands.spawn((
        DirectionalLight { illuminance: 12_000.0, shadow_maps_enabled: false, ..default() },
        Transform::default().looking_to(Vec3::new(-0.5, -0.8, -0.35), Vec3::Y),
    ));
    commands.insert_resource(GlobalAmbientLight { color: Color::srgb(0.85, 0.9, 1.0), brightness: 250.0, ..default() });
}

/// How much of a tileset to frame: all of a model or a block, the centre of a city.
fn framing_radius(radius_m: f64) -> f64 {
    if radius_m > 3_000.0 { (radius_m * 0.35).min(7_000.0) } else { radius_m }
}

/// The view framing the first tileset whose root is known.
fn home_view(sets: &Tilesets) -> Option<GeoCamera> {
    let root = sets.0.iter().find_map(|t| t.tileset.root().and_then(|k| t.tileset.tile(k)))?;
    Some(GeoCamera::looking_at(root.bounds.center(), framing_radius(root.bounds.radius())))
}

/// Frames the first tileset once its root is known (unless `--camera` was given).
fn frame_first_tileset(mut pending: ResMut<FrameFirstTileset>, sets: Res<Tilesets>, mut cam: ResMut<GeoCamera>) {
    if pending.0
        && let Some(home) = home_view(&sets)
    {
        *cam = home;
        pending.0 = false;
    }
}

/// `F` flies smoothly back to the view of the first tileset.
fn fly_home(keys: Res<ButtonInput<KeyCode>>, sets: Res<Tilesets>, mut cam: ResMut<GeoCamera>) {
    if !keys.just_pressed(KeyCode::KeyF) {
        return;
    }
    let Some(home) = home_view(&sets) else { return };
    if let Some(c) = crate::geo::WGS84.cartographic_from_ecef(home.position_ecef) {
        let to = Bookmark {
            lon_deg: c.lon_rad.to_degrees(),
            lat_deg: c.lat_rad.to_degrees(),
            height_m: c.height_m,
            heading_deg: home.heading.to_degrees(),
            pitch_deg: home.pitch.to_degrees(),
        };
        cam.fly_to(&to, 1.5);
    }
}
