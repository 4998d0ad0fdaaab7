//! The planning panel (egui): open a scenario, choose the variant shown, compare the variants'
//! figures side by side, and set the sun's date and time.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use time::Date;

use super::share::{SharedLook, SharedView};
use super::sun::sun_over;
use super::sun_hours::SunHoursAnalysis;
use super::{CompareMode, Planning, Scenarios};
use crate::scenario::metrics::VariantMetrics;
use crate::scenario::study::Study;
use crate::viewer::camera::{Bookmark, GeoCamera};
use crate::viewer::hud::HudSettings;
use crate::viewer::look::LookSettings;
use crate::viewer::theme::ThemeChoice;

/// What the panel asked for, done after it is drawn.
enum Action {
    Open(usize),
    Close,
}

pub fn planning_ui(
    mut contexts: EguiContexts,
    scenarios: Res<Scenarios>,
    mut planning: ResMut<Planning>,
    mut cam: ResMut<GeoCamera>,
    hud: Res<HudSettings>,
    mut analysis: ResMut<SunHoursAnalysis>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let planned: Vec<(usize, &str)> = scenarios
        .0
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == "planning" && !s.variants.is_empty())
        .map(|(i, s)| (i, s.name.as_str()))
        .collect();
    if !hud.visible || planned.is_empty() {
        return Ok(());
    }
    let (mut shown, mut other, mut mode, mut clock) = (planning.shown, planning.other, planning.mode, planning.clock);
    let mut action = None;
    egui::Window::new("Planning").default_pos([ctx.content_rect().width() - 430.0, 10.0]).show(ctx, |ui| {
        let Some(study) = &planning.study else {
            for (i, name) in &planned {
                ui.horizontal(|ui| {
                    ui.label(*name);
                    if ui.button("Open").clicked() {
                        action = Some(Action::Open(*i));
                    }
                });
            }
            return;
        };
        ui.horizontal(|ui| {
            ui.strong(&study.name);
            if ui.button("Close").clicked() {
                action = Some(Action::Close);
            }
        });
        ui.horizontal(|ui| {
            ui.label("Compare:");
            ui.selectable_value(&mut mode, CompareMode::Toggle, "one view");
            if ui.selectable_label(matches!(mode, CompareMode::Swipe { .. }), "swipe").clicked() {
                mode = CompareMode::Swipe { divider: 0.5 };
            }
            ui.selectable_value(&mut mode, CompareMode::SideBySide, "side by side");
        });
        let choose = |ui: &mut egui::Ui, label: &str, pick: &mut Option<usize>| {
            ui.horizontal(|ui| {
                ui.label(label);
                ui.selectable_value(pick, None, "As built");
                for (i, v) in study.variants.iter().enumerate() {
                    ui.selectable_value(pick, Some(i), &v.name);
                }
            });
        };
        choose(ui, if mode == CompareMode::Toggle { "Show:" } else { "A:" }, &mut shown);
        if mode != CompareMode::Toggle {
            choose(ui, "B:", &mut other);
        }
        metrics_ui(ui, study);
        ui.separator();
        sun_ui(ui, study, &mut clock);
        ui.separator();
        sun_hours_ui(ui, shown.is_some(), &mut analysis);
    });
    if let CompareMode::Swipe { divider } = &mut mode {
        divider_ui(ctx, divider);
    }
    if mode != CompareMode::Toggle {
        let name = |v: Option<usize>| {
            planning.study.as_ref().and_then(|s| v.map(|i| s.variants[i].name.clone())).unwrap_or("As built".into())
        };
        let right = if let CompareMode::Swipe { divider } = mode { divider } else { 0.5 };
        view_labels_ui(ctx, &name(shown), &name(other), right);
    }
    if shown != planning.shown {
        planning.shown = shown;
    }
    if other != planning.other {
        planning.other = other;
    }
    if mode != planning.mode {
        planning.mode = mode;
    }
    if clock != planning.clock {
        planning.clock = clock;
    }
    match action {
        Some(Action::Open(i)) => {
            planning.open(&scenarios.0[i]);
            if let Some(study) = &planning.study {
                cam.fly_to(&overview(study), 2.0);
            }
        }
        Some(Action::Close) => planning.close(),
        None => {}
    }
    Ok(())
}

