//! Screenshots for tests and docs, exit after N frames, and the scripted `--bench-flight`.
//! A screenshot waits until the tiles have settled and the GPU has compiled every pipeline
//! (lavapipe compiles in the background; an early capture would be black).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use bevy::prelude::*;
use bevy::render::render_resource::PipelineCache;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};
use bevy::render::{Render, RenderApp, RenderSystems};

use super::bim::BimAtStart;
use super::camera::{Bookmark, GeoCamera};
use super::drill::{Drill, DrillStart};
use super::fetch::Fetcher;
use super::tiles::Tilesets;
use super::views::Offscreen;

#[derive(Resource, Debug, Clone, Default)]
pub struct CaptureSettings {
    pub screenshot: Option<PathBuf>,
    /// Frames to run at least before the screenshot.
    pub after_frames: u32,
    pub exit_after_frames: Option<u32>,
    pub bench_flight: bool,
}

/// Render pipelines still compiling, written by the render world.
#[derive(Resource, Clone, Default)]
struct WaitingPipelines(Arc<AtomicUsize>);

/// Whether the view has settled (tiles in, pipelines built, the drill caught up): what a
/// screenshot waits for, and what a wall's follower reports to its master.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct ViewSettled(pub bool);

/// When present, the screenshot is taken on this cue (a wall's frame) rather than once settled.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct CaptureCue(pub bool);

#[derive(Resource, Default)]
struct CaptureState {
    frames: u32,
    quiet_frames: u32,
    /// Frames the drill (if any) has shown the time asked for: its hazard's meshes are drawn and uploaded.
    drill_frames: u32,
    requested: bool,
    saved: Arc<AtomicBool>,
}

pub struct CapturePlugin;

impl Plugin for CapturePlugin {
    fn build(&self, app: &mut App) {
        let waiting = WaitingPipelines::default();
        app.insert_resource(waiting.clone())
            .init_resource::<CaptureState>()
            .init_resource::<ViewSettled>()
            .add_systems(Last, capture);
        if let Some(render) = app.get_sub_app_mut(RenderApp) {
            render.insert_resource(waiting).add_systems(Render, count_waiting.in_set(RenderSystems::Cleanup));
        }
        if app.world().get_resource::<CaptureSettings>().is_some_and(|s| s.bench_flight) {
            app.init_resource::<Bench>().add_systems(Update, bench_flight);
        }
    }
}

fn count_waiting(cache: Option<Res<PipelineCache>>, waiting: Res<WaitingPipelines>) {
    waiting.0.store(cache.map_or(0, |c| c.waiting_pipelines().count()), Ordering::Relaxed);
}

fn capture(
    (settings, mut state): (Res<CaptureSettings>, ResMut<CaptureState>),
    (waiting, mut settled): (Res<WaitingPipelines>, ResMut<ViewSettled>),
    (bench, cam, bim): (Option<Res<Bench>>, Res<GeoCamera>, Option<Res<BimAtStart>>),
    (drill, drill_start, sets): (Res<Drill>, Option<Res<DrillStart>>, Tilesets),
    (cue, offscreen): (Option<Res<CaptureCue>>, Option<Res<Offscreen>>),
    mut commands: Commands,
    mut exit: MessageWriter<AppExit>,
) {
    state.frames += 1;
    state.quiet_frames = if waiting.0.load(Ordering::Relaxed) == 0 { state.quiet_frames + 1 } else { 0 };
    let drill_ready = (drill_start.is_none() || drill.open.is_some() || drill.error.is_some()) && drill.caught_up();
    state.drill_frames = if drill_ready { state.drill_frames + 1 } else { 0 };
    if state.saved.load(Ordering::Acquire) {
        exit.write(AppExit::Success);
        return;
    }
    settled.0 = cam.flight.is_none()
        && bim.is_none_or(|b| b.0.is_none())
        && state.drill_frames >= 5
        && sets.settled(5)
        && state.quiet_frames >= 10;
    let due = cue.map_or(settled.0 && state.frames >= settings.after_frames, |c| c.0);
    if let Some(path) = &settings.screenshot
        && !state.requested
        && bench.is_none_or(|b| b.done)
        && due
    {
        state.requested = true;
        let saved = state.saved.clone();
        let shot = offscreen.map_or_else(Screenshot::primary_window, |o| Screenshot::image(o.image.clone()));
        commands.spawn(shot).observe(save_to_disk(path.clone())).observe(move |_: On<ScreenshotCaptured>| {
            saved.store(true, Ordering::Release);
        });
        info!("taking the screenshot after {} frames", state.frames);
        // What it took to get here: for the streaming figures of a view.
        for t in sets.iter() {
            info!("{}: {} tile requests, {} tiles loaded", t.url, t.requested, t.stats.tiles_loaded);
        }
    }
    if let Some(limit) = settings.exit_after_frames
        && state.frames >= limit
    {
        if settings.screenshot.is_some() && !state.requested {
            error!("exiting after {limit} frames before the view settled: no screenshot taken");
            exit.write(AppExit::error());
        } else {
            exit.write(AppExit::Success);
        }
    }
}

