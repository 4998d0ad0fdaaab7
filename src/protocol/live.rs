//! The live sensor stream over WebSocket (`/live`): JSON text frames, one message each.
//!
//! 1. The client sends [`ClientMessage::Subscribe`]: layers (empty = every layer its role may
//!    see), and an area: a WGS84 bbox, or slippy-map tiles `z/x/y`. It may resubscribe at any time.
//!    After a reconnect it sends `resume_after_alarm` with the last alarm `seq` it saw.
//! 2. The server answers [`ServerMessage::Subscribed`] with the sensors it matched and its alarm
//!    cursor (`resume_after_alarm`, or its newest alarm), then [`ServerMessage::Sites`]: where each
//!    matched sensor is, for those not yet sent on this connection (at most [`MAX_SITES_PER_MESSAGE`]
//!    a message), then every alarm of the subscription after the cursor, then a
//!    [`ServerMessage::Values`] snapshot.
//! 3. Then at most once a second: [`ServerMessage::Values`] with only the values that changed since
//!    the last message to this client (so at most 1 Hz per sensor), and [`ServerMessage::Alarm`]s
//!    in `seq` order. A slow client never builds a queue: each message carries the latest values.
//! 4. [`ServerMessage::Heartbeat`] on connecting and every 10 s carries `last_alarm_seq`: on a
//!    subscribed connection, the connection's cursor (every alarm of the subscription up to it has
//!    been sent before the heartbeat); before any subscription, the server's newest alarm.
//!    Clients may send [`ClientMessage::Ping`].
//! 5. A subscription with `"encoding": "binary"` gets its `values` as binary frames
//!    ([`crate::live_binary`], a third of the bytes, nothing to parse); all else stays JSON.
//!
//! Exactly once, in order: a client keeps as its cursor the highest of the `seq`s it received in
//! alarms, `Subscribed` and heartbeats, and resumes after it; alarms at or below it are replays.
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
        /// How `values` come: JSON text (the default) or binary frames (`live_binary`).
        #[serde(default)]
        encoding: Encoding,
    },
    Ping {
        #[serde(default)]
        id: u64,
    },
}

/// How a subscription's `values` are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Json,
    /// One binary WebSocket frame a message ([`crate::live_binary`]).
    Binary,
}

/// Where a sensor is: `[sensor, kind, lon_deg, lat_deg, height_m]` (WGS84, height above the
/// ellipsoid).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Site(pub u32, pub SensorKind, pub f64, pub f64, pub f32);

/// The most sites one [`ServerMessage::Sites`] carries (about 0.5 MB of JSON).
pub const MAX_SITES_PER_MESSAGE: usize = 10_000;

/// One sensor's latest reading: `[sensor, value, level]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading(pub u32, pub f32, pub AlarmLevel);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Subscribed {
        sensors: usize,
        layers: Vec<String>,
        /// Alarms after this `seq` follow.
        #[serde(default)]
        alarm_cursor: u64,
    },
    /// Where the subscription's sensors are (each sensor once per connection).
    Sites {
        sites: Vec<Site>,
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

/// The most layers one subscription names.
pub const MAX_LAYERS: usize = 16;
/// The most areas (the bbox and the tiles together) one subscription names.
pub const MAX_AREAS: usize = 64;

/// A subscription's areas as WGS84 bboxes, checked before any work is done on them: at most
/// [`MAX_LAYERS`] layers and [`MAX_AREAS`] areas, every tile `z/x/y` valid, every bbox finite with
/// west ≤ east and south ≤ north.
pub fn subscription_areas(
    layers: &[String],
    bbox: Option<[f64; 4]>,
    tiles: &[String],
) -> Result<Vec<[f64; 4]>, String> {
    if layers.len() > MAX_LAYERS || bbox.is_some() as usize + tiles.len() > MAX_AREAS {
        return Err(format!("a subscription names at most {MAX_LAYERS} layers and {MAX_AREAS} areas"));
    }
    let mut boxes: Vec<[f64; 4]> = bbox.into_iter().collect();
    for t in tiles {
        boxes.push(tile_bbox(t).ok_or_else(|| format!("bad tile {t:?}: expected z/x/y"))?);
    }
    for b in &boxes {
        if b.iter().any(|v| !v.is_finite()) || b[0] > b[2] || b[1] > b[3] {
            return Err(format!("bad bbox {b:?}: expected [west, south, east, north]"));
        }
    }
    Ok(boxes)
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
                resume_after_alarm: None,
                encoding: Encoding::Json,
            }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe","bogus":1}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"nope"}"#).is_err());
        let v = ServerMessage::Values { time_ms: 5, readings: vec![Reading(3, 1.5, AlarmLevel::Alarm)] };
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"type":"values","time_ms":5,"readings":[[3,1.5,"alarm"]]}"#);
    }

    #[test]
    fn subscriptions_are_bounded_and_checked() {
        let tiles = |n: usize| vec!["3/1/2".to_owned(); n];
        assert_eq!(subscription_areas(&[], Some([1.0, 2.0, 3.0, 4.0]), &tiles(2)).unwrap().len(), 3);
        assert_eq!(subscription_areas(&[], None, &tiles(MAX_AREAS)).unwrap().len(), MAX_AREAS);
        assert!(subscription_areas(&[], Some([1.0, 2.0, 3.0, 4.0]), &tiles(MAX_AREAS)).is_err());
        assert!(subscription_areas(&vec!["x".to_owned(); MAX_LAYERS + 1], None, &[]).is_err());
        assert!(subscription_areas(&[], Some([3.0, 2.0, 1.0, 4.0]), &[]).is_err());
        assert!(subscription_areas(&[], Some([f64::NAN, 2.0, 3.0, 4.0]), &[]).is_err());
        assert!(subscription_areas(&[], None, &["9/9".to_owned()]).is_err());
        assert!(subscription_areas(&[], None, &[]).unwrap().is_empty());
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
