//! The live WebSocket stream over a real socket: subscribe, snapshot, deltas at most 1 Hz per
//! sensor, coalescing for slow readers, bad messages, restricted layers, and resuming after a
//! reconnect (and a restart) with no alarm missed.

use std::time::Duration;

use citytwin_protocol::live::{AlarmEvent, MAX_SITES_PER_MESSAGE, ServerMessage, Site};
use citytwin_protocol::sensors::{AlarmLevel, SensorKind};
use citytwin_server::store::Store;
use citytwin_server::{Config, ServerHandle};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn config(data: &std::path::Path) -> Config {
    let mut c = Config { listen: ([127, 0, 0, 1], 0).into(), data_dir: data.into(), ..Default::default() };
    c.sensors.count = 3000;
    c.sensors.report_interval_s = [1, 3];
    c.cameras.count = 0;
    c
}

async fn connect(server: &ServerHandle) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{}/live", server.addr)).await.unwrap().0
}

async fn next_any(ws: &mut Ws) -> ServerMessage {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("a message within 15 s")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
    }
}

/// The next message that is not a heartbeat (one comes at once on connecting, then every 10 s)
/// nor sites (checked by `sites_come_once_per_connection_inside_the_subscription`).
async fn next(ws: &mut Ws) -> ServerMessage {
    loop {
        match next_any(ws).await {
            ServerMessage::Heartbeat { .. } | ServerMessage::Sites { .. } => continue,
            m => return m,
        }
    }
}

/// The reply to a new subscription on a connection already subscribed: readings and alarms of
/// the old one may still come first.
async fn resubscribed(ws: &mut Ws) -> ServerMessage {
    loop {
        match next(ws).await {
            ServerMessage::Values { .. } | ServerMessage::Alarm(_) => continue,
            m @ ServerMessage::Subscribed { .. } => return m,
            m => panic!("expected subscribed, got {m:?}"),
        }
    }
}

