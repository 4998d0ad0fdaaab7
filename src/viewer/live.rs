//! LivePlugin: the data server's sensor stream (`/live`, see `protocol::live`) on the desktop and
//! in the browser: subscribes to the area around the camera, keeps the latest reading of every
//! sensor there and the newest alarms, resumes after a drop without losing an alarm.

use std::collections::{HashMap, VecDeque};

use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::camera::GeoCamera;
use super::hud::HudSettings;
use super::markers::MarkerSettings;
use crate::geo::WGS84;
use crate::platform::{Runtime, Socket, SocketEvent};
use crate::protocol::live::{AlarmEvent, ClientMessage, Encoding, Reading, ServerMessage, Site};
use crate::protocol::live_binary::values_from_binary;
use crate::protocol::sensors::AlarmLevel;

/// Where the stream is; `None` turns the layer off.
#[derive(Resource, Debug, Clone, Default)]
pub struct LiveSettings {
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LiveStatus {
    Off,
    Connecting,
    Open,
    /// Lost or refused; the next attempt is due in `retry_in_s`.
    Retrying {
        reason: String,
        retry_in_s: f32,
    },
}

/// Alarms kept for the HUD.
const ALARMS_KEPT: usize = 50;
/// The longest wait between reconnection attempts.
const MAX_BACKOFF_S: f32 = 30.0;

/// The live layer's state: connection, readings in the subscribed area, newest alarms first.
#[derive(Resource)]
pub struct Live {
    socket: Option<Socket>,
    pub status: LiveStatus,
    backoff_s: f32,
    /// `[west, south, east, north]` last subscribed.
    area: Option<[f64; 4]>,
    /// Latest `(value, level)` per sensor index.
    pub readings: HashMap<u32, (f32, AlarmLevel)>,
    /// How many of `readings` are at each level (kept as they change, not counted per frame).
    level_counts: [usize; 3],
    /// Sensors the server matched for the subscription.
    pub subscribed: usize,
    /// Readings received so far (updates, not sensors).
    pub updates: u64,
    pub alarms: VecDeque<AlarmEvent>,
    /// Every alarm of the subscription up to this `seq` has been received (from alarms,
    /// `Subscribed` and heartbeats): a reconnect resumes after it, and older alarms are replays.
    alarm_cursor: Option<u64>,
    /// This connection's subscription is confirmed: its heartbeats now carry its own cursor (before
    /// it, they carry the server's newest alarm, which says nothing of what we received).
    confirmed: bool,
    /// The server's clock at its last values or heartbeat (Unix ms; 0 before any).
    pub server_time_ms: i64,
    /// Messages the client could not read, and the first such problem.
    pub bad_messages: u64,
    pub last_error: Option<String>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            socket: None,
            status: LiveStatus::Off,
            backoff_s: 1.0,
            area: None,
            readings: HashMap::new(),
            level_counts: [0; 3],
            subscribed: 0,
            updates: 0,
            alarms: VecDeque::new(),
            alarm_cursor: None,
            confirmed: false,
            server_time_ms: 0,
            bad_messages: 0,
            last_error: None,
        }
    }
}

/// A sensor chosen by the user (an alarm clicked in the list, a marker clicked in the scene): the
/// markers fly to it and open its panel.
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub struct SensorChosen(pub u32);

/// What a message brought for the scene (the markers layer): sensors placed, readings changed.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum SensorNews {
    Sites(Vec<Site>),
    /// Readings measured by `time_ms` (Unix ms).
    Readings {
        time_ms: i64,
        readings: Vec<Reading>,
    },
}

