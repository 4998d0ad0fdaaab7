//! Sensor kinds: what they measure, in which unit, and when they raise an alarm.

use serde::{Deserialize, Serialize};

/// What a sensor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    WaterLevel,
    GasPressure,
    Pm25,
    TrafficFlow,
    ParkingOccupancy,
    Noise,
}

/// Alarm level of a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlarmLevel {
    #[default]
    Normal,
    Warning,
    Alarm,
}

impl SensorKind {
    pub const ALL: [SensorKind; 6] = [
        SensorKind::WaterLevel,
        SensorKind::GasPressure,
        SensorKind::Pm25,
        SensorKind::TrafficFlow,
        SensorKind::ParkingOccupancy,
        SensorKind::Noise,
    ];

    /// The catalog layer id, e.g. `sensors/pm25`.
    pub fn layer(self) -> &'static str {
        match self {
            SensorKind::WaterLevel => "sensors/water_level",
            SensorKind::GasPressure => "sensors/gas_pressure",
            SensorKind::Pm25 => "sensors/pm25",
            SensorKind::TrafficFlow => "sensors/traffic_flow",
            SensorKind::ParkingOccupancy => "sensors/parking_occupancy",
            SensorKind::Noise => "sensors/noise",
        }
    }

    pub fn from_layer(layer: &str) -> Option<SensorKind> {
        SensorKind::ALL.into_iter().find(|k| k.layer() == layer)
    }

    pub fn name(self) -> &'static str {
        match self {
            SensorKind::WaterLevel => "Water level",
            SensorKind::GasPressure => "Gas pipeline pressure",
            SensorKind::Pm25 => "PM2.5",
            SensorKind::TrafficFlow => "Traffic flow",
            SensorKind::ParkingOccupancy => "Parking occupancy",
            SensorKind::Noise => "Noise",
        }
    }

    /// Unit as (name, symbol, UCUM definition).
    pub fn unit(self) -> (&'static str, &'static str, &'static str) {
        match self {
            SensorKind::WaterLevel => ("metre", "m", "http://unitsofmeasure.org/ucum.html#para-30"),
            SensorKind::GasPressure => ("kilopascal", "kPa", "http://unitsofmeasure.org/ucum.html#para-30"),
            SensorKind::Pm25 => ("microgram per cubic metre", "µg/m³", "http://unitsofmeasure.org/ucum.html#para-30"),
            SensorKind::TrafficFlow => ("vehicles per hour", "veh/h", "http://unitsofmeasure.org/ucum.html#para-30"),
            SensorKind::ParkingOccupancy => ("percent", "%", "http://unitsofmeasure.org/ucum.html#para-30"),
            SensorKind::Noise => ("decibel", "dB(A)", "http://unitsofmeasure.org/ucum.html#para-30"),
        }
    }

    /// Gas pipelines are critical infrastructure: not shown to the public.
    pub fn restricted(self) -> bool {
        matches!(self, SensorKind::GasPressure)
    }

    /// The (warning, alarm) thresholds and whether values above them (true) or below them
    /// (gas pressure: a leak drops the pressure) are beyond.
    pub fn thresholds(self) -> (f64, f64, bool) {
        match self {
            SensorKind::WaterLevel => (2.0, 2.5, true),
            SensorKind::GasPressure => (360.0, 300.0, false),
            SensorKind::Pm25 => (50.0, 75.0, true),
            SensorKind::TrafficFlow => (1500.0, 1800.0, true),
            SensorKind::ParkingOccupancy => (95.0, 99.0, true),
            SensorKind::Noise => (75.0, 85.0, true),
        }
    }

    /// The alarm level of a value against its [`thresholds`](Self::thresholds).
    pub fn level(self, value: f64) -> AlarmLevel {
        let (warn, alarm, above) = self.thresholds();
        let beyond = |t: f64| if above { value >= t } else { value <= t };
        if beyond(alarm) {
            AlarmLevel::Alarm
        } else if beyond(warn) {
            AlarmLevel::Warning
        } else {
            AlarmLevel::Normal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_layers() {
        assert_eq!(SensorKind::Pm25.level(20.0), AlarmLevel::Normal);
        assert_eq!(SensorKind::Pm25.level(60.0), AlarmLevel::Warning);
        assert_eq!(SensorKind::Pm25.level(80.0), AlarmLevel::Alarm);
        assert_eq!(SensorKind::GasPressure.level(400.0), AlarmLevel::Normal);
        assert_eq!(SensorKind::GasPressure.level(250.0), AlarmLevel::Alarm);
        for k in SensorKind::ALL {
            assert_eq!(SensorKind::from_layer(k.layer()), Some(k));
        }
        assert_eq!(serde_json::to_string(&SensorKind::Pm25).unwrap(), "\"pm25\"");
    }
}
