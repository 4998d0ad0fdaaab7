//! The planning panel (egui): open a scenario, choose the variant shown, compare the variants'
//! figures side by side, and set the sun's date and time.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use time::Date;

use super::sun::sun_over;
use super::sun_hours::SunHoursAnalysis;
use super::{Planning, Scenarios};
use crate::scenario::metrics::VariantMetrics;
use crate::scenario::study::Study;
use crate::viewer::camera::{Bookmark, GeoCamera};
use crate::viewer::hud::HudSettings;

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
    let (mut shown, mut clock) = (planning.shown, planning.clock);
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
            ui.selectable_value(&mut shown, None, "As built");
            for (i, v) in study.variants.iter().enumerate() {
                ui.selectable_value(&mut shown, Some(i), &v.name);
            }
        });
        metrics_ui(ui, study);
        ui.separator();
        sun_ui(ui, study, &mut clock);
        ui.separator();
        sun_hours_ui(ui, shown.is_some(), &mut analysis);
    });
    if shown != planning.shown {
        planning.shown = shown;
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