/// The scripted flight: a descent from overview to street level, a low pass, and a climb out.
#[derive(Resource, Default)]
pub struct Bench {
    started: Option<Instant>,
    frame_ms: Vec<f32>,
    /// CPU time of the tile systems, per frame.
    tiles_ms: Vec<f32>,
    leg: usize,
    arrived: Option<Instant>,
    /// The most the tile layers counted against the budget at once.
    peak_tile_bytes: usize,
    pub done: bool,
}

/// The process's peak resident memory so far (the kernel's high-water mark; 0 where there is none).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn bench_flight(
    mut bench: ResMut<Bench>,
    mut cam: ResMut<GeoCamera>,
    time: Res<Time<Real>>,
    (sets, sources): (Tilesets, Query<&super::catalog::LayerSource>),
    fetcher: Res<Fetcher>,
    tiles_time: Res<super::tiles::TilesFrameTime>,
    mut exit: MessageWriter<AppExit>,
) {
    if bench.done {
        return;
    }
    let Some((center, _)) = super::home_bounds(&sets, &sources) else { return };
    let c = crate::geo::WGS84
        .cartographic_from_ecef(center)
        .unwrap_or(crate::geo::Cartographic::from_degrees(0.0, 0.0, 0.0));
    let (lon, lat) = (c.lon_rad.to_degrees(), c.lat_rad.to_degrees());
    let legs = [
        Bookmark { lon_deg: lon, lat_deg: lat - 0.03, height_m: 2500.0, heading_deg: 0.0, pitch_deg: -40.0 },
        Bookmark { lon_deg: lon, lat_deg: lat - 0.004, height_m: 120.0, heading_deg: 10.0, pitch_deg: -15.0 },
        Bookmark { lon_deg: lon + 0.004, lat_deg: lat + 0.002, height_m: 60.0, heading_deg: 80.0, pitch_deg: -10.0 },
        Bookmark { lon_deg: lon, lat_deg: lat - 0.01, height_m: 900.0, heading_deg: 0.0, pitch_deg: -35.0 },
    ];
    bench.started.get_or_insert_with(Instant::now);
    let ms = time.delta_secs() * 1000.0;
    bench.frame_ms.push(ms);
    bench.tiles_ms.push(tiles_time.this_frame.as_secs_f32() * 1000.0);
    bench.peak_tile_bytes = bench.peak_tile_bytes.max(sets.totals().bytes_used);
    if cam.flight.is_none() {
        if bench.leg < legs.len() {
            cam.fly_to(&legs[bench.leg], 6.0);
            bench.leg += 1;
        } else if sets.settled(3) {
            let arrived = *bench.arrived.get_or_insert_with(Instant::now);
            let sorted = |v: &[f32]| {
                let mut v = v.to_vec();
                v.sort_by(f32::total_cmp);
                v
            };
            let (f, tiles) = (sorted(&bench.frame_ms), sorted(&bench.tiles_ms));
            let at = |v: &[f32], q: f64| v.get(((v.len() - 1) as f64 * q) as usize).copied().unwrap_or(0.0);
            let p = |q: f64| at(&f, q);
            let loaded = sets.totals().loaded;
            println!(
                "bench-flight: {} frames, frame time p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                f.len(),
                p(0.5),
                p(0.9),
                p(0.99),
                p(1.0)
            );
            println!(
                "bench-flight: tile systems per frame (frame loop, not background tasks) p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                at(&tiles, 0.5),
                at(&tiles, 0.99),
                at(&tiles, 1.0)
            );
            println!(
                "bench-flight: fetched {:.1} MB, {loaded} tiles loaded, converged {:.1} s after start, peak RSS {:.0} MB, peak tile bytes counted {:.0} MB",
                fetcher.bytes_fetched() as f64 / 1e6,
                (arrived - bench.started.unwrap_or(arrived)).as_secs_f64(),
                peak_rss_kb() as f64 / 1024.0,
                bench.peak_tile_bytes as f64 / (1 << 20) as f64
            );
            bench.done = true;
            exit.write(AppExit::Success);
        }
    }
}
