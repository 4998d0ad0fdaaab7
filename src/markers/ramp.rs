//! Marker colours: a normal reading takes its kind's ramp (light to deep over the normal range,
//! from the best value to the warning threshold), a warning is amber and an alarm red. Colours
//! are sRGB, alpha 1.

use crate::protocol::sensors::{AlarmLevel, SensorKind};

pub const WARNING_SRGB: [f32; 3] = [1.0, 0.6, 0.0];
pub const ALARM_SRGB: [f32; 3] = [0.9, 0.05, 0.05];

/// The ramp's two ends per kind, each in its own hue, so layers tell apart at a glance.
fn ramp_ends(kind: SensorKind) -> ([f32; 3], [f32; 3]) {
    match kind {
        SensorKind::WaterLevel => ([0.75, 0.9, 1.0], [0.05, 0.3, 0.8]),
        SensorKind::GasPressure => ([0.9, 0.8, 1.0], [0.45, 0.15, 0.7]),
        SensorKind::Pm25 => ([0.8, 1.0, 0.8], [0.1, 0.55, 0.2]),
        SensorKind::TrafficFlow => ([0.95, 0.95, 0.95], [0.3, 0.3, 0.35]),
        SensorKind::ParkingOccupancy => ([0.8, 1.0, 1.0], [0.0, 0.5, 0.55]),
        SensorKind::Noise => ([1.0, 0.85, 0.95], [0.7, 0.1, 0.5]),
    }
}

/// The normal range: from the best value (0; for gas pressure, which is best high, 1.2 × its
/// warning threshold) to the warning threshold.
fn normal_range(kind: SensorKind) -> (f64, f64) {
    let (warn, _, above) = kind.thresholds();
    if above { (0.0, warn) } else { (warn * 1.2, warn) }
}

/// Where `value` sits in its kind's normal range, 0 (best) to 1 (at the warning threshold).
pub fn ramp_position(kind: SensorKind, value: f64) -> f32 {
    let (best, warn) = normal_range(kind);
    if !value.is_finite() {
        return 0.0;
    }
    ((value - best) / (warn - best)).clamp(0.0, 1.0) as f32
}

fn lerp(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    let s = 1.0 - t;
    [a[0] * s + b[0] * t, a[1] * s + b[1] * t, a[2] * s + b[2] * t]
}

fn opaque([r, g, b]: [f32; 3]) -> [f32; 4] {
    [r, g, b, 1.0]
}

fn level_srgb(level: AlarmLevel) -> Option<[f32; 3]> {
    match level {
        AlarmLevel::Normal => None,
        AlarmLevel::Warning => Some(WARNING_SRGB),
        AlarmLevel::Alarm => Some(ALARM_SRGB),
    }
}

/// The colour of a marker for a reading.
pub fn marker_color(kind: SensorKind, value: f64, level: AlarmLevel) -> [f32; 4] {
    let (lo, hi) = ramp_ends(kind);
    opaque(level_srgb(level).unwrap_or_else(|| lerp(lo, hi, ramp_position(kind, value))))
}

/// The colour of a cluster: its worst level's, or the deep end of the kind's ramp when normal.
pub fn cluster_color(kind: SensorKind, worst: AlarmLevel) -> [f32; 4] {
    opaque(level_srgb(worst).unwrap_or(ramp_ends(kind).1))
}

/// One line of a layer's legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub color_srgb: [f32; 4],
}

/// A layer's legend: its ramp at the best value and halfway, then the two levels with their
/// thresholds, in the kind's unit.
pub fn legend(kind: SensorKind) -> Vec<LegendEntry> {
    let (best, warn) = normal_range(kind);
    let (_, alarm, above) = kind.thresholds();
    let unit = kind.unit().1;
    let cmp = if above { "≥" } else { "≤" };
    let normal =
        |v: f64| LegendEntry { label: format!("{v:.0} {unit}"), color_srgb: marker_color(kind, v, AlarmLevel::Normal) };
    vec![
        normal(best),
        normal((best + warn) / 2.0),
        LegendEntry { label: format!("warning {cmp} {warn} {unit}"), color_srgb: opaque(WARNING_SRGB) },
        LegendEntry { label: format!("alarm {cmp} {alarm} {unit} (pulsing)"), color_srgb: opaque(ALARM_SRGB) },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ramp_runs_from_the_best_value_to_the_warning_threshold() {
        assert_eq!(ramp_position(SensorKind::Pm25, 0.0), 0.0);
        assert_eq!(ramp_position(SensorKind::Pm25, 25.0), 0.5);
        assert_eq!(ramp_position(SensorKind::Pm25, 500.0), 1.0, "clamped");
        assert_eq!(ramp_position(SensorKind::Pm25, f64::NAN), 0.0);
        // Gas pressure is best high: 432 kPa (1.2 × the 360 kPa warning) down to 360.
        assert_eq!(ramp_position(SensorKind::GasPressure, 432.0), 0.0);
        assert!((ramp_position(SensorKind::GasPressure, 396.0) - 0.5).abs() < 1e-6);
        assert_eq!(ramp_position(SensorKind::GasPressure, 300.0), 1.0);
    }

    #[test]
    fn levels_override_the_ramp_and_each_kind_has_its_own_hue() {
        let (lo, hi) = ramp_ends(SensorKind::Pm25);
        assert_eq!(marker_color(SensorKind::Pm25, 0.0, AlarmLevel::Normal), [lo[0], lo[1], lo[2], 1.0]);
        assert_eq!(marker_color(SensorKind::Pm25, 50.0, AlarmLevel::Normal), [hi[0], hi[1], hi[2], 1.0]);
        assert_eq!(marker_color(SensorKind::Pm25, 10.0, AlarmLevel::Alarm)[..3], ALARM_SRGB);
        assert_eq!(marker_color(SensorKind::Noise, 80.0, AlarmLevel::Warning)[..3], WARNING_SRGB);
        let deep: Vec<_> = SensorKind::ALL.iter().map(|k| ramp_ends(*k).1).collect();
        for (i, a) in deep.iter().enumerate() {
            assert!(deep[i + 1..].iter().all(|b| b != a), "distinct hues");
        }
    }

    #[test]
    fn legends_name_the_thresholds_in_the_unit() {
        let l = legend(SensorKind::WaterLevel);
        assert_eq!(l.len(), 4);
        assert_eq!(l[2].label, "warning ≥ 2 m");
        assert_eq!(l[3].label, "alarm ≥ 2.5 m (pulsing)");
        assert_eq!(l[2].color_srgb, [1.0, 0.6, 0.0, 1.0]);
        assert_eq!(legend(SensorKind::GasPressure)[3].label, "alarm ≤ 300 kPa (pulsing)");
    }
}
