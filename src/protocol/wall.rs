//! The video wall's frame lock: what the master (the operator's console) and the followers (one per
//! screen) say to each other over TCP, one JSON object a line. Per frame the master sends the whole
//! state of frame N (so a follower that joins late is at the current frame at once), each follower
//! answers "frame N ready" when N is drawn, and once all have, the master says "present N": the
//! software swap barrier.

use serde::{Deserialize, Serialize};

/// The longest line either side accepts; a longer one ends the connection.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// The most layers a state carries.
pub const MAX_LAYERS: usize = 256;

/// A message on the wall's link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WallMessage {
    /// Follower → master, once: which screen it drives.
    Join { screen: [u32; 2] },
    /// Master → followers: the state of frame `frame`.
    State(WallState),
    /// Follower → master: frame `frame` is drawn; `settled` when its tiles have come and its pipelines are built.
    Ready { frame: u64, settled: bool },
    /// Master → followers: present frame `frame` now.
    Present { frame: u64 },
}

/// Everything a follower's picture depends on that the operator controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallState {
    pub frame: u64,
    pub camera: WallCamera,
    /// The layers shown (their catalog IDs); the others are hidden.
    pub layers_shown: Vec<String>,
    pub night: bool,
    pub drill: Option<WallDrill>,
    /// The planning comparison open on the console: the wall shows its variant A in the sun.
    #[serde(default)]
    pub planning: Option<WallPlanning>,
    /// Followers save their screenshot of this frame.
    #[serde(default)]
    pub capture: bool,
}

/// The camera: an ECEF position (metres) with heading and pitch in the local east-north-up frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WallCamera {
    pub position_ecef: [f64; 3],
    pub heading_rad: f64,
    pub pitch_rad: f64,
}

/// The open drill and its clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallDrill {
    pub id: String,
    pub clock_s: f64,
}

/// The comparison the wall shows: a scenario, the variant shown (`none`: the site as built), and the sun.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WallPlanning {
    pub scenario: String,
    pub variant: String,
    /// The sun's local date and time, `YYYY-MM-DDTHH:MM`.
    pub sun: String,
    pub shadows: bool,
}

/// Why a line was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WallError {
    #[error("a wall message longer than {MAX_LINE_BYTES} bytes")]
    TooLong,
    #[error("not a wall message: {0}")]
    Malformed(String),
    #[error("a wall state with {0} layers (at most {MAX_LAYERS})")]
    TooManyLayers(usize),
}

impl WallMessage {
    /// One line of the link, newline included.
    pub fn to_line(&self) -> String {
        // Serialising these types cannot fail (no maps with non-string keys, no foreign types).
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }

    /// Reads one line (without its newline), checking what a hostile peer could abuse.
    pub fn from_line(line: &str) -> Result<Self, WallError> {
        if line.len() > MAX_LINE_BYTES {
            return Err(WallError::TooLong);
        }
        let message: Self = serde_json::from_str(line).map_err(|e| WallError::Malformed(e.to_string()))?;
        // (JSON has no NaN or infinity: every number read is finite.)
        if let Self::State(s) = &message
            && s.layers_shown.len() > MAX_LAYERS
        {
            return Err(WallError::TooManyLayers(s.layers_shown.len()));
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> WallState {
        WallState {
            frame: 42,
            camera: WallCamera {
                position_ecef: [2_884_000.123_456_789, 1_340_000.5, 5_509_000.25],
                heading_rad: 0.1,
                pitch_rad: -0.7,
            },
            layers_shown: vec!["city".into()],
            night: false,
            drill: Some(WallDrill { id: "flood-drill".into(), clock_s: 1800.0 }),
            planning: Some(WallPlanning {
                scenario: "demo-site".into(),
                variant: "tower".into(),
                sun: "2026-03-20T15:00".into(),
                shadows: true,
            }),
            capture: false,
        }
    }

    #[test]
    fn messages_round_trip_exactly() {
        for m in [
            WallMessage::Join { screen: [1, 0] },
            WallMessage::State(state()),
            WallMessage::Ready { frame: 7, settled: true },
            WallMessage::Present { frame: 7 },
        ] {
            let line = m.to_line();
            assert!(line.ends_with('\n') && !line[..line.len() - 1].contains('\n'));
            // f64 survive bit for bit: every screen draws from the very same camera.
            assert_eq!(WallMessage::from_line(line.trim_end()), Ok(m));
        }
    }

    #[test]
    fn hostile_lines_are_refused() {
        assert_eq!(WallMessage::from_line(&"x".repeat(MAX_LINE_BYTES + 1)), Err(WallError::TooLong));
        assert!(matches!(WallMessage::from_line("{\"type\":\"present\"}"), Err(WallError::Malformed(_))));
        assert!(matches!(WallMessage::from_line("not json"), Err(WallError::Malformed(_))));
        let mut s = state();
        s.layers_shown = vec!["l".into(); MAX_LAYERS + 1];
        let line = WallMessage::State(s).to_line();
        assert_eq!(WallMessage::from_line(line.trim_end()), Err(WallError::TooManyLayers(MAX_LAYERS + 1)));
        // A camera at infinity comes as a number out of range, which the parser refuses.
        let line = WallMessage::State(state()).to_line().replace("-0.7", "-1e999");
        assert!(matches!(WallMessage::from_line(line.trim_end()), Err(WallError::Malformed(_))));
    }
}