impl Live {
    /// Applies one server message; returns what it brought for the scene.
    pub fn apply(&mut self, msg: ServerMessage) -> Option<SensorNews> {
        match msg {
            ServerMessage::Sites { sites } => return Some(SensorNews::Sites(sites)),
            ServerMessage::Subscribed { sensors, alarm_cursor, .. } => {
                self.subscribed = sensors;
                self.readings.clear();
                self.level_counts = [0; 3];
                self.confirmed = true;
                self.advance(alarm_cursor);
            }
            ServerMessage::Values { readings, time_ms } => {
                self.server_time_ms = self.server_time_ms.max(time_ms);
                self.updates += readings.len() as u64;
                for r in &readings {
                    if let Some((_, old)) = self.readings.insert(r.0, (r.1, r.2)) {
                        self.level_counts[old as usize] -= 1;
                    }
                    self.level_counts[r.2 as usize] += 1;
                }
                return Some(SensorNews::Readings { time_ms, readings });
            }
            ServerMessage::Alarm(a) => {
                if self.alarm_cursor.is_some_and(|s| a.seq <= s) {
                    return None; // replayed after a resume: already seen
                }
                self.alarm_cursor = Some(a.seq);
                self.alarms.push_front(a);
                self.alarms.truncate(ALARMS_KEPT);
            }
            ServerMessage::Heartbeat { last_alarm_seq, time_ms } => {
                self.server_time_ms = self.server_time_ms.max(time_ms);
                if self.confirmed {
                    self.advance(last_alarm_seq);
                }
            }
            ServerMessage::Pong { .. } => {}
            ServerMessage::Error { message } => self.problem(format!("server: {message}")),
        }
        None
    }

    /// Every alarm up to `seq` has been received.
    fn advance(&mut self, seq: u64) {
        self.alarm_cursor = Some(self.alarm_cursor.map_or(seq, |c| c.max(seq)));
    }

    /// Applies a text frame; an unreadable one is counted and reported once.
    pub fn apply_text(&mut self, text: &str) -> Option<SensorNews> {
        match serde_json::from_str::<ServerMessage>(text) {
            Ok(msg) => self.apply(msg),
            Err(e) => {
                self.problem(format!("unreadable message: {e}"));
                None
            }
        }
    }

    /// Applies a binary frame (`values`, as subscribed); a bad one is counted and reported once.
    pub fn apply_binary(&mut self, bytes: &[u8]) -> Option<SensorNews> {
        match values_from_binary(bytes) {
            Ok((time_ms, readings)) => self.apply(ServerMessage::Values { time_ms, readings }),
            Err(e) => {
                self.problem(e.to_string());
                None
            }
        }
    }

    fn problem(&mut self, message: String) {
        self.bad_messages += 1;
        if self.last_error.is_none() {
            warn!("live sensors: {message}");
        }
        self.last_error = Some(message);
    }

    /// How many sensors in the area are at `level`.
    pub fn count(&self, level: AlarmLevel) -> usize {
        self.level_counts[level as usize]
    }

    /// The subscription for `area`, resuming after the newest alarm seen.
    fn subscribe(&mut self, area: [f64; 4]) -> String {
        self.area = Some(area);
        let msg = ClientMessage::Subscribe {
            layers: Vec::new(),
            bbox: Some(area),
            tiles: Vec::new(),
            resume_after_alarm: self.alarm_cursor,
            // A third of the bytes, and nothing to parse on the frame.
            encoding: Encoding::Binary,
        };
        serde_json::to_string(&msg).unwrap_or_default()
    }
}

/// The area of interest: a square around the point under the camera, wider the higher it flies.
pub fn area_around(lon_deg: f64, lat_deg: f64, altitude_m: f64) -> [f64; 4] {
    let radius_m = (altitude_m * 4.0).clamp(1_000.0, 50_000.0);
    let dlat = (radius_m / 111_320.0).min(89.0);
    let dlon = (radius_m / (111_320.0 * lat_deg.to_radians().cos().max(0.01))).min(180.0);
    [(lon_deg - dlon).max(-180.0), (lat_deg - dlat).max(-90.0), (lon_deg + dlon).min(180.0), (lat_deg + dlat).min(90.0)]
}

/// True when `next` is far enough from `current` to be worth a new subscription: its centre has
/// moved by a quarter of the width, or its width changed by half.
pub fn area_moved(current: &[f64; 4], next: &[f64; 4]) -> bool {
    let w = current[2] - current[0];
    let (cx, cy) = ((current[0] + current[2]) / 2.0, (current[1] + current[3]) / 2.0);
    let (nx, ny) = ((next[0] + next[2]) / 2.0, (next[1] + next[3]) / 2.0);
    let nw = next[2] - next[0];
    (nx - cx).abs() > w / 4.0 || (ny - cy).abs() > (current[3] - current[1]) / 4.0 || !(0.5..=2.0).contains(&(nw / w))
}

