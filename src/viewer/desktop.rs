//! The desktop viewer: options from the command line and a TOML file, the embedded data server
//! when no source is given, a native window (or fullscreen on a video wall), screenshots.

use std::path::PathBuf;

use anyhow::Context;
use bevy::prelude::*;
use bevy::window::{MonitorSelection, WindowMode, WindowResolution};
use serde::Deserialize;

use super::camera::Bookmark;
use super::capture::{CapturePlugin, CaptureSettings};
use super::wall::WallStart;
use super::{DataServer, TilesSettings, ViewerConfig, embedded};
use super::{DrillStart, PlanningStart};
use crate::platform::Runtime;
use crate::protocol::catalog::TilesetLayer;

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
    /// The bearer token to present to the data server (its role decides what the viewer may see).
    #[arg(long, env = "CITYTWIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Maximum screen-space error in pixels (default 16; the HUD changes it live).
    #[arg(long, env = "CITYTWIN_MAX_SSE")]
    pub max_sse: Option<f64>,
    /// Tile cache budget in MB, shared by all layers (default 512; the HUD changes it live).
    #[arg(long, env = "CITYTWIN_CACHE_MB")]
    pub cache_mb: Option<usize>,
    /// Borderless fullscreen on the primary monitor (video walls).
    #[arg(long)]
    pub fullscreen: bool,
    /// Window size, e.g. 1280x720 (on a wall's screen: the screen's resolution).
    #[arg(long, value_name = "WxH")]
    pub size: Option<String>,
    /// No window and no winit: render into an image of `--size` (machines with no display, tests,
    /// GPU benchmarks); screenshots come from the image.
    #[arg(long)]
    pub offscreen: bool,
    /// A video wall file (TOML): with `--screen`, show that screen's part of the whole wall's picture;
    /// without, the whole wall's picture (the operator's console).
    #[arg(long, value_name = "FILE")]
    pub wall: Option<PathBuf>,
    /// The wall's screen this node drives, COLUMN,ROW (0,0 at the top left).
    #[arg(long, value_name = "COL,ROW", requires = "wall")]
    pub screen: Option<String>,
    /// The wall file's node this machine is, when it drives one screen (instead of `--screen`; a node
    /// with several screens runs one viewer per screen).
    #[arg(long, value_name = "NAME", requires = "wall", conflicts_with = "screen")]
    pub node: Option<String>,
    /// Drive the wall: be its master (the operator's console) and lock its followers' frames, listening here.
    #[arg(long, value_name = "HOST:PORT", requires = "wall", conflicts_with_all = ["screen", "node"])]
    pub wall_listen: Option<String>,
    /// Follow the wall's master at this address: take its camera, layers and drill, and present in lockstep.
    #[arg(long, value_name = "HOST:PORT", requires = "wall")]
    pub wall_master: Option<String>,
    /// With `--wall-listen`: once every screen has its follower and all have settled, the followers save
    /// their `--screenshot` of one and the same frame.
    #[arg(long, requires = "wall_listen")]
    pub wall_capture: bool,
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
    /// Open this planning scenario of the catalog at start (e.g. `demo-site`).
    #[arg(long)]
    pub scenario: Option<String>,
    /// The variant to show (its id; `none` shows the site as built). Default: the first.
    #[arg(long, requires = "scenario")]
    pub variant: Option<String>,
    /// Compare `--variant` (A) with `--other` (B): `swipe`, `side-by-side` or `toggle` (default).
    #[arg(long, requires = "scenario")]
    pub compare: Option<String>,
    /// Variant B of a comparison (its id or `none`). Default: the second.
    #[arg(long, requires = "scenario")]
    pub other: Option<String>,
    /// The sun's local date and time, YYYY-MM-DDTHH:MM (default 2026-03-20T10:00).
    #[arg(long, requires = "scenario")]
    pub sun: Option<String>,
    /// No shadows from the sun (they are on by default).
    #[arg(long)]
    pub no_shadows: bool,
    /// Colour the city by this property of its features (e.g. `height`, `building`).
    #[arg(long)]
    pub theme: Option<String>,
    /// Start in night mode (a dark sky, moonlight; `N` toggles it).
    #[arg(long)]
    pub night: bool,
    /// Start with the sensor and camera layers hidden (the Layers panel shows them).
    #[arg(long)]
    pub no_sensors: bool,
    /// Fly to this sensor (its index) once it is placed and open its panel.
    #[arg(long)]
    pub sensor: Option<u32>,
    /// Choose this CCTV camera (its ID) once it is among those around the view: fly behind it,
    /// open its feed and project it onto the scene (operators).
    #[arg(long, value_name = "ID")]
    pub cctv: Option<u32>,
    /// BIM tools once the model's tree has come, e.g. `select=GLOBALID,xray`, `storey=Level 1`,
    /// `isolate=GLOBALID`, `hide=GLOBALID`, `colour=type`, `spaces`.
    #[arg(long, value_name = "TOOLS")]
    pub bim: Option<String>,
    /// Open a catalog drill and play it to a time (drill seconds), e.g. `flood-drill@1800`.
    #[arg(long, value_name = "ID[@SECONDS]")]
    pub drill: Option<String>,
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
    tilesets: Vec<TilesetLayer>,
    embedded: Option<embedded::Embedded>,
    tiles: TilesSettings,
    size: (u32, u32),
    camera: Option<Bookmark>,
    data_server: Option<DataServer>,
    wall: Option<WallStart>,
}

