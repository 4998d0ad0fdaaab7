//! The live WebSocket stream (`/live`); the message format is `citytwin_protocol::live`.
//! Each client gets, at most once a tick, the readings that changed since its last message and
//! the alarms after its cursor: nothing is queued per client, so a slow client simply receives
//! fresher, coalesced values. A client that stops reading for 30 s is dropped.
//!
//! Bad input never takes more than its share: a message over [`MAX_MESSAGE_BYTES`], invalid UTF-8
//! or a protocol violation is answered with an `error` message where the socket still allows and a
//! close frame with its code (1009, 1007, 1002); too many bad messages close with 1008. A
//! subscription's size is bounded by the protocol (`subscription_areas`), and a replay sends at
//! most [`MAX_REPLAY`] alarms a tick.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use citytwin_protocol::live::{
    AlarmEvent, ClientMessage, Encoding, MAX_SITES_PER_MESSAGE, Reading, ServerMessage, Site, subscription_areas,
};
use citytwin_protocol::live_binary::values_to_binary;
use citytwin_protocol::sensors::SensorKind;
use futures_util::{SinkExt, StreamExt};

use crate::AppState;
use crate::auth::Caller;

const SEND_TIMEOUT: Duration = Duration::from_secs(30);
const HEARTBEAT: Duration = Duration::from_secs(10);
const RING: usize = 100_000;
const MAX_BAD_MESSAGES: u32 = 20;
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
pub const MAX_REPLAY: usize = 10_000;

/// Every alarm event: the newest in memory, all of them in SQLite.
pub struct AlarmLog {
    ring: Mutex<VecDeque<AlarmEvent>>,
    last_seq: AtomicU64,
}

impl AlarmLog {
    pub fn new(last_seq: u64) -> Self {
        Self { ring: Mutex::new(VecDeque::new()), last_seq: AtomicU64::new(last_seq) }
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Acquire)
    }

    /// Numbers and keeps new events (the caller persists them).
    pub fn append(&self, mut events: Vec<AlarmEvent>) -> Vec<AlarmEvent> {
        let mut ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        for e in &mut events {
            e.seq = self.last_seq.fetch_add(1, Ordering::AcqRel) + 1;
            ring.push_back(e.clone());
        }
        while ring.len() > RING {
            ring.pop_front();
        }
        events
    }

    /// The first `limit` events after `seq` if memory still holds them all; `None` means ask the store.
    fn after(&self, seq: u64, limit: usize) -> Option<Vec<AlarmEvent>> {
        let ring = self.ring.lock().unwrap_or_else(|p| p.into_inner());
        match ring.front() {
            Some(first) if first.seq > seq.saturating_add(1) => None,
            None if self.last_seq() > seq => None,
            _ => Some(ring.iter().filter(|e| e.seq > seq).take(limit).cloned().collect()),
        }
    }
}

pub async fn upgrade(State(state): State<AppState>, caller: Caller, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(MAX_MESSAGE_BYTES).max_frame_size(MAX_MESSAGE_BYTES).on_upgrade(move |socket| async move {
        state.metrics.ws_clients.inc();
        session(&state, &caller, socket).await;
        state.metrics.ws_clients.dec();
    })
}

struct Subscription {
    /// Sorted sensor indices.
    sensors: Vec<u32>,
    last_sent_s: i64,
    alarm_cursor: u64,
    encoding: Encoding,
}

impl Subscription {
    fn has(&self, sensor: u32) -> bool {
        self.sensors.binary_search(&sensor).is_ok()
    }
}

async fn send(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    state: &AppState,
    m: &ServerMessage,
) -> bool {
    let text = serde_json::to_string(m).expect("serialisable");
    send_frame(socket, state, Message::Text(text.into())).await
}

/// Sends one frame (counted in the metrics); false when the client is gone or too slow.
async fn send_frame(
    socket: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    state: &AppState,
    frame: Message,
) -> bool {
    let bytes = match &frame {
        Message::Text(t) => t.len(),
        Message::Binary(b) => b.len(),
        _ => 0,
    };
    state.metrics.ws_bytes.inc_by(bytes as u64);
    state.metrics.ws_messages.inc();
    matches!(tokio::time::timeout(SEND_TIMEOUT, socket.send(frame)).await, Ok(Ok(())))
}

