//! A wall's follower: takes frame N's state from the master at the start of the frame, draws its
//! screen's part, and holds the present until the master's "present N" (in the render world, after
//! the frame's commands are submitted and before the swap). Its frames are not pipelined: frame N
//! is drawn and presented before N + 1 begins (pipelined, the render world would finish frame N only
//! once the main world of N + 1, which waits for the barrier of N, had ended). With no master it
//! keeps its last frame and says so on screen.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::render::extract_resource::{ExtractResource, ExtractResourcePlugin};
use bevy::render::renderer::{RenderGraph, RenderGraphSystems};
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};
use glam::DVec3;

use super::link::FollowerLink;
use super::wall_planning;
use crate::platform::Runtime;
use crate::protocol::wall::WallState;
use crate::viewer::capture::{CaptureCue, ViewSettled};
use crate::viewer::drill::request_drill;
use crate::viewer::look::LookSettings;
use crate::viewer::{
    CameraLocked, DataServer, Drill, GeoCamera, Layer, LayerViews, Planning, PlanningStart, Scenarios,
};

/// How long a follower in lockstep waits for the next state before it calls the master lost.
/// (A software renderer with several screens on one machine takes seconds a frame.)
const MASTER_SILENT: Duration = Duration::from_secs(10);
/// How long the render world waits for "present N".
const PRESENT_WAIT: Duration = Duration::from_secs(25);

#[derive(Resource, Clone)]
struct Link(Arc<FollowerLink>);

/// The frame this follower draws for the master (none while it has no master) and whether its view
/// has settled: what the render world's barrier reports.
#[derive(Resource, Debug, Clone, Copy, Default, ExtractResource)]
struct WallFrame {
    frame: Option<u64>,
    settled: bool,
}

/// The last state applied and when, for the on-screen status.
#[derive(Resource, Default)]
struct Followed {
    last: Option<WallState>,
    at: Option<Instant>,
    /// Whether the last frame was in lockstep.
    locked: bool,
}

pub fn add(app: &mut App, link: FollowerLink) {
    let link = Link(Arc::new(link));
    app.insert_resource(link.clone())
        .insert_resource(CameraLocked)
        .insert_resource(CaptureCue(false))
        .init_resource::<WallFrame>()
        .init_resource::<Followed>()
        .add_plugins(ExtractResourcePlugin::<WallFrame>::default())
        .add_systems(First, receive_state)
        .add_systems(Last, report_settled)
        .add_systems(EguiPrimaryContextPass, wall_status_ui);
    if let Some(render) = app.get_sub_app_mut(RenderApp) {
        render.insert_resource(link).add_systems(RenderGraph, present_barrier.in_set(RenderGraphSystems::Finish));
    }
}

/// Waits for the master's next state and applies it (in lockstep: without it, this frame would
/// show something else than the other screens').
#[allow(clippy::too_many_arguments)]
fn receive_state(
    link: Res<Link>,
    mut followed: ResMut<Followed>,
    mut frame: ResMut<WallFrame>,
    mut cue: ResMut<CaptureCue>,
    mut cam: ResMut<GeoCamera>,
    mut look: ResMut<LookSettings>,
    mut layers: Query<(&Layer, &mut LayerViews)>,
    (mut drill, scenarios, server, runtime): (ResMut<Drill>, Res<Scenarios>, Option<Res<DataServer>>, Res<Runtime>),
    mut planning: ResMut<Planning>,
) {
    // In lockstep the next state comes within a wall frame; otherwise poll, so the status still draws.
    let wait = if followed.locked { MASTER_SILENT } else { Duration::from_millis(30) };
    let state = if link.0.connected() { link.0.next_state(wait) } else { None };
    let Some(state) = state else {
        if followed.locked {
            warn!("wall: no state from the master for {MASTER_SILENT:?}: frozen on frame {:?}", frame.frame);
        }
        followed.locked = false;
        frame.frame = None;
        // A screenshot asked for shows the frozen wall and its status once the master has gone.
        cue.0 = followed.last.is_some() && !link.0.connected() && frame.settled;
        return;
    };
    if !followed.locked {
        println!("wall: in step with the master from frame {}", state.frame);
    }
    frame.frame = Some(state.frame);
    cue.0 = state.capture;
    if state.capture {
        println!("wall: screenshot of frame {}", state.frame);
    }
    let c = state.camera;
    cam.position_ecef = DVec3::from_array(c.position_ecef);
    cam.heading = c.heading_rad;
    cam.pitch = c.pitch_rad;
    cam.flight = None;
    look.night = state.night;
    for (layer, mut views) in &mut layers {
        let shown = state.layers_shown.contains(&layer.id);
        views.set_if_neq(LayerViews { main: shown, second: shown });
    }
    follow_drill(&state, &mut drill, &scenarios, server.as_deref(), &runtime);
    follow_planning(&state, &mut planning, &scenarios);
    followed.last = Some(state);
    followed.at = Some(Instant::now());
    followed.locked = true;
}

