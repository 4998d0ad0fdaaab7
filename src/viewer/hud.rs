//! The HUD (egui): frame time, tiles loaded/visible/in flight, cache against budget, loading
//! progress, errors (each shown once) and credits. (Layers, live sensors and the picked feature
//! have panels of their own.)

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::camera::GeoCamera;
use super::fetch::Fetcher;
use super::tiles::Tilesets;

/// Credits to show (e.g. "© OpenStreetMap contributors").
#[derive(Resource, Debug, Clone, Default)]
pub struct Attribution(pub Vec<String>);

/// Whether the HUD is drawn (F1 toggles).
#[derive(Resource, Debug, Clone)]
pub struct HudSettings {
    pub visible: bool,
}

pub fn toggle(keys: Res<ButtonInput<KeyCode>>, mut hud: ResMut<HudSettings>) {
    if keys.just_pressed(KeyCode::F1) {
        hud.visible = !hud.visible;
    }
}

#[derive(Resource, Default)]
pub struct FrameTimes {
    smoothed_ms: f32,
}

/// Real frame times (the virtual clock caps its delta at 250 ms).
pub fn frame_times(time: Res<Time<Real>>, mut f: ResMut<FrameTimes>) {
    let ms = time.delta_secs() * 1000.0;
    f.smoothed_ms = if f.smoothed_ms == 0.0 { ms } else { f.smoothed_ms * 0.9 + ms * 0.1 };
}

/// The HUD's window (frame time, tiles, cache, loading, errors) and the credits.
pub fn hud_ui(
    mut contexts: EguiContexts,
    sets: Tilesets,
    (fetcher, frames, cam): (Res<Fetcher>, Res<FrameTimes>, Res<GeoCamera>),
    attribution: Res<Attribution>,
    server: Option<Res<super::DataServer>>,
    settings: Res<HudSettings>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !settings.visible {
        return Ok(());
    }
    egui::Window::new("citytwin").default_pos([10.0, 10.0]).resizable(false).show(ctx, |ui| {
        let fps = if frames.smoothed_ms > 0.0 { 1000.0 / frames.smoothed_ms } else { 0.0 };
        ui.label(format!("{fps:.0} fps · {:.1} ms", frames.smoothed_ms));
        let super::TilesTotals {
            shown: visible,
            loaded,
            in_flight: flight,
            queued,
            bytes_used: used,
            bytes_budget: budget,
            ..
        } = sets.totals();
        ui.label(format!("tiles: {visible} visible · {loaded} loaded · {flight} in flight"));
        ui.add(egui::ProgressBar::new(used as f32 / budget.max(1) as f32).text(format!(
            "cache {:.0} / {:.0} MB",
            used as f64 / 1e6,
            budget as f64 / 1e6
        )));
        if flight + queued > 0 {
            ui.label(format!("loading… {} tiles to go", flight + queued));
        }
        ui.label(format!(
            "fetched {:.1} MB · altitude {:.0} m",
            fetcher.bytes_fetched() as f64 / 1e6,
            cam.altitude_m()
        ));
        if let Some(s) = &server {
            ui.label(format!("data server: {}", s.url));
        }
        let errors: Vec<String> =
            sets.iter().flat_map(|t| t.errors.iter().map(|e| format!("{}: {}", e.url, e.message))).collect();
        if !errors.is_empty() {
            ui.separator();
            ui.colored_label(egui::Color32::from_rgb(230, 80, 60), format!("{} errors", errors.len()));
            egui::ScrollArea::vertical().max_height(120.0).show(ui, |ui| {
                for e in &errors {
                    ui.label(egui::RichText::new(e).small());
                }
            });
        }
    });
    if !attribution.0.is_empty() {
        egui::Area::new(egui::Id::new("attribution")).anchor(egui::Align2::RIGHT_BOTTOM, [-8.0, -6.0]).show(
            ctx,
            |ui| {
                ui.label(egui::RichText::new(attribution.0.join(" · ")).small().color(egui::Color32::WHITE));
            },
        );
    }
    Ok(())
}