async fn session(state: &AppState, caller: &Caller, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    let mut tick = state.tick.subscribe();
    let mut shutdown = state.shutdown.clone();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut sub: Option<Subscription> = None;
    // Sensors whose site this connection has been sent, by index.
    let mut sites_sent = vec![false; state.sim.sensors.len()];
    let mut bad = 0;
    loop {
        tokio::select! {
            incoming = rx.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        bad += 1;
                        if !send(&mut tx, state, &ServerMessage::Error { message: "binary frames are not understood; send JSON text".into() }).await { break }
                        continue;
                    }
                    Some(Err(e)) => {
                        let (code, message) = close_for(e);
                        let _ = send(&mut tx, state, &ServerMessage::Error { message: message.clone() }).await;
                        close(&mut tx, code, &message).await;
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                };
                match serde_json::from_str::<ClientMessage>(&text) {
                    Ok(ClientMessage::Ping { id }) => {
                        if !send(&mut tx, state, &ServerMessage::Pong { id, time_ms: now_ms() }).await { break }
                    }
                    Ok(ClientMessage::Subscribe { layers, bbox, tiles, resume_after_alarm, encoding }) => {
                        match subscribe(state, caller, &layers, bbox, &tiles).await {
                            Ok((sensors, layers)) => {
                                let cursor = resume_after_alarm.unwrap_or_else(|| state.alarms.last_seq());
                                let s = Subscription { sensors, last_sent_s: i64::MIN, alarm_cursor: cursor, encoding };
                                let m = ServerMessage::Subscribed { sensors: s.sensors.len(), layers, alarm_cursor: cursor };
                                if !send(&mut tx, state, &m).await { break }
                                if !send_sites(&mut tx, state, &s.sensors, &mut sites_sent).await { break }
                                sub = Some(s);
                                if !push(&mut tx, state, sub.as_mut().expect("just set")).await { break }
                            }
                            Err(message) => {
                                bad += 1;
                                if !send(&mut tx, state, &ServerMessage::Error { message }).await { break }
                            }
                        }
                    }
                    Err(e) => {
                        bad += 1;
                        let message = format!("bad message: {e}");
                        if !send(&mut tx, state, &ServerMessage::Error { message }).await { break }
                    }
                }
                if bad > MAX_BAD_MESSAGES {
                    let message = "too many bad messages; closing";
                    let _ = send(&mut tx, state, &ServerMessage::Error { message: message.into() }).await;
                    close(&mut tx, close_code::POLICY, message).await;
                    break;
                }
            }
            changed = tick.changed() => {
                if changed.is_err() { break }
                if let Some(s) = sub.as_mut()
                    && !push(&mut tx, state, s).await { break }
            }
            _ = heartbeat.tick() => {
                // Subscribed: this connection's cursor, every alarm up to which it has been sent.
                let last_alarm_seq = sub.as_ref().map_or_else(|| state.alarms.last_seq(), |s| s.alarm_cursor);
                let m = ServerMessage::Heartbeat { time_ms: now_ms(), last_alarm_seq };
                if !send(&mut tx, state, &m).await { break }
            }
            _ = shutdown.changed() => {
                close(&mut tx, close_code::AWAY, "the server is shutting down").await;
                break;
            }
        }
    }
}

/// The close code and message for a receive error: too big (1009), not UTF-8 (1007), or any
/// other protocol violation (1002).
fn close_for(e: axum::Error) -> (u16, String) {
    use tungstenite::Error as E;
    let inner = e.into_inner();
    match inner.downcast_ref::<E>() {
        Some(E::Capacity(c)) => (close_code::SIZE, format!("message too big (at most {MAX_MESSAGE_BYTES} bytes): {c}")),
        Some(E::Utf8(_)) => (close_code::INVALID, "a text message was not valid UTF-8".into()),
        _ => (close_code::PROTOCOL, format!("WebSocket protocol error: {inner}")),
    }
}