/// After `Subscribed`: the sites sent, up to the next other message (returned too).
async fn sites_then(ws: &mut Ws) -> (Vec<Site>, ServerMessage) {
    let mut sites = Vec::new();
    loop {
        match next_any(ws).await {
            ServerMessage::Heartbeat { .. } => continue,
            ServerMessage::Sites { sites: s } => {
                assert!(s.len() <= MAX_SITES_PER_MESSAGE);
                sites.extend(s);
            }
            m => return (sites, m),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_come_once_per_connection_inside_the_subscription() {
    let data = tempfile::tempdir().unwrap();
    let mut c = config(data.path());
    c.sensors.count = 25_000;
    let server = ServerHandle::start(c).unwrap();
    let mut ws = connect(&server).await;
    let bbox = [113.9, 22.4, 114.2, 22.7];
    let subscribe = format!(r#"{{"type":"subscribe","layers":["sensors/pm25","sensors/noise"],"bbox":{bbox:?}}}"#);
    send(&mut ws, &subscribe).await;
    let ServerMessage::Subscribed { sensors, .. } = next(&mut ws).await else { panic!("subscribed first") };
    let (sites, then) = sites_then(&mut ws).await;
    assert!(sensors > MAX_SITES_PER_MESSAGE / 2, "{sensors}");
    assert_eq!(sites.len(), sensors, "one site per matched sensor");
    for Site(_, kind, lon, lat, _) in &sites {
        assert!(matches!(kind, SensorKind::Pm25 | SensorKind::Noise));
        assert!((bbox[0]..=bbox[2]).contains(lon) && (bbox[1]..=bbox[3]).contains(lat));
    }
    let ServerMessage::Values { readings, .. } = then else { panic!("then the snapshot") };
    let mut read: Vec<u32> = readings.iter().map(|r| r.0).collect();
    let mut placed: Vec<u32> = sites.iter().map(|s| s.0).collect();
    read.sort();
    placed.sort();
    assert_eq!(read, placed, "a site for every sensor of the snapshot");
    // The same subscription again: nothing new to place.
    send(&mut ws, &subscribe).await;
    resubscribed(&mut ws).await;
    let (again, _) = sites_then(&mut ws).await;
    assert!(again.is_empty(), "{} sites sent twice", again.len());
    // A new connection is sent them afresh.
    let mut other = connect(&server).await;
    send(&mut other, &subscribe).await;
    assert!(matches!(next(&mut other).await, ServerMessage::Subscribed { .. }));
    assert_eq!(sites_then(&mut other).await.0.len(), sensors);
    // Every layer the public may see: the new sites include none of the gas pipelines.
    send(&mut other, r#"{"type":"subscribe"}"#).await;
    let ServerMessage::Subscribed { sensors: all, .. } = resubscribed(&mut other).await else { unreachable!() };
    let (rest, _) = sites_then(&mut other).await;
    assert_eq!(rest.len(), all - sensors, "the sites not sent yet");
    assert!(rest.iter().all(|s| s.1 != SensorKind::GasPressure), "no gas site reaches the public");
    assert!(rest.iter().any(|s| s.1 == SensorKind::WaterLevel));
}

async fn send(ws: &mut Ws, json: &str) {
    ws.send(Message::Text(json.into())).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_then_snapshot_then_only_changes() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let mut ws = connect(&server).await;
    send(&mut ws, r#"{"type":"subscribe","layers":["sensors/pm25","sensors/noise"],"bbox":[113.9,22.4,114.2,22.7]}"#)
        .await;
    let ServerMessage::Subscribed { sensors, layers, .. } = next(&mut ws).await else { panic!("subscribed first") };
    assert!(sensors > 100, "{sensors}");
    assert_eq!(layers, vec!["sensors/pm25", "sensors/noise"]);
    let ServerMessage::Values { readings: snapshot, .. } = next(&mut ws).await else { panic!("then a snapshot") };
    assert_eq!(snapshot.len(), sensors);
    // The following messages carry only changes: each sensor reports every 1–3 s.
    let mut deltas = 0;
    let mut seen = std::collections::HashMap::new();
    let started = std::time::Instant::now();
    while deltas < 3 {
        if let ServerMessage::Values { readings, time_ms } = next(&mut ws).await {
            assert!(!readings.is_empty() && readings.len() < sensors, "a delta, not a snapshot: {}", readings.len());
            for r in &readings {
                // At most once a second per sensor.
                if let Some(prev) = seen.insert(r.0, time_ms) {
                    assert!(time_ms - prev >= 1000);
                }
            }
            deltas += 1;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(8));
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_get_errors_and_the_connection_lives_on() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let mut ws = connect(&server).await;
    for bad in [
        "not json",
        r#"{"type":"subscribe","bbox":[1,2,3]}"#,
        r#"{"type":"subscribe","layers":["sensors/unicorns"]}"#,
        r#"{"type":"subscribe","tiles":["99/1/1"]}"#,
        r#"{"type":"subscribe","bbox":[10,10,0,0]}"#,
        r#"{"type":"subscribe","layers":["sensors/gas_pressure"]}"#,
    ] {
        send(&mut ws, bad).await;
        let ServerMessage::Error { message } = next(&mut ws).await else { panic!("{bad}: an error expected") };
        assert!(message.len() > 8, "{bad}: {message}");
        if bad.contains("gas") {
            assert!(message.contains("planner"), "{message}");
        }
    }
    ws.send(Message::Binary(vec![1, 2, 3].into())).await.unwrap();
    assert!(matches!(next(&mut ws).await, ServerMessage::Error { .. }));
    send(&mut ws, r#"{"type":"ping","id":7}"#).await;
    let ServerMessage::Pong { id, .. } = next(&mut ws).await else { panic!("a pong expected") };
    assert_eq!(id, 7);
    // Tiles work as an area too.
    send(&mut ws, r#"{"type":"subscribe","tiles":["12/3345/1785","12/3346/1785"]}"#).await;
    assert!(matches!(next(&mut ws).await, ServerMessage::Subscribed { .. }));
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_gets_coalesced_values_not_a_backlog() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let mut ws = connect(&server).await;
    send(&mut ws, r#"{"type":"subscribe"}"#).await;
    assert!(matches!(next(&mut ws).await, ServerMessage::Subscribed { .. }));
    assert!(matches!(next(&mut ws).await, ServerMessage::Values { .. }));
    // Read nothing for 4 s, then drain: at most one message per tick came, each with distinct sensors.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut values = 0;
    while let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
        if let ServerMessage::Values { readings, .. } = serde_json::from_str(&t).unwrap() {
            let mut ids: Vec<u32> = readings.iter().map(|r| r.0).collect();
            ids.dedup();
            assert_eq!(ids.len(), readings.len());
            values += 1;
        }
    }
    assert!((1..=6).contains(&values), "{values} value messages after 4 s");
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_after_a_reconnect_and_a_restart_misses_no_alarm() {
    let data = tempfile::tempdir().unwrap();
    // Alarms of the minutes before this server started (recent, so retention keeps them): the
    // history holds them.
    {
        std::fs::create_dir_all(data.path()).unwrap();
        let store = Store::open(&data.path().join("history.sqlite")).unwrap();
        let minutes_ago = citytwin_server::sensors::live::now_ms() - 600_000;
        let events: Vec<AlarmEvent> = (1..=5)
            .map(|seq| AlarmEvent {
                seq,
                sensor: seq as u32 * 10,
                kind: SensorKind::Noise,
                level: AlarmLevel::Alarm,
                previous: AlarmLevel::Normal,
                value: 91.0,
                time_ms: minutes_ago + 1_000 * seq as i64,
            })
            .collect();
        store.insert_alarms(&events).unwrap();
    }
    let server = ServerHandle::start(config(data.path())).unwrap();
    let mut ws = connect(&server).await;
    send(&mut ws, r#"{"type":"subscribe","resume_after_alarm":2}"#).await;
    assert!(matches!(next(&mut ws).await, ServerMessage::Subscribed { .. }));
    let mut replayed = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while replayed.len() < 3 {
        assert!(std::time::Instant::now() < deadline, "only {replayed:?} replayed");
        match next(&mut ws).await {
            ServerMessage::Alarm(e) if e.seq <= 5 => replayed.push(e.seq),
            _ => {}
        }
    }
    assert_eq!(replayed, vec![3, 4, 5], "every alarm after the cursor, in order");
    // Heartbeats tell a client where the log stands: a new connection gets one at once.
    let mut fresh = connect(&server).await;
    let ServerMessage::Heartbeat { last_alarm_seq, .. } = next_any(&mut fresh).await else { panic!("heartbeat first") };
    assert!(last_alarm_seq >= 5);
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_live_sessions() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let mut ws = connect(&server).await;
    send(&mut ws, r#"{"type":"subscribe"}"#).await;
    assert!(matches!(next(&mut ws).await, ServerMessage::Subscribed { .. }));
    let stopping = tokio::task::spawn_blocking(move || server.stop());
    // A graceful close: a close frame saying the server is going away, not a dropped connection.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Close(frame) = m {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await;
    assert_eq!(closed, Ok(Some(1001)), "closed with 1001 (going away)");
    tokio::time::timeout(Duration::from_secs(10), stopping).await.expect("stops in time").unwrap().unwrap();
}

/// The server's `last_alarm_seq`.
async fn last_alarm_seq(server: &ServerHandle) -> u64 {
    let health: serde_json::Value =
        reqwest::get(format!("{}/healthz", server.url())).await.unwrap().json().await.unwrap();
    health["last_alarm_seq"].as_u64().unwrap()
}

/// Alarms from `ws` until one numbered `until` or later, skipping everything else.
async fn alarms_until(ws: &mut Ws, until: u64) -> Vec<u64> {
    let mut seqs = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seqs.last().is_none_or(|s| *s < until) {
        assert!(std::time::Instant::now() < deadline, "alarms up to {until} did not come: {seqs:?}");
        if let ServerMessage::Alarm(e) = next(ws).await {
            seqs.push(e.seq);
        }
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_drops_while_alarms_fire_gets_each_exactly_once_in_order_on_resume() {
    let data = tempfile::tempdir().unwrap();
    let mut c = config(data.path());
    // Enough sensors that alarms fire every second; a planner sees every layer, so every alarm is theirs.
    c.sensors.count = 200_000;
    c.tokens = vec![citytwin_server::config::TokenConfig {
        token: "planner-token-0000000001".into(),
        role: citytwin_server::auth::Role::Planner,
        name: "planning office".into(),
    }];
    let server = ServerHandle::start(c).unwrap();
    let url = format!("ws://{}/live?access_token=planner-token-0000000001", server.addr);
    let mut ws = tokio_tungstenite::connect_async(&url).await.unwrap().0;
    send(&mut ws, r#"{"type":"subscribe"}"#).await;
    assert!(matches!(next(&mut ws).await, ServerMessage::Subscribed { .. }));
    // Some alarms live, then the connection drops.
    let first = last_alarm_seq(&server).await + 3;
    let mut seen = alarms_until(&mut ws, first).await;
    drop(ws);
    // Alarms fire while the client is away.
    let away_from = last_alarm_seq(&server).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while last_alarm_seq(&server).await < away_from + 5 {
        assert!(std::time::Instant::now() < deadline, "no alarms fired in 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Reconnect, resume after the last alarm seen, and read on past the newest.
    let mut ws = tokio_tungstenite::connect_async(&url).await.unwrap().0;
    let resume = *seen.last().unwrap();
    send(&mut ws, &format!(r#"{{"type":"subscribe","resume_after_alarm":{resume}}}"#)).await;
    assert!(matches!(next(&mut ws).await, ServerMessage::Subscribed { .. }));
    let target = last_alarm_seq(&server).await + 2;
    seen.extend(alarms_until(&mut ws, target).await);
    let start = seen[0];
    let expected: Vec<u64> = (start..start + seen.len() as u64).collect();
    assert_eq!(seen, expected, "every alarm exactly once, in order, across the gap ({away_from}..)");
    assert!(seen.iter().any(|s| *s > away_from + 4), "the gap's alarms came after the reconnect");
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_reader_gets_fewer_fresher_messages_than_ticks_and_is_dropped_after_30_s() {
    let data = tempfile::tempdir().unwrap();
    let mut c = config(data.path());
    // Every sensor changes every second: each tick's values are megabytes, so a reader that stops
    // fills the socket buffers within two ticks and the server's sends block.
    c.sensors.count = 100_000;
    c.sensors.report_interval_s = [1, 1];
    let server = ServerHandle::start(c).unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{}/live", server.addr), stream).await.unwrap();
    send(&mut ws, r#"{"type":"subscribe"}"#).await;
    assert!(matches!(next(&mut ws).await, ServerMessage::Subscribed { .. }));
    // The sites take a while through this buffer: alarms raised meanwhile come before the values.
    loop {
        match next(&mut ws).await {
            ServerMessage::Values { .. } => break,
            ServerMessage::Alarm(_) => continue,
            m => panic!("values, or alarms before them: {m:?}"),
        }
    }

    // Stall for 12 ticks, then drain: a server that queued would now deliver about 12 messages; one
    // that coalesces delivers what the socket buffers held and then the newest values.
    let stalled_s = 12;
    tokio::time::sleep(Duration::from_secs(stalled_s)).await;
    let drained_at = std::time::Instant::now();
    let mut values = Vec::new();
    while drained_at.elapsed() < Duration::from_millis(2500) {
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if let ServerMessage::Values { time_ms, readings } = serde_json::from_str(&t).unwrap() {
                    values.push((time_ms, readings.len()));
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    let during_stall = values.iter().filter(|(t, _)| *t <= citytwin_server::sensors::live::now_ms() - 2_500).count();
    assert!(
        during_stall <= stalled_s as usize / 2,
        "{during_stall} messages from {stalled_s} stalled seconds: a backlog, not coalescing"
    );
    let newest = values.iter().map(|(t, _)| *t).max().expect("values after the stall");
    assert!(citytwin_server::sensors::live::now_ms() - newest < 3_000, "the newest values are fresh");

    // Stall past the 30 s send timeout: the server drops the connection.
    tokio::time::sleep(Duration::from_secs(33)).await;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(ended, Ok(true), "the stalled client was dropped");
    server.stop().unwrap();
}
