//! Drill mode for the live sensors: the water-level sensors in a flood's square read its depth, the gas-network
//! sensors in a leak's square alarm with its zones. While the drill is open the live stream's readings for them
//! wait, so the markers, their labels and the drill's numbers tell the same story; closing the drill restores the
//! live values.

use std::collections::HashMap;

use bevy::prelude::*;

use super::Drill;
use crate::drill::world::SensorSite;
use crate::geo::LocalFrame;
use crate::protocol::drill::{Drill as DrillSpec, Hazard};
use crate::protocol::live::Reading;
use crate::protocol::sensors::{AlarmLevel, SensorKind};
use crate::viewer::live::Live;
use crate::viewer::markers::SensorMarkers;

/// The sensor layer a hazard drives: water levels for a flood, the gas network for a leak.
fn driven_kind(spec: &DrillSpec) -> Option<SensorKind> {
    match spec.hazard {
        Hazard::Flood { .. } => Some(SensorKind::WaterLevel),
        Hazard::GasLeak { .. } => Some(SensorKind::GasPressure),
        Hazard::Area { .. } => None,
    }
}

/// The live sites the drill drives: those of its kind in its square, in the drill's frame.
pub fn driven_sites(markers: &SensorMarkers, spec: &DrillSpec, frame: &LocalFrame) -> Vec<SensorSite> {
    let Some(kind) = driven_kind(spec) else { return Vec::new() };
    let centre = frame.to_local(spec.center_deg[0], spec.center_deg[1], 0.0);
    let half = spec.half_size_m;
    let sites = markers.chunks.iter().filter(|c| c.key.kind == kind).flat_map(|c| c.sites_ecef());
    sites
        .map(|(sensor, ecef)| (sensor, frame.enu_from_ecef.transform_point3(ecef)))
        .filter(|(_, p)| (p.x - centre.x).abs() <= half && (p.y - centre.y).abs() <= half)
        .map(|(sensor, p)| SensorSite { id: sensor.to_string(), at_m: [p.x, p.y] })
        .collect()
}

/// What a driven sensor shows for a drill reading at hazard `level` (0 the most severe): a water level reads the
/// depth; a gas-network sensor keeps its pressure and takes the alarm.
fn driven_reading(
    kind: SensorKind,
    sensor: u32,
    reading: f64,
    level: usize,
    live: Option<(f32, AlarmLevel)>,
) -> Reading {
    let alarm = if level == 0 { AlarmLevel::Alarm } else { AlarmLevel::Warning };
    let value = match kind {
        SensorKind::WaterLevel => reading as f32,
        _ => live.map_or(f32::NAN, |(v, _)| v),
    };
    Reading(sensor, value, alarm)
}

/// Pushes the drill's readings to the markers whenever the drill's time changes, and the live ones back when it
/// closes.
pub fn drive_sensors(
    drill: Res<Drill>,
    markers: Option<ResMut<SensorMarkers>>,
    live: Option<Res<Live>>,
    mut shown: Local<Option<(String, f64)>>,
) {
    let Some(mut markers) = markers else { return };
    let now = drill.open.as_ref().map(|o| (o.scenario.id.clone(), o.session.time_s()));
    if *shown == now {
        return;
    }
    *shown = now;
    let live_of = |sensor: u32| live.as_ref().and_then(|l| l.readings.get(&sensor).copied());
    let mut readings = Vec::new();
    let mut driven = std::collections::HashSet::new();
    if let Some(open) = &drill.open
        && let Some(kind) = driven_kind(open.session.spec())
    {
        let hazard: HashMap<&str, (f64, Option<usize>)> =
            open.session.sensor_readings().into_iter().map(|(id, r, l)| (id, (r, l))).collect();
        for site in &open.session.world().sensors {
            let Ok(sensor) = site.id.parse::<u32>() else { continue };
            driven.insert(sensor);
            match hazard.get(site.id.as_str()) {
                Some(&(r, Some(level))) => readings.push(driven_reading(kind, sensor, r, level, live_of(sensor))),
                _ => readings.extend(live_of(sensor).map(|(v, l)| Reading(sensor, v, l))),
            }
        }
    }
    // Sensors no longer driven get their live readings back.
    for &sensor in markers.drilled.difference(&driven) {
        readings.extend(live_of(sensor).map(|(v, l)| Reading(sensor, v, l)));
    }
    markers.drilled = driven;
    markers.paced.push_readings(readings);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driven_sensors_read_the_hazard_in_their_own_terms() {
        let water = driven_reading(SensorKind::WaterLevel, 7, 0.8, 0, Some((0.2, AlarmLevel::Normal)));
        assert_eq!(water, Reading(7, 0.8, AlarmLevel::Alarm));
        let gas = driven_reading(SensorKind::GasPressure, 9, 4000.0, 1, Some((395.0, AlarmLevel::Normal)));
        assert_eq!(gas, Reading(9, 395.0, AlarmLevel::Warning), "a pressure stays a pressure");
    }
}
