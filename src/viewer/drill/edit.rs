//! Changing an open drill: its source placed by a click on the map, its parameters (leak rate, wind, inflows,
//! rain, the evacuation order) edited in the panel; either reruns the drill's models from the start.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;
use bevy_egui::{EguiContexts, egui};
use glam::DVec3;

use super::{Drill, OpenDrill};
use crate::drill::raster::height_or_flat;
use crate::drill::session::DrillSession;
use crate::protocol::drill::{Drill as DrillSpec, Hazard, Stability};
use crate::viewer::origin::FloatingOrigin;
use crate::viewer::picking::click;
use crate::viewer::views::view_under;

/// Reruns the open drill with `spec` (same world, same frame); the clock stays where it is.
pub fn replan(open: &mut OpenDrill, spec: DrillSpec) -> Result<(), String> {
    let world = open.session.world().clone();
    let session =
        DrillSession::new(spec.clone(), &open.scenario.kind, world, &open.frame).map_err(|e| e.to_string())?;
    open.session = session;
    open.scenario.drill = Some(spec);
    Ok(())
}

/// Where a ray (local east-north-up metres) meets the ground: the plane at the ground's height, refined once
/// with the height found under the first hit.
fn ground_hit(o: DVec3, d: DVec3, ground_m: impl Fn([f64; 2]) -> f64) -> Option<[f64; 2]> {
    let at_height = |z: f64| {
        let t = (z - o.z) / d.z;
        (d.z.abs() > 1e-9 && t > 0.0).then_some([o.x + d.x * t, o.y + d.y * t])
    };
    let first = at_height(0.0)?;
    at_height(ground_m(first))
}

/// While placing, a click on the map moves the hazard's source there and reruns the drill.
pub fn place_source(
    (buttons, mut press): (Res<ButtonInput<MouseButton>>, Local<Option<Vec2>>),
    windows: Query<&Window, With<PrimaryWindow>>,
    cameras: Query<(&Camera, &GlobalTransform), With<Camera3d>>,
    origin: Res<FloatingOrigin>,
    mut egui: EguiContexts,
    mut drill: ResMut<Drill>,
) {
    if !drill.placing {
        return;
    }
    let Some(cursor) = click(&buttons, &mut press, &windows, &mut egui) else { return };
    let Some((camera, cam_t, at)) = view_under(cameras.iter(), cursor) else { return };
    let Ok(ray) = camera.viewport_to_world(cam_t, at) else { return };
    let drill = drill.as_mut();
    let Some(open) = &mut drill.open else { return };
    let enu_from_world = open.frame.enu_from_ecef * origin.world_from_ecef.inverse();
    let o = enu_from_world.transform_point3(ray.origin.as_dvec3());
    let d = enu_from_world.transform_vector3(ray.direction.as_dvec3());
    let ground = open.session.world().ground.clone();
    let Some([x, y]) = ground_hit(o, d, |p| height_or_flat(ground.as_ref(), p)) else { return };
    let c = open.frame.to_geodetic(x, y);
    let mut spec = open.session.spec().clone();
    spec.move_source([c.lon_rad.to_degrees(), c.lat_rad.to_degrees()]);
    drill.placing = false;
    info!("drill source placed at ({x:.0}, {y:.0}) m");
    let result = replan(open, spec);
    drill.draft = drill.open.as_ref().map(|o| o.session.spec().clone());
    drill.error = result.err();
}

/// The drill's parameters as the panel edits them: the source, the hazard's numbers, the evacuation order. Returns
/// whether the user asked to apply the draft.
pub fn parameters_ui(ui: &mut egui::Ui, draft: &mut DrillSpec, placing: &mut bool) -> bool {
    ui.horizontal(|ui| {
        let text = if *placing { "Click on the map…" } else { "📍 Place the source" };
        if ui.selectable_label(*placing, text).clicked() {
            *placing = !*placing;
        }
        if let Some([lon, lat]) = draft.source_deg() {
            ui.label(egui::RichText::new(format!("{lon:.5}, {lat:.5}")).small());
        }
    });
    match &mut draft.hazard {
        Hazard::GasLeak { rate_kg_s, wind_speed_m_s, wind_from_deg, stability, .. } => {
            ui.add(egui::Slider::new(rate_kg_s, 0.1..=200.0).logarithmic(true).text("leak, kg/s"));
            ui.add(egui::Slider::new(wind_speed_m_s, 1.0..=20.0).text("wind, m/s"));
            ui.add(egui::Slider::new(wind_from_deg, 0.0..=359.0).text("wind from, °"));
            ui.horizontal(|ui| {
                ui.label("stability");
                for s in [Stability::A, Stability::B, Stability::C, Stability::D, Stability::E, Stability::F] {
                    if ui.selectable_label(*stability == s, format!("{s:?}")).clicked() {
                        *stability = s;
                    }
                }
            });
        }
        Hazard::Flood { inflows, rain_mm_h, .. } => {
            for inflow in inflows.iter_mut() {
                scaled_series_ui(ui, &mut inflow.discharge_m3_s, &format!("{} peak, m³/s", inflow.kind), 5000.0);
            }
            scaled_series_ui(ui, rain_mm_h, "rain peak, mm/h", 200.0);
        }
        Hazard::Area { .. } => {}
    }
    if let Some(plan) = &mut draft.evacuation {
        let mut minutes = plan.order_s / 60.0;
        ui.add(egui::Slider::new(&mut minutes, 0.0..=draft.duration_s / 60.0).text("evacuation order, min"));
        plan.order_s = minutes * 60.0;
        ui.add(egui::Slider::new(&mut plan.people_per_vehicle, 1.0..=5.0).text("people per vehicle"));
    }
    ui.button("Apply and rerun").clicked()
}

/// A slider on a series' peak that scales the whole series.
fn scaled_series_ui(ui: &mut egui::Ui, series: &mut [[f64; 2]], text: &str, most: f64) {
    let peak = series.iter().map(|p| p[1]).fold(0.0, f64::max);
    if peak <= 0.0 {
        return;
    }
    let mut wanted = peak;
    ui.add(egui::Slider::new(&mut wanted, 0.0..=most.max(peak)).text(text));
    if wanted != peak {
        series.iter_mut().for_each(|p| p[1] *= wanted / peak);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ray_meets_sloping_ground_near_where_it_looks() {
        // From 100 m up, looking down at 45° eastwards, over ground rising 10 m per 100 m east.
        let (o, d) = (DVec3::new(0.0, 0.0, 100.0), DVec3::new(1.0, 0.0, -1.0).normalize());
        let hit = ground_hit(o, d, |p| 0.1 * p[0]).unwrap();
        assert!((hit[0] - 90.0).abs() < 1.5 && hit[1].abs() < 1e-9, "{hit:?}");
        assert_eq!(ground_hit(o, DVec3::new(1.0, 0.0, 0.5), |_| 0.0), None, "looking up: no ground");
    }
}