/// "Share this view": the link that opens the comparison as it is now in a browser, and on the
/// desktop a viewer file (`citytwin --config FILE`).
pub fn share_ui(
    mut contexts: EguiContexts,
    planning: Res<Planning>,
    cam: Res<GeoCamera>,
    hud: Res<HudSettings>,
    server: Option<Res<crate::viewer::DataServer>>,
    look: (Res<LookSettings>, Res<ThemeChoice>),
    #[cfg_attr(not(feature = "viewer"), allow(unused_mut))] mut saved: Local<Option<String>>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let look = SharedLook { theme: look.1.property.clone(), night: look.0.night };
    let Some(shared) = cam.bookmark().and_then(|b| SharedView::of(&planning, b, look)).filter(|_| hud.visible) else {
        return Ok(());
    };
    egui::Window::new("Share this view").default_open(false).default_pos([10.0, 420.0]).show(ctx, |ui| {
        // The server alone: a shared link never carries the sharer's token.
        let base = server.as_ref().map_or("", |s| s.url.as_str());
        let link = format!("{base}/?{}", shared.query());
        ui.label("In a browser:");
        ui.add(egui::TextEdit::singleline(&mut link.as_str()).desired_width(360.0));
        #[cfg(feature = "viewer")]
        if ui.button("Save as a viewer file").clicked() {
            let path = format!("citytwin-view-{}.toml", shared.scenario);
            *saved = Some(match std::fs::write(&path, shared.toml()) {
                Ok(()) => format!("saved: citytwin --config {path}"),
                Err(e) => format!("could not save {path}: {e}"),
            });
        }
        if let Some(message) = saved.as_ref() {
            ui.label(message);
        }
    });
    Ok(())
}

/// The swipe's divider: a handle the full height of the window, dragged sideways.
fn divider_ui(ctx: &egui::Context, divider: &mut f32) {
    let screen = ctx.content_rect();
    let x = screen.left() + *divider * screen.width();
    egui::Area::new(egui::Id::new("swipe-divider")).fixed_pos([x - 6.0, screen.top()]).show(ctx, |ui| {
        let (rect, response) = ui.allocate_exact_size(egui::vec2(12.0, screen.height()), egui::Sense::drag());
        let colour =
            if response.dragged() || response.hovered() { egui::Color32::WHITE } else { egui::Color32::LIGHT_GRAY };
        ui.painter().line_segment([rect.center_top(), rect.center_bottom()], egui::Stroke::new(2.0, colour));
        ui.painter().circle_filled(rect.center(), 9.0, colour);
        if response.dragged() {
            *divider = ((*divider * screen.width() + response.drag_delta().x) / screen.width()).clamp(0.02, 0.98);
        }
        response.on_hover_cursor(egui::CursorIcon::ResizeHorizontal);
    });
}

/// "A" and "B" with the variants' names over the two views; the second view starts at `split`.
fn view_labels_ui(ctx: &egui::Context, a: &str, b: &str, split: f32) {
    let screen = ctx.content_rect();
    let at_bottom = |id: &str, x: f32, text: String| {
        egui::Area::new(egui::Id::new(id)).fixed_pos([x, screen.bottom() - 32.0]).show(ctx, |ui| {
            egui::Frame::popup(ui.style()).show(ui, |ui| ui.strong(text));
        });
    };
    at_bottom("view-a", screen.left() + 12.0, format!("A · {a}"));
    at_bottom("view-b", screen.left() + split * screen.width() + 12.0, format!("B · {b}"));
}

