//! The compact encoding of [`ServerMessage::Values`](crate::live::ServerMessage::Values), for
//! clients that ask for it at subscribe (`"encoding": "binary"`): one binary WebSocket frame,
//! little-endian — `b"CTV1"`, `time_ms: i64`, `count: u32`, then per reading `sensor: u32`,
//! `value: f32`, `level: u8` (0 normal, 1 warning, 2 alarm). 9 bytes a reading against about 27
//! in JSON, and no text to parse. Every other message stays JSON text.

use crate::live::Reading;
use crate::sensors::AlarmLevel;

const MAGIC: &[u8; 4] = b"CTV1";
const HEADER: usize = 16;
const READING: usize = 9;

/// Why a binary frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("binary values: {0}")]
pub struct BinaryError(pub String);

/// `values` as one binary frame.
pub fn values_to_binary(time_ms: i64, readings: &[Reading]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + READING * readings.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&time_ms.to_le_bytes());
    out.extend_from_slice(&(readings.len() as u32).to_le_bytes());
    for Reading(sensor, value, level) in readings {
        out.extend_from_slice(&sensor.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
        out.push(*level as u8);
    }
    out
}

/// A binary frame back to `(time_ms, readings)`; a frame of the wrong shape is refused whole.
pub fn values_from_binary(bytes: &[u8]) -> Result<(i64, Vec<Reading>), BinaryError> {
    let err = |m: &str| Err(BinaryError(m.to_owned()));
    if bytes.len() < HEADER || &bytes[..4] != MAGIC {
        return err("not a CTV1 frame");
    }
    let time_ms = i64::from_le_bytes(bytes[4..12].try_into().expect("8 bytes"));
    let count = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let body = &bytes[HEADER..];
    if body.len() != count.saturating_mul(READING) {
        return err(&format!("{count} readings announced, {} bytes follow", body.len()));
    }
    body.chunks_exact(READING)
        .map(|r| {
            let level = match r[8] {
                0 => AlarmLevel::Normal,
                1 => AlarmLevel::Warning,
                2 => AlarmLevel::Alarm,
                l => return Err(BinaryError(format!("level {l}"))),
            };
            let sensor = u32::from_le_bytes(r[0..4].try_into().expect("4 bytes"));
            Ok(Reading(sensor, f32::from_le_bytes(r[4..8].try_into().expect("4 bytes")), level))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|readings| (time_ms, readings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_in_a_third_of_the_json() {
        let readings: Vec<Reading> = (0..1000)
            .map(|i| {
                Reading(
                    i * 7,
                    i as f32 * 0.25 - 3.0,
                    [AlarmLevel::Normal, AlarmLevel::Warning, AlarmLevel::Alarm][i as usize % 3],
                )
            })
            .collect();
        let bytes = values_to_binary(1_763_700_000_123, &readings);
        assert_eq!(values_from_binary(&bytes), Ok((1_763_700_000_123, readings.clone())));
        let json = serde_json::to_string(&crate::live::ServerMessage::Values { time_ms: 1_763_700_000_123, readings })
            .unwrap();
        assert!(bytes.len() * 2 < json.len(), "{} bytes against {} of JSON", bytes.len(), json.len());
    }

    #[test]
    fn frames_of_the_wrong_shape_are_refused() {
        let good = values_to_binary(5, &[Reading(1, 2.0, AlarmLevel::Alarm)]);
        assert!(values_from_binary(&good[..good.len() - 1]).is_err(), "short");
        assert!(values_from_binary(&[good.as_slice(), &[0]].concat()).is_err(), "long");
        assert!(values_from_binary(b"CTV0\0\0\0\0\0\0\0\0\0\0\0\0").is_err(), "magic");
        let mut bad_level = good.clone();
        *bad_level.last_mut().unwrap() = 3;
        assert!(values_from_binary(&bad_level).is_err(), "level");
        let mut huge = good[..16].to_vec();
        huge[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(values_from_binary(&huge).is_err(), "a count its bytes do not hold");
        assert_eq!(values_from_binary(&values_to_binary(0, &[])), Ok((0, vec![])));
    }
}