fn merge(mut args: ViewerArgs) -> anyhow::Result<ViewerArgs> {
    let Some(path) = args.config.take() else { return Ok(args) };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: ViewerArgs = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok(ViewerArgs {
        tilesets: if args.tilesets.is_empty() { file.tilesets } else { args.tilesets },
        server: args.server.or(file.server),
        token: args.token.or(file.token),
        max_sse: args.max_sse.or(file.max_sse),
        cache_mb: args.cache_mb.or(file.cache_mb),
        fullscreen: args.fullscreen || file.fullscreen,
        size: args.size.or(file.size),
        offscreen: args.offscreen || file.offscreen,
        wall: args.wall.or(file.wall),
        screen: args.screen.or(file.screen),
        node: args.node.or(file.node),
        wall_listen: args.wall_listen.or(file.wall_listen),
        wall_master: args.wall_master.or(file.wall_master),
        wall_capture: args.wall_capture || file.wall_capture,
        screenshot: args.screenshot.or(file.screenshot),
        after_frames: args.after_frames.or(file.after_frames),
        exit_after_frames: args.exit_after_frames.or(file.exit_after_frames),
        bench_flight: args.bench_flight || file.bench_flight,
        no_hud: args.no_hud || file.no_hud,
        camera: args.camera.or(file.camera),
        scenario: args.scenario.or(file.scenario),
        variant: args.variant.or(file.variant),
        compare: args.compare.or(file.compare),
        other: args.other.or(file.other),
        sun: args.sun.or(file.sun),
        no_shadows: args.no_shadows || file.no_shadows,
        theme: args.theme.or(file.theme),
        night: args.night || file.night,
        no_sensors: args.no_sensors || file.no_sensors,
        sensor: args.sensor.or(file.sensor),
        cctv: args.cctv.or(file.cctv),
        bim: args.bim.or(file.bim),
        drill: args.drill.or(file.drill),
        config: None,
    })
}