/// The area around where the camera looks (the ground it points at, if near; else below it).
pub fn camera_area(cam: &GeoCamera) -> Option<[f64; 4]> {
    let altitude_m = cam.altitude_m().max(0.0);
    let (forward, _, _) = cam.basis();
    let looked_at = cam
        .ground_hit(forward, 0.0)
        .filter(|p| p.distance(cam.position_ecef) < (altitude_m * 8.0).max(2_000.0))
        .unwrap_or(cam.position_ecef);
    let c = WGS84.cartographic_from_ecef(looked_at)?;
    Some(area_around(c.lon_rad.to_degrees(), c.lat_rad.to_degrees(), altitude_m))
}

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct LiveSystems;

pub struct LivePlugin;

impl Plugin for LivePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LiveSettings>()
            .init_resource::<Live>()
            .add_message::<SensorNews>()
            .add_message::<SensorChosen>()
            .add_systems(Update, (connect, receive, follow_camera).chain().in_set(LiveSystems));
    }
}

/// Opens the socket when none is open and the retry delay has passed.
fn connect(settings: Res<LiveSettings>, runtime: Res<Runtime>, time: Res<Time<Real>>, mut live: ResMut<Live>) {
    let Some(url) = &settings.url else { return };
    if live.socket.is_some() {
        return;
    }
    if let LiveStatus::Retrying { retry_in_s, .. } = &mut live.status {
        *retry_in_s -= time.delta_secs();
        if *retry_in_s > 0.0 {
            return;
        }
    }
    live.socket = Some(Socket::connect(&runtime, url));
    live.status = LiveStatus::Connecting;
}

fn receive(cam: Res<GeoCamera>, mut live: ResMut<Live>, mut news: MessageWriter<SensorNews>) {
    let events = live.socket.as_ref().map(Socket::drain).unwrap_or_default();
    for event in events {
        match event {
            SocketEvent::Open => {
                info!("live sensors: connected");
                live.status = LiveStatus::Open;
                live.confirmed = false;
                live.backoff_s = 1.0;
                if let Some(area) = camera_area(&cam) {
                    send_subscription(&mut live, area);
                }
            }
            SocketEvent::Text(text) => {
                if let Some(n) = live.apply_text(&text) {
                    news.write(n);
                }
            }
            SocketEvent::Binary(bytes) => {
                if let Some(n) = live.apply_binary(&bytes) {
                    news.write(n);
                }
            }
            SocketEvent::Closed(reason) => {
                let first = !matches!(live.status, LiveStatus::Retrying { .. });
                if first {
                    warn!("live sensors: {reason}; reconnecting");
                }
                let retry_in_s = live.backoff_s;
                live.backoff_s = (live.backoff_s * 2.0).min(MAX_BACKOFF_S);
                live.status = LiveStatus::Retrying { reason, retry_in_s };
                live.socket = None;
                return;
            }
        }
    }
}

fn send_subscription(live: &mut Live, area: [f64; 4]) {
    let text = live.subscribe(area);
    if let Some(s) = &live.socket {
        s.send(text);
    }
}

/// Resubscribes when the camera has moved to another area.
fn follow_camera(cam: Res<GeoCamera>, mut live: ResMut<Live>) {
    if live.status != LiveStatus::Open {
        return;
    }
    let Some(next) = camera_area(&cam) else { return };
    if live.area.is_none_or(|a| area_moved(&a, &next)) {
        send_subscription(&mut live, next);
    }
}

pub fn level_color(level: AlarmLevel) -> egui::Color32 {
    match level {
        AlarmLevel::Normal => egui::Color32::from_rgb(120, 200, 120),
        AlarmLevel::Warning => egui::Color32::from_rgb(240, 190, 60),
        AlarmLevel::Alarm => egui::Color32::from_rgb(230, 80, 60),
    }
}