/// The figures of every variant side by side.
fn metrics_ui(ui: &mut egui::Ui, study: &Study) {
    type Figure = (&'static str, fn(&VariantMetrics) -> String);
    let rows: [Figure; 6] = [
        ("Height", |m| format!("{:.1} m", m.height_m)),
        ("Footprint", |m| format!("{:.0} m²", m.footprint_m2)),
        ("Floor area (GFA)", |m| format!("{:.0} m²", m.gross_floor_area_m2)),
        ("Volume", |m| format!("{:.0} m³", m.volume_m3)),
        ("Plot ratio", |m| format!("{:.2}", m.plot_ratio)),
        ("Site coverage", |m| format!("{:.0} %", m.site_coverage * 100.0)),
    ];
    ui.label(format!("Site {:.0} m²", study.site.area_m2()));
    egui::Grid::new("variant-figures").striped(true).show(ui, |ui| {
        ui.label("");
        for v in &study.variants {
            ui.strong(&v.name);
        }
        ui.end_row();
        for (name, figure) in rows {
            ui.label(name);
            for v in &study.variants {
                match (&v.metrics, &v.problem) {
                    (Some(m), _) => ui.label(figure(m)),
                    (None, Some(p)) => ui.label("—").on_hover_text(p),
                    (None, None) => ui.label("—").on_hover_text("measured from its model once loaded"),
                };
            }
            ui.end_row();
        }
    });
}

/// Date and time of the sun, and whether it casts shadows.
fn sun_ui(ui: &mut egui::Ui, study: &Study, clock: &mut super::SunClock) {
    ui.checkbox(&mut clock.enabled, "Sun at the site's date and time");
    ui.add_enabled_ui(clock.enabled, |ui| {
        let year = clock.date.year();
        let mut day = clock.date.ordinal();
        let days = if time::util::is_leap_year(year) { 366 } else { 365 };
        let label = format!("{} {}", clock.date.day(), clock.date.month());
        if ui.add(egui::Slider::new(&mut day, 1..=days).text(label).show_value(false)).changed()
            && let Ok(d) = Date::from_ordinal_date(year, day)
        {
            clock.date = d;
        }
        let lon = study.site.frame.origin.lon_rad.to_degrees();
        let zone = format!("{:02}:{:02} UTC{:+}", clock.minutes / 60, clock.minutes % 60, (lon / 15.0).round() as i64);
        ui.add(egui::Slider::new(&mut clock.minutes, 0..=1435).step_by(5.0).text(zone).show_value(false));
        ui.checkbox(&mut clock.shadows, "Shadows");
        let sun = sun_over(&study.site.frame, clock);
        ui.label(format!("Sun: azimuth {:.0}°, elevation {:.1}°", sun.azimuth_deg, sun.apparent_elevation_deg));
    });
}

/// The sun hours the shown variant takes from its neighbours on the chosen day.
fn sun_hours_ui(ui: &mut egui::Ui, variant_shown: bool, analysis: &mut SunHoursAnalysis) {
    ui.horizontal(|ui| {
        let idle = variant_shown && !analysis.running();
        if ui.add_enabled(idle, egui::Button::new("Sun hours lost")).clicked() {
            analysis.requested = true;
        }
        if analysis.running() {
            ui.spinner();
        }
    });
    if let Some(r) = &analysis.report {
        ui.label(format!("{} on {}:", r.variant, r.date));
        ui.label(format!(
            "ground {:.0} m²·h, facades {:.0} m²·h lost; {} of {} points lose ≥ 1 h (worst {:.1} h); {} buildings",
            r.hours.ground_lost_m2h,
            r.hours.facade_lost_m2h,
            r.hours.losing_an_hour,
            r.receivers,
            r.hours.worst_lost_h,
            r.buildings
        ));
    }
}

/// A view of the site from the south, high enough to see the tallest variant and its neighbours.
fn overview(study: &Study) -> Bookmark {
    let tallest = study.variants.iter().filter_map(|v| v.metrics).map(|m| m.height_m).fold(0.0, f64::max);
    let distance_m = (study.site.area_m2().sqrt() * 3.0).max(tallest * 2.5).max(200.0);
    let camera = study.site.frame.to_geodetic(0.0, -distance_m);
    Bookmark {
        lon_deg: camera.lon_rad.to_degrees(),
        lat_deg: camera.lat_rad.to_degrees(),
        height_m: distance_m * 0.8,
        heading_deg: 0.0,
        pitch_deg: -35.0,
    }
}
