//! The wall's master, the operator's console: each frame's state to the link, and the console's
//! wall panel (screens in, frame, skew, barrier times) with the wall's screens outlined on the view.

use std::sync::Arc;
use std::time::Duration;

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::link::{MasterLink, MasterStatus};
use super::wall_planning;
use crate::protocol::wall::{WallCamera, WallDrill, WallState};
use crate::viewer::hud::HudSettings;
use crate::viewer::look::LookSettings;
use crate::viewer::views::WallView;
use crate::viewer::{Drill, GeoCamera, Layer, LayerViews, Planning};

#[derive(Resource, Clone)]
struct Master(Arc<MasterLink>);

pub fn add(app: &mut App, link: MasterLink) {
    app.insert_resource(Master(Arc::new(link)))
        .add_systems(Last, send_state)
        .add_systems(EguiPrimaryContextPass, (wall_panel_ui, wall_outline_ui));
}

/// What the followers draw this frame.
fn send_state(
    master: Res<Master>,
    cam: Res<GeoCamera>,
    look: Res<LookSettings>,
    (drill, planning): (Res<Drill>, Res<Planning>),
    layers: Query<(&Layer, &LayerViews)>,
    mut frame: Local<u64>,
) {
    // Keep the wall's pace (bounded, so a stalled screen never freezes the console).
    master.0.pace(*frame, Duration::from_millis(250));
    *frame += 1;
    let p = cam.position_ecef;
    let mut layers_shown: Vec<String> = layers.iter().filter(|(_, v)| v.main).map(|(l, _)| l.id.clone()).collect();
    layers_shown.truncate(crate::protocol::wall::MAX_LAYERS);
    master.0.send(WallState {
        frame: *frame,
        camera: WallCamera { position_ecef: [p.x, p.y, p.z], heading_rad: cam.heading, pitch_rad: cam.pitch },
        layers_shown,
        night: look.night,
        drill: drill.open.as_ref().map(|o| WallDrill { id: o.scenario.id.clone(), clock_s: drill.clock_s }),
        planning: wall_planning(&planning),
        capture: false,
    });
}

fn status_lines(s: &MasterStatus, screens: usize) -> Vec<String> {
    let t = s.times();
    vec![
        format!("screens in: {}/{screens}", s.screens.len()),
        format!("frame {} · {} barriers · skew max {} frames", s.frame, s.barriers, s.skew_max_frames),
        format!("barrier release median {:.2} ms, p99 {:.2} ms", t.release_p50_ms, t.release_p99_ms),
        format!("wall frame (state to last ready) median {:.0} ms", t.round_p50_ms),
    ]
}

/// The console's wall panel: which screens follow, and how the lock goes.
fn wall_panel_ui(
    mut contexts: EguiContexts,
    hud: Res<HudSettings>,
    master: Res<Master>,
    wall: Res<WallView>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !hud.visible {
        return Ok(());
    }
    let layout = &wall.layout;
    // What the panel shows, read under the lock (not a copy of the barrier times).
    let Ok((screens, lines)) =
        master.0.status.lock().map(|s| (s.screens.clone(), status_lines(&s, (layout.columns * layout.rows) as usize)))
    else {
        return Ok(());
    };
    egui::Window::new("Wall").default_pos([10.0, 420.0]).default_open(true).show(ctx, |ui| {
        ui.label(format!("master on {}", master.0.address));
        egui::Grid::new("wall-screens").show(ui, |ui| {
            for r in 0..layout.rows.min(16) {
                for c in 0..layout.columns.min(16) {
                    let live = screens.contains(&[c, r]);
                    let colour =
                        if live { egui::Color32::from_rgb(90, 200, 120) } else { egui::Color32::from_rgb(220, 80, 60) };
                    ui.colored_label(colour, format!("{c},{r}"));
                }
                ui.end_row();
            }
        });
        for line in lines {
            ui.label(line);
        }
    });
    Ok(())
}

/// The wall's screens outlined over the console's view (the console sees what the whole wall sees,
/// at the wall's field of view): where each screen's picture ends, and the bezels between them.
fn wall_outline_ui(mut contexts: EguiContexts, hud: Res<HudSettings>, wall: Res<WallView>) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !hud.visible {
        return Ok(());
    }
    let layout = &wall.layout;
    let view = ctx.content_rect();
    let [w_mm, h_mm] = layout.size_mm();
    // Vertically the wall fills the view; across, its aspect decides.
    let scale = view.height() / h_mm as f32;
    let left = view.center().x - 0.5 * w_mm as f32 * scale;
    let painter = ctx.layer_painter(egui::LayerId::background());
    let stroke = egui::Stroke::new(1.5, egui::Color32::from_rgba_unmultiplied(255, 255, 255, 160));
    for r in 0..layout.rows.min(64) {
        for c in 0..layout.columns.min(64) {
            let s = layout.screen_rect([c, r]);
            let min = egui::pos2(left + s.x_mm as f32 * scale, view.top() + s.y_mm as f32 * scale);
            let size = egui::vec2(s.width_mm as f32 * scale, s.height_mm as f32 * scale);
            painter.rect_stroke(egui::Rect::from_min_size(min, size), 0.0, stroke, egui::StrokeKind::Inside);
        }
    }
    Ok(())
}