/// Opens the master's drill (or closes it) and sets its clock; the master plays it.
fn follow_drill(
    state: &WallState,
    drill: &mut Drill,
    scenarios: &Scenarios,
    server: Option<&DataServer>,
    runtime: &Runtime,
) {
    let showing = drill.open.as_ref().map(|o| &o.scenario.id).or(drill.loading.as_ref().map(|s| &s.id));
    match (&state.drill, showing) {
        (None, Some(_)) => drill.close(),
        (Some(d), showing) if showing != Some(&d.id) && drill.error.is_none() => {
            match (scenarios.0.iter().find(|s| s.id == d.id && s.drill.is_some()), server) {
                (Some(scenario), Some(server)) => request_drill(drill, scenario, server, runtime),
                // The catalog has not come yet: next frame.
                _ => return,
            }
        }
        _ => {}
    }
    if let Some(d) = &state.drill {
        drill.playing = false;
        drill.clock_s = d.clock_s;
    }
}

/// Opens the master's comparison (its variant A, in its sun) or closes it.
fn follow_planning(state: &WallState, planning: &mut Planning, scenarios: &Scenarios) {
    if wall_planning(planning) == state.planning {
        return;
    }
    let Some(want) = &state.planning else {
        planning.close();
        return;
    };
    // Until the catalog has come, next frame.
    if let Some(scenario) = scenarios.0.iter().find(|s| s.id == want.scenario) {
        let start = PlanningStart {
            scenario: want.scenario.clone(),
            variant: Some(want.variant.clone()),
            other: None,
            compare: None,
            sun: Some(want.sun.clone()),
            shadows: want.shadows,
        };
        planning.apply_start(scenario, &start);
    }
}

fn report_settled(settled: Res<ViewSettled>, mut frame: ResMut<WallFrame>) {
    frame.settled = settled.0;
}

/// The software swap barrier: "frame N ready", then wait for "present N" before the swap.
fn present_barrier(frame: Option<Res<WallFrame>>, link: Res<Link>) {
    let Some(WallFrame { frame: Some(n), settled }) = frame.as_deref().copied() else { return };
    if !link.0.barrier(n, settled, PRESENT_WAIT) {
        warn!("wall: no \"present {n}\" from the master: presenting alone");
    }
}

/// The follower's status when it is not in lockstep: waiting for its master, or frozen since it left.
fn wall_status_ui(mut contexts: EguiContexts, link: Res<Link>, followed: Res<Followed>) -> Result {
    let ctx = contexts.ctx_mut()?;
    if followed.locked {
        return Ok(());
    }
    let text = match (&followed.last, followed.at) {
        (Some(s), Some(at)) => format!(
            "WALL: master {} lost · frozen on frame {} ({:.0} s)",
            link.0.master,
            s.frame,
            at.elapsed().as_secs_f64()
        ),
        _ => format!("WALL: waiting for the master at {}", link.0.master),
    };
    egui::Area::new(egui::Id::new("wall-status")).anchor(egui::Align2::CENTER_TOP, [0.0, 8.0]).show(ctx, |ui| {
        egui::Frame::new().fill(egui::Color32::from_rgb(170, 30, 30)).inner_margin(8.0).show(ui, |ui| {
            ui.colored_label(egui::Color32::WHITE, egui::RichText::new(text).strong());
        });
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::wall::{WallCamera, WallPlanning};

    fn state(planning: Option<WallPlanning>) -> WallState {
        WallState {
            frame: 1,
            camera: WallCamera { position_ecef: [6_378_137.0, 0.0, 0.0], heading_rad: 0.0, pitch_rad: -0.5 },
            layers_shown: Vec::new(),
            night: false,
            drill: None,
            planning,
            capture: false,
        }
    }

    #[test]
    fn a_follower_shows_the_masters_variant_in_the_masters_sun() {
        let scenario = crate::tiler::demo::demo_scenario();
        let variant = scenario.variants[1].id.clone();
        let scenarios = Scenarios(vec![scenario.clone()]);
        let want = WallPlanning {
            scenario: scenario.id.clone(),
            variant: variant.clone(),
            sun: "2026-06-21T17:30".into(),
            shadows: false,
        };
        let mut planning = Planning::default();
        follow_planning(&state(Some(want.clone())), &mut planning, &scenarios);
        assert_eq!(wall_planning(&planning), Some(want.clone()));
        assert_eq!(planning.variant_id(planning.shown), variant);
        // The site as built, then no comparison at all.
        let built = WallPlanning { variant: "none".into(), ..want };
        follow_planning(&state(Some(built.clone())), &mut planning, &scenarios);
        assert_eq!((planning.shown, wall_planning(&planning)), (None, Some(built)));
        follow_planning(&state(None), &mut planning, &scenarios);
        assert!(planning.study.is_none());
    }
}
