//! The drill panel (egui): open a catalog drill; play, pause, speed and scrub its clock; its events (a click
//! jumps there); its numbers beside the scene; its parameters and source; the report saved as JSON and CSV.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::{Drill, edit, request_drill};
use crate::drill::report::DrillReport;
use crate::drill::session::{EventKind, Figures};
use crate::platform::Runtime;
use crate::viewer::DataServer;
use crate::viewer::hud::HudSettings;
use crate::viewer::planning::Scenarios;

const SPEEDS: [f64; 5] = [1.0, 10.0, 60.0, 300.0, 900.0];

fn clock_text(s: f64) -> String {
    let s = s.max(0.0) as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

pub fn drill_ui(
    mut contexts: EguiContexts,
    scenarios: Res<Scenarios>,
    mut drill: ResMut<Drill>,
    (server, runtime): (Option<Res<DataServer>>, Res<Runtime>),
    hud: Res<HudSettings>,
    mut saved: Local<Option<String>>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    let drills: Vec<_> = scenarios.0.iter().filter(|s| s.drill.is_some()).collect();
    if !hud.visible || drills.is_empty() {
        return Ok(());
    }
    let mut open_request = None;
    let at = [ctx.content_rect().width() - 380.0, 110.0];
    egui::Window::new("Drill").default_pos(at).default_width(360.0).show(ctx, |ui| {
        if drill.open.is_none() {
            if let Some(loading) = &drill.loading {
                ui.label(format!("{}: loading the city's roads and buildings…", loading.name));
            }
            if let Some(e) = &drill.error {
                ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
            }
            for s in &drills {
                ui.horizontal(|ui| {
                    ui.label(&s.name).on_hover_text(&s.description);
                    if ui.button("Open").clicked() {
                        open_request = Some((*s).clone());
                    }
                });
            }
            return;
        }
        open_drill_ui(ui, &mut drill, &mut saved);
    });
    if let (Some(scenario), Some(server)) = (open_request, server) {
        request_drill(&mut drill, &scenario, &server, &runtime);
    }
    Ok(())
}

fn open_drill_ui(ui: &mut egui::Ui, drill: &mut Drill, saved: &mut Option<String>) {
    let Some(open) = &drill.open else { return };
    let (name, id, kind) = (open.scenario.name.clone(), open.scenario.id.clone(), open.scenario.kind.clone());
    let duration = open.session.duration_s();
    let shown = open.session.time_s();
    let mut close = false;
    ui.horizontal(|ui| {
        ui.strong(&name);
        close = ui.button("Close").clicked();
    });
    if let Some(e) = &drill.error {
        ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
    }
    ui.horizontal(|ui| {
        let label = if drill.playing { "⏸ Pause" } else { "▶ Play" };
        if ui.button(label).clicked() {
            if !drill.playing && drill.clock_s >= duration {
                drill.clock_s = 0.0;
            }
            drill.playing = !drill.playing;
        }
        for s in SPEEDS {
            if ui.selectable_label(drill.speed == s, format!("{s}×")).clicked() {
                drill.speed = s;
            }
        }
    });
    let mut clock = drill.clock_s;
    ui.add(egui::Slider::new(&mut clock, 0.0..=duration).custom_formatter(|v, _| clock_text(v)).text("drill time"));
    if clock != drill.clock_s {
        drill.clock_s = clock;
    }
    if !drill.caught_up() {
        ui.label(egui::RichText::new(format!("simulating… at {}", clock_text(shown))).italics());
    }
    let Some(open) = &drill.open else { return };
    let session = &open.session;
    ui.separator();
    let levels = session.hazard().level_names();
    if let Some(f) = session.figures().iter().rev().find(|f| f.time_s <= shown) {
        figures_ui(ui, f, &levels, session.reading_unit(), session.people_per_vehicle());
    }
    ui.separator();
    ui.label("Timeline");
    let mut jump = None;
    egui::ScrollArea::vertical().max_height(160.0).show(ui, |ui| {
        for e in session.events() {
            let colour = match e.kind {
                EventKind::Incident => egui::Color32::from_rgb(230, 90, 60),
                EventKind::Warning | EventKind::Alarm => egui::Color32::from_rgb(240, 180, 40),
                EventKind::RoadClosure | EventKind::Order => egui::Color32::from_rgb(120, 170, 250),
                EventKind::Cleared => egui::Color32::from_rgb(80, 200, 120),
            };
            let text = egui::RichText::new(format!("{} {}", clock_text(e.time_s), e.text)).color(colour);
            if ui.add(egui::Button::new(text).frame(false)).clicked() {
                jump = Some(e.time_s);
            }
        }
    });
    ui.separator();
    let mut apply = false;
    if let Some(draft) = &mut drill.draft {
        let placing = &mut drill.placing;
        egui::CollapsingHeader::new("Parameters").show(ui, |ui| apply = edit::parameters_ui(ui, draft, placing));
    }
    ui.horizontal(|ui| {
        if ui.button("Save report (JSON + CSV)").clicked() {
            let report = DrillReport::of(session, &name, &kind);
            let results = [
                crate::platform::save_text(&format!("drill-{id}.json"), &report.json()),
                crate::platform::save_text(&format!("drill-{id}.csv"), &report.csv()),
            ];
            *saved = Some(results.into_iter().map(|r| r.unwrap_or_else(|e| e)).collect::<Vec<_>>().join(", "));
        }
    });
    if let Some(s) = saved {
        ui.label(egui::RichText::new(s.as_str()).small());
    }
    if apply && let (Some(open), Some(draft)) = (&mut drill.open, drill.draft.clone()) {
        let result = edit::replan(open, draft);
        drill.error = result.err();
    }
    if let Some(t) = jump {
        drill.clock_s = t;
        drill.playing = false;
    }
    if close {
        drill.close();
        *saved = None;
    }
}

fn figures_ui(ui: &mut egui::Ui, f: &Figures, levels: &[String], unit: &str, people_per_vehicle: Option<f64>) {
    for ((name, buildings), people) in levels.iter().zip(&f.buildings_by_level).zip(&f.people_by_level) {
        ui.label(format!("{name}: {buildings} buildings, {people:.0} people"));
    }
    if let Some(flood) = &f.flood {
        ui.label(format!(
            "flooded {:.1} ha · {:.0} m³ · deepest {:.2} m",
            flood.flooded_area_m2 / 1e4,
            flood.volume_m3,
            flood.depth_max_m
        ));
    }
    ui.label(format!("sensors in the hazard: {} ({unit})", f.sensors_in_hazard));
    if let (Some(e), Some(ppv)) = (&f.evacuation, people_per_vehicle) {
        let share = if e.demand_veh > 0.0 { (e.arrived_veh / e.demand_veh) as f32 } else { 1.0 };
        ui.add(egui::ProgressBar::new(share).text(format!(
            "evacuated {:.0} of {:.0} people",
            e.arrived_veh * ppv,
            e.demand_veh * ppv
        )));
        ui.label(format!(
            "waiting {:.0} · on the roads {:.0} · congested links {}",
            e.waiting_veh * ppv,
            e.moving_veh * ppv,
            e.congested_links
        ));
        if e.stranded_veh > 0.0 {
            ui.label(format!("no open route: {:.0} people", e.stranded_veh * ppv));
        }
        if let Some(c) = e.clearance_s {
            ui.label(format!("cleared at {}", clock_text(c)));
        }
    }
}
