//! Labels for the near sensors: each sensor drawn one by one within [`LABEL_RANGE_M`] of the eye
//! gets its latest value beside its symbol (nearest first, at most [`MAX_LABELS`], none over a
//! nearer one's), and the chosen
//! sensor a ring in its level's colour. Painted by egui behind the panels, so the browser shows
//! them too; `MarkerSettings::labels` (the live panel's checkbox) switches the values off.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::panel::symbol_in_view;
use super::{MarkerSettings, SelectedSensor, SensorMarkers};
use crate::protocol::sensors::AlarmLevel;
use crate::viewer::hud::HudSettings;
use crate::viewer::live::{Live, level_color};
use crate::viewer::origin::FloatingOrigin;
use crate::viewer::views::MainView;

/// Sensors farther than this from the eye get no label.
pub const LABEL_RANGE_M: f32 = 600.0;
/// Labels drawn at most.
pub const MAX_LABELS: usize = 120;

/// The near sensors' values, and the chosen sensor's ring, over the main view.
#[allow(clippy::too_many_arguments)]
pub fn sensor_labels_ui(
    mut contexts: EguiContexts,
    markers: Res<SensorMarkers>,
    selected: Res<SelectedSensor>,
    (live, settings, hud): (Res<Live>, Res<MarkerSettings>, Res<HudSettings>),
    origin: Res<FloatingOrigin>,
    main: Query<(&Camera, &GlobalTransform), With<MainView>>,
) -> Result {
    let Ok((camera, cam_t)) = main.single() else { return Ok(()) };
    let ctx = contexts.ctx_mut()?;
    if !hud.visible {
        return Ok(());
    }
    let Some(viewport) = camera.logical_viewport_rect() else { return Ok(()) };
    let painter = ctx.layer_painter(egui::LayerId::background());
    let on_screen = |p: Vec2| viewport.contains(p + viewport.min).then_some(p + viewport.min);
    if settings.labels {
        let eye = cam_t.translation();
        let mut near: Vec<(f32, u32, Vec2)> = markers
            .near_sensors()
            .filter_map(|(sensor, ecef)| {
                let d = origin.point(ecef).distance(eye);
                if d > LABEL_RANGE_M {
                    return None;
                }
                Some((d, sensor, on_screen(symbol_in_view(&origin, camera, cam_t, ecef)?)?))
            })
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut placed: Vec<egui::Rect> = Vec::new();
        for (_, sensor, at) in near {
            if placed.len() >= MAX_LABELS {
                break;
            }
            let (Some((value, level)), Some(kind)) = (live.readings.get(&sensor), markers.chunks.sensor_kind(sensor))
            else {
                continue;
            };
            let colour = if *level == AlarmLevel::Normal { egui::Color32::WHITE } else { level_color(*level) };
            let text = format!("{value:.1} {}", kind.unit().1);
            let pos = egui::pos2(at.x + 9.0, at.y - 7.0);
            let galley = painter.layout_no_wrap(text, egui::FontId::proportional(11.0), colour);
            let back = egui::Rect::from_min_size(pos, galley.size()).expand(2.0);
            if placed.iter().any(|r| r.intersects(back)) {
                continue;
            }
            placed.push(back);
            painter.rect_filled(back, 3.0, egui::Color32::from_black_alpha(150));
            painter.galley(pos, galley, colour);
        }
    }
    let chosen = selected.sensor.and_then(|s| Some((s, markers.chunks.sensor_ecef(s)?)));
    if let Some(at) = chosen.and_then(|(_, ecef)| on_screen(symbol_in_view(&origin, camera, cam_t, ecef)?)) {
        let level = chosen.and_then(|(s, _)| live.readings.get(&s)).map_or(AlarmLevel::Normal, |r| r.1);
        let colour =
            if level == AlarmLevel::Normal { egui::Color32::from_rgb(40, 200, 255) } else { level_color(level) };
        painter.circle_stroke(egui::pos2(at.x, at.y), 11.0, egui::Stroke::new(2.5, colour));
    }
    Ok(())
}