fn resolve(args: &ViewerArgs) -> anyhow::Result<Resolved> {
    let tiles = TilesSettings::from_options(args.max_sse, args.cache_mb)
        .map_err(|e| anyhow::anyhow!("--max-sse / --cache-mb: {e}"))?;
    let wall = WallStart::from_args(args)?;
    let size = match &args.size {
        Some(s) => {
            let (w, h) = s.split_once('x').context("--size is WxH, e.g. 1280x720")?;
            let (w, h) = (w.parse::<u32>().context("--size width")?, h.parse::<u32>().context("--size height")?);
            anyhow::ensure!((64..=16384).contains(&w) && (64..=16384).contains(&h), "--size out of range");
            (w, h)
        }
        None => match &wall {
            Some(w) => {
                let [px_w, px_h] = match w.view.screen {
                    Some(_) => [w.view.layout.screen.width_px as f64, w.view.layout.screen.height_px as f64],
                    None => w.view.layout.union_viewport_px(),
                };
                (px_w.round() as u32, px_h.round() as u32)
            }
            None => (1280, 720),
        },
    };
    let camera = args.camera.as_deref().map(Bookmark::parse).transpose()?;
    if let Some(sun) = &args.sun {
        super::planning::parse_sun_time(sun).map_err(anyhow::Error::msg)?;
    }
    if let Some(mode) = &args.compare {
        super::planning::CompareMode::parse(mode).map_err(anyhow::Error::msg)?;
    }
    if let Some(drill) = &args.drill {
        DrillStart::parse(drill).map_err(anyhow::Error::msg)?;
    }
    let mut tilesets = Vec::new();
    for t in &args.tilesets {
        let url = crate::cli::fetch::to_url(t)?;
        tilesets.push(TilesetLayer { id: url.clone(), name: super::layers::name_of(&url), url });
    }
    let mut embedded = None;
    let mut data_server = args.server.as_deref().map(|s| DataServer::new(s, args.token.clone()));
    if tilesets.is_empty() && data_server.is_none() {
        let e = embedded::start_demo(&embedded::cache_dir(), None)?;
        data_server = Some(DataServer::new(&e.server.url(), Some(e.operator_token.clone())));
        embedded = Some(e);
    }
    // The data server's catalog (the embedded one's too) is read by the app, asynchronously.
    Ok(Resolved { tilesets, embedded, tiles, size, camera, data_server, wall })
}

/// Keeps the embedded data server alive as long as the app.
#[derive(Resource)]
pub struct EmbeddedServer(pub embedded::Embedded);

/// Runs the viewer until its window closes (or a screenshot or bench flight ends it).
pub fn run(args: ViewerArgs) -> anyhow::Result<()> {
    crate::platform::return_freed_memory();
    let args = merge(args)?;
    let r = resolve(&args)?;
    let named = r.tilesets.iter().map(|t| t.url.as_str());
    let server = r.data_server.as_ref().map(|s| s.url.as_str());
    info!("streaming {}", named.chain(server).collect::<Vec<_>>().join(", "));
    let mode = if args.fullscreen {
        WindowMode::BorderlessFullscreen(MonitorSelection::Primary)
    } else {
        WindowMode::Windowed
    };
    let window =
        Window { title: "citytwin".into(), resolution: WindowResolution::new(r.size.0, r.size.1), mode, ..default() };
    let config = ViewerConfig {
        window,
        offscreen: args.offscreen,
        lockstep: args.wall_master.is_some(),
        tilesets: r.tilesets,
        catalog_tilesets: true,
        tiles: r.tiles,
        camera: r.camera,
        hud: !args.no_hud,
        data_server: r.data_server,
        planning: args.scenario.clone().map(|scenario| PlanningStart {
            scenario,
            variant: args.variant.clone(),
            other: args.other.clone(),
            compare: args.compare.clone(),
            sun: args.sun.clone(),
            shadows: !args.no_shadows,
        }),
        theme: args.theme.clone(),
        night: args.night,
        sensors_shown: !args.no_sensors,
        sensor: args.sensor,
        cctv: args.cctv,
        bim: args.bim.clone(),
        drill: args.drill.as_deref().map(DrillStart::parse).transpose().map_err(anyhow::Error::msg)?,
    };
    let mut app = super::app(config, Runtime::new()?);
    app.insert_resource(CaptureSettings {
        screenshot: args.screenshot.clone(),
        after_frames: args.after_frames.unwrap_or(30),
        exit_after_frames: args.exit_after_frames,
        bench_flight: args.bench_flight,
    })
    .add_plugins(CapturePlugin);
    if let Some(wall) = r.wall {
        wall.add_to(&mut app)?;
    }
    if let Some(e) = r.embedded {
        app.insert_resource(EmbeddedServer(e));
    }

    match app.run() {
        AppExit::Success => Ok(()),
        AppExit::Error(code) => anyhow::bail!("the viewer exited with code {code}"),
    }
}
