//! The live sensor stream over WebSocket (`/live`): JSON text frames, one message each.
//!
//! 1. The client sends [`ClientMessage::Subscribe`]: layers (empty = every layer its role may
//!    see), and an area: a WGS84 bbox, or slippy-map tiles `z/x/y`. It may resubscribe at any time.
//!    After a reconnect it sends `resume_after_alarm` with the last alarm `seq` it saw.
//! 2. The server answers [`ServerMessage::Subscribed`] with the sensors it matched, then every
//!    alarm after `resume_after_alarm`, then a [`ServerMessage::Values`] snapshot.
//! 3. Then at most once a second: [`ServerMessage::Values`] with only the values that changed since
//!    the last message to this client (so at most 1 Hz per sensor), and [`ServerMessage::Alarm`]s
//!    in `seq` order. A slow client never builds a queue: each message carries the latest values.
//! 4. [`ServerMessage::Heartbeat`] every 10 s carries `last_alarm_seq`; a client that sees it
//!    ahead of what it received knows to resume. Clients may send [`ClientMessage::Ping`].
//!
//! Sensors are referred to by index (`sensor`), the same as SensorThings `Thing` id − 1.

use serde::{Deserialize, Serialize};

use super::sensors::{AlarmLevel, SensorKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    Subscribe {
        #[serde(default)]
        layers: Vec<String>,
        /// `[west, south, east, north]` in degrees.
        #[serde(default)]
        bbox: Option<[f64; 4]>,
        /// Slippy-map tiles `"z/x/y"` (Web Mercator), as an alternative to `bbox`.
        #[serde(default)]
        tiles: Vec<String>,
        #[serde(default)]
        resume_after_alarm: Option<u64>,
    },
    Ping {
        #[serde(default)]
        id: u64,
    },
}

/// One sensor's latest reading: `[sensor, value, level]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading(pub u32, pub f32, pub AlarmLevel);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Subscribed {
        sensors: usize,
        layers: Vec<String>,
    },
    /// Changed readings; `time_ms` is when the newest of them was measured (Unix ms).
    Values {
        time_ms: i64,
        readings: Vec<Reading>,
    },
    Alarm(AlarmEvent),
    Heartbeat {
        time_ms: i64,
        last_alarm_seq: u64,
    },
    Pong {
        id: u64,
        time_ms: i64,
    },
    Error {
        message: String,
    },
}

/// A sensor entering or leaving an alarm or warning level. `seq` increases by one per event
/// across the whole server and survives restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmEvent {
    pub seq: u64,
    pub sensor: u32,
    pub kind: SensorKind,
    pub level: AlarmLevel,
    pub previous: AlarmLevel,
    pub value: f32,
    pub time_ms: i64,
}

/// The WGS84 bbox `[west, south, east, north]` of a slippy-map tile `z/x/y`.
pub fn tile_bbox(tile: &str) -> Option<[f64; 4]> {
    let mut parts = tile.split('/').map(|p| p.parse::<u32>().ok());
    let (z, x, y) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() || z > 24 || x >= (1 << z) || y >= (1 << z) {
        return None;
    }
    let n = (1u64 << z) as f64;
    let lon = |x: f64| x / n * 360.0 - 180.0;
    let lat = |y: f64| (std::f64::consts::PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    Some([lon(x as f64), lat(y as f64 + 1.0), lon(x as f64 + 1.0), lat(y as f64)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_a_stable_json_shape() {
        let m: ClientMessage = serde_json::from_str(r#"{"type":"subscribe","bbox":[24.9,60.1,25.0,60.2]}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Subscribe {
                layers: vec![],
                bbox: Some([24.9, 60.1, 25.0, 60.2]),
                tiles: vec![],
                resume_after_alarm: None
            }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe","bogus":1}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"nope"}"#).is_err());
        let v = ServerMessage::Values { time_ms: 5, readings: vec![Reading(3, 1.5, AlarmLevel::Alarm)] };
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"type":"values","time_ms":5,"readings":[[3,1.5,"alarm"]]}"#);
    }

    #[test]
    fn slippy_tiles_to_bboxes() {
        let b = tile_bbox("0/0/0").unwrap();
        assert_eq!((b[0], b[2]), (-180.0, 180.0));
        assert!((b[3] - 85.0511).abs() < 1e-3);
        let h = tile_bbox("12/2331/1185").unwrap(); // Helsinki
        assert!(h[0] < 24.95 && h[2] > 24.95 && h[1] < 60.17 && h[3] > 60.17, "{h:?}");
        for bad in ["", "1/2", "1/2/3/4", "1/2/0", "a/b/c", "30/0/0"] {
            assert!(tile_bbox(bad).is_none(), "{bad}");
        }
    }
}