/// `hh:mm:ss` UTC of a Unix time in ms.
fn clock(time_ms: i64) -> String {
    let s = time_ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The live sensors' panel, while a data server feeds them; a click on an alarm chooses its sensor.
pub fn live_panel_ui(
    mut contexts: EguiContexts,
    live: Res<Live>,
    hud: Res<HudSettings>,
    mut settings: ResMut<MarkerSettings>,
    mut chosen: MessageWriter<SensorChosen>,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if hud.visible && live.status != LiveStatus::Off {
        let clicked = egui::Window::new("Live sensors")
            .default_pos([10.0, 190.0])
            .resizable(false)
            .show(ctx, |ui| {
                let clicked = live_ui(ui, &live);
                let mut labels = settings.labels;
                if ui.checkbox(&mut labels, "values beside the near sensors").changed() {
                    settings.labels = labels;
                }
                clicked
            })
            .and_then(|r| r.inner.flatten());
        if let Some(sensor) = clicked {
            chosen.write(SensorChosen(sensor));
        }
    }
    Ok(())
}

/// The panel's content; returns the sensor of an alarm clicked.
pub fn live_ui(ui: &mut egui::Ui, live: &Live) -> Option<u32> {
    let status = match &live.status {
        LiveStatus::Off => return None,
        LiveStatus::Connecting => "connecting…".to_owned(),
        LiveStatus::Open => "live".to_owned(),
        LiveStatus::Retrying { reason, retry_in_s } => format!("offline, retry in {retry_in_s:.0} s: {reason}"),
    };
    ui.label(format!("Sensors: {status}"));
    if live.status == LiveStatus::Open {
        ui.horizontal(|ui| {
            ui.label(format!("{} in view ·", live.subscribed));
            ui.colored_label(level_color(AlarmLevel::Warning), format!("{} warning", live.count(AlarmLevel::Warning)));
            ui.colored_label(level_color(AlarmLevel::Alarm), format!("{} alarm", live.count(AlarmLevel::Alarm)));
        });
        ui.label(format!("{} readings received", live.updates));
    }
    let mut clicked = None;
    for a in live.alarms.iter().take(5) {
        let (_, unit, _) = a.kind.unit();
        let text = egui::RichText::new(format!(
            "{} {} #{} {} {:.1} {unit}",
            clock(a.time_ms),
            a.kind.name(),
            a.sensor,
            match a.level {
                AlarmLevel::Normal => "cleared",
                AlarmLevel::Warning => "warning",
                AlarmLevel::Alarm => "ALARM",
            },
            a.value
        ))
        .small()
        .color(level_color(a.level));
        let row = ui.add(egui::Label::new(text).sense(egui::Sense::click())).on_hover_text("show this sensor");
        if row.clicked() {
            clicked = Some(a.sensor);
        }
    }
    if let Some(e) = &live.last_error {
        ui.colored_label(level_color(AlarmLevel::Alarm), egui::RichText::new(e).small());
    }
    clicked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::live::Reading;
    use crate::protocol::sensors::SensorKind;

    fn alarm(seq: u64, level: AlarmLevel) -> ServerMessage {
        ServerMessage::Alarm(AlarmEvent {
            seq,
            sensor: 7,
            kind: SensorKind::WaterLevel,
            level,
            previous: AlarmLevel::Normal,
            value: 3.5,
            time_ms: 1_700_000_000_000,
        })
    }

    #[test]
    fn readings_replace_older_values_and_count_by_level() {
        let mut live = Live::default();
        live.apply(ServerMessage::Subscribed { sensors: 3, layers: vec![], alarm_cursor: 0 });
        live.apply(ServerMessage::Values {
            time_ms: 0,
            readings: vec![
                Reading(1, 0.5, AlarmLevel::Normal),
                Reading(2, 9.0, AlarmLevel::Alarm),
                Reading(3, 4.0, AlarmLevel::Warning),
            ],
        });
        live.apply(ServerMessage::Values { time_ms: 1, readings: vec![Reading(2, 1.0, AlarmLevel::Normal)] });
        assert_eq!(live.subscribed, 3);
        assert_eq!(live.updates, 4);
        assert_eq!(live.readings[&2], (1.0, AlarmLevel::Normal));
        assert_eq!((live.count(AlarmLevel::Normal), live.count(AlarmLevel::Warning)), (2, 1));
        assert_eq!(live.count(AlarmLevel::Alarm), 0);
    }

    #[test]
    fn alarms_are_newest_first_and_a_replay_after_resume_is_dropped() {
        let mut live = Live::default();
        live.apply(alarm(10, AlarmLevel::Warning));
        live.apply(alarm(11, AlarmLevel::Alarm));
        live.apply(alarm(11, AlarmLevel::Alarm));
        live.apply(alarm(9, AlarmLevel::Alarm));
        assert_eq!(live.alarms.iter().map(|a| a.seq).collect::<Vec<_>>(), [11, 10]);
        // A reconnect resumes after the newest alarm seen.
        let sub: ClientMessage = serde_json::from_str(&live.subscribe([0.0, 0.0, 1.0, 1.0])).unwrap();
        assert!(matches!(sub, ClientMessage::Subscribe { resume_after_alarm: Some(11), bbox: Some(_), .. }));
    }

    #[test]
    fn the_cursor_follows_subscriptions_alarms_and_heartbeats_and_never_goes_back() {
        let mut live = Live::default();
        let resume = |live: &mut Live| match serde_json::from_str(&live.subscribe([0.0, 0.0, 1.0, 1.0])).unwrap() {
            ClientMessage::Subscribe { resume_after_alarm, .. } => resume_after_alarm,
            other => panic!("{other:?}"),
        };
        // Before the subscription is confirmed, a heartbeat tells the server's newest alarm, not ours.
        live.apply(ServerMessage::Heartbeat { time_ms: 0, last_alarm_seq: 99 });
        assert_eq!(resume(&mut live), None, "a first subscription starts at the server's newest alarm");
        live.apply(ServerMessage::Subscribed { sensors: 3, layers: vec![], alarm_cursor: 40 });
        assert_eq!(resume(&mut live), Some(40));
        // Alarms of other areas advance the server's cursor: its heartbeat says we have all up to 57.
        live.apply(ServerMessage::Heartbeat { time_ms: 0, last_alarm_seq: 57 });
        assert_eq!(resume(&mut live), Some(57));
        live.apply(alarm(58, AlarmLevel::Alarm));
        live.apply(ServerMessage::Heartbeat { time_ms: 0, last_alarm_seq: 50 });
        assert_eq!(resume(&mut live), Some(58), "never back");
        live.apply(alarm(58, AlarmLevel::Alarm));
        assert_eq!(live.alarms.len(), 1, "a replay is dropped");
    }

    #[test]
    fn unreadable_messages_are_counted_not_fatal() {
        let mut live = Live::default();
        live.apply_text("{not json");
        live.apply_text(r#"{"type":"values","time_ms":0,"readings":[[1,2.0,"alarm"]]}"#);
        live.apply_text(r#"{"type":"error","message":"bad bbox"}"#);
        assert_eq!(live.bad_messages, 2);
        assert_eq!(live.last_error.as_deref(), Some("server: bad bbox"));
        assert_eq!(live.readings[&1], (2.0, AlarmLevel::Alarm));
        // Binary values: applied like JSON ones; a bad frame is counted.
        let frame = crate::protocol::live_binary::values_to_binary(5, &[Reading(1, 3.0, AlarmLevel::Warning)]);
        assert!(matches!(live.apply_binary(&frame), Some(SensorNews::Readings { time_ms: 5, .. })));
        assert!(live.apply_binary(&frame[..frame.len() - 1]).is_none());
        assert_eq!(live.bad_messages, 3);
        assert_eq!((live.readings[&1], live.count(AlarmLevel::Warning)), ((3.0, AlarmLevel::Warning), 1));
    }

    #[test]
    fn the_area_widens_with_altitude_and_moves_with_the_camera() {
        let low = area_around(24.94, 60.17, 100.0);
        let high = area_around(24.94, 60.17, 10_000.0);
        assert!(low[0] < 24.94 && low[2] > 24.94 && low[1] < 60.17 && low[3] > 60.17);
        assert!((high[2] - high[0]) > 10.0 * (low[2] - low[0]) * 0.99);
        // 1 km north-south either side at low altitude.
        assert!(((low[3] - low[1]) * 111_320.0 - 2_000.0).abs() < 1.0);
        assert!(!area_moved(&low, &area_around(24.9401, 60.17, 120.0)));
        assert!(area_moved(&low, &area_around(24.96, 60.17, 100.0)));
        assert!(area_moved(&low, &high));
        let pole = area_around(0.0, 89.99, 1e6);
        assert!(pole[0] >= -180.0 && pole[2] <= 180.0 && pole[3] <= 90.0);
    }

    #[test]
    fn server_urls_follow_the_scheme_and_carry_the_token() {
        use crate::viewer::DataServer;
        assert_eq!(DataServer::new("http://127.0.0.1:8080/", None).live_url(), "ws://127.0.0.1:8080/live");
        let s = DataServer::new("https://twin.example.org", Some("a b&c".into()));
        assert_eq!(s.live_url(), "wss://twin.example.org/live?access_token=a+b%26c");
        assert_eq!(s.at("/v1.1/Things?$top=1"), "https://twin.example.org/v1.1/Things?$top=1&access_token=a+b%26c");
        assert_eq!(clock(1_700_000_000_000), "22:13:20");
    }
}