/// Sends a close frame (its reason cut to the 123 bytes a frame allows), bounded in time.
async fn close(tx: &mut futures_util::stream::SplitSink<WebSocket, Message>, code: u16, reason: &str) {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let frame = CloseFrame { code, reason: reason[..end].into() };
    let _ = tokio::time::timeout(SEND_TIMEOUT, tx.send(Message::Close(Some(frame)))).await;
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Sends where `sensors` are, for those not sent on this connection before.
async fn send_sites(
    tx: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    state: &AppState,
    sensors: &[u32],
    sent: &mut [bool],
) -> bool {
    let new: Vec<u32> = sensors.iter().copied().filter(|i| !sent[*i as usize]).collect();
    for batch in new.chunks(MAX_SITES_PER_MESSAGE) {
        let sites = batch
            .iter()
            .map(|i| {
                sent[*i as usize] = true;
                let s = &state.sim.sensors[*i as usize];
                Site(*i, s.kind, s.lon_deg, s.lat_deg, 0.0)
            })
            .collect();
        if !send(tx, state, &ServerMessage::Sites { sites }).await {
            return false;
        }
    }
    true
}

/// Sends the alarms after the cursor, then the readings changed since the last message.
async fn push(
    tx: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    state: &AppState,
    s: &mut Subscription,
) -> bool {
    // At most MAX_REPLAY alarms a tick: a long replay continues at the next one.
    let events = match state.alarms.after(s.alarm_cursor, MAX_REPLAY) {
        Some(events) => events,
        None => {
            let (store, cursor) = (state.store.clone(), s.alarm_cursor);
            match tokio::task::spawn_blocking(move || store.alarms_after(cursor, MAX_REPLAY)).await {
                Ok(Ok(events)) => events,
                _ => return false,
            }
        }
    };
    for e in events {
        s.alarm_cursor = e.seq;
        if s.has(e.sensor) && !send(tx, state, &ServerMessage::Alarm(e)).await {
            return false;
        }
    }
    let (readings, now_s) = {
        let r = state.sim.live.read();
        let readings: Vec<Reading> = s
            .sensors
            .iter()
            .filter(|i| r.changed_s[**i as usize] > s.last_sent_s)
            .map(|i| Reading(*i, r.value[*i as usize], r.level[*i as usize]))
            .collect();
        (readings, r.now_s)
    };
    s.last_sent_s = now_s;
    let time_ms = now_s * 1000;
    readings.is_empty()
        || match s.encoding {
            Encoding::Json => send(tx, state, &ServerMessage::Values { time_ms, readings }).await,
            Encoding::Binary => {
                send_frame(tx, state, Message::Binary(values_to_binary(time_ms, &readings).into())).await
            }
        }
}

/// The sensors matching a subscription for this caller, and the layers it covers.
async fn subscribe(
    state: &AppState,
    caller: &Caller,
    layers: &[String],
    bbox: Option<[f64; 4]>,
    tiles: &[String],
) -> Result<(Vec<u32>, Vec<String>), String> {
    let boxes = subscription_areas(layers, bbox, tiles)?;
    let mut kinds = Vec::new();
    for layer in layers {
        let kind = SensorKind::from_layer(layer).ok_or_else(|| format!("unknown layer {layer:?}"))?;
        if !caller.role.sees(kind) {
            state.audit(caller, "subscribe", layer, false).await;
            return Err(format!("layer {layer} needs the planner role"));
        }
        kinds.push(kind);
    }
    if kinds.is_empty() {
        kinds = SensorKind::ALL.into_iter().filter(|k| caller.role.sees(*k)).collect();
    }
    // Named or implied by "every layer", a restricted layer streamed is an audited access.
    for k in kinds.iter().filter(|k| k.restricted()) {
        state.audit(caller, "subscribe", k.layer(), true).await;
    }
    let sim = &state.sim;
    let mut sensors: Vec<u32> = if boxes.is_empty() {
        (0..sim.sensors.len() as u32).collect()
    } else {
        // One mark per sensor, so overlapping areas cost no more memory than the city has sensors.
        let mut inside = vec![false; sim.sensors.len()];
        for b in &boxes {
            for i in sim.grid.query(&sim.sensors, *b) {
                inside[i as usize] = true;
            }
        }
        (0..sim.sensors.len() as u32).filter(|i| inside[*i as usize]).collect()
    };
    sensors.retain(|i| kinds.contains(&sim.sensors[*i as usize].kind));
    Ok((sensors, kinds.iter().map(|k| k.layer().to_owned()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use citytwin_protocol::sensors::AlarmLevel;

    fn event() -> AlarmEvent {
        AlarmEvent {
            seq: 0,
            sensor: 1,
            kind: SensorKind::Noise,
            level: AlarmLevel::Alarm,
            previous: AlarmLevel::Normal,
            value: 90.0,
            time_ms: 0,
        }
    }

    #[test]
    fn alarm_log_numbers_events_and_knows_what_it_still_holds() {
        let log = AlarmLog::new(41);
        assert!(log.after(10, 100).is_none(), "older than memory: ask the store");
        let numbered = log.append(vec![event(), event()]);
        assert_eq!(numbered.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![42, 43]);
        assert_eq!(log.after(41, 100).unwrap().len(), 2);
        assert_eq!(log.after(41, 1).unwrap()[0].seq, 42, "a limited replay starts at the oldest");
        assert_eq!(log.after(42, 100).unwrap().len(), 1);
        assert!(log.after(43, 100).unwrap().is_empty());
        assert!(log.after(40, 100).is_none());
        assert!(log.after(u64::MAX, 100).unwrap().is_empty());
    }
}
