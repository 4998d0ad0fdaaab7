//! The server under hostile input, over real sockets on 127.0.0.1: every class of request that once
//! crashed it, burned its CPU, leaked what public may not know or left no trace. Each is answered
//! with a clear 4xx (or the right WebSocket close code), the server keeps serving its other clients,
//! every restricted access and failed authentication is in the audit log, and memory stays bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use citytwin_protocol::sensors::SensorKind;
use citytwin_server::auth::Role;
use citytwin_server::config::TokenConfig;
use citytwin_server::{Config, ServerHandle};
use reqwest::StatusCode;
use serde_json::Value;

const PLANNER: &str = "planner-token-0000000001";
const OPERATOR: &str = "operator-token-000000001";

fn config(data: &Path) -> Config {
    let mut c = Config { listen: ([127, 0, 0, 1], 0).into(), data_dir: data.into(), ..Default::default() };
    c.sensors.count = 3000;
    c.sensors.history_interval_s = 1;
    c.cameras.count = 20;
    c.tokens = vec![
        TokenConfig { token: PLANNER.into(), role: Role::Planner, name: "planning office".into() },
        TokenConfig { token: OPERATOR.into(), role: Role::Operator, name: "control room".into() },
    ];
    c
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

/// Status and JSON body of a GET with an optional `Authorization` header value.
async fn get(url: &str, authorization: Option<&str>) -> (StatusCode, Value) {
    let mut r = client().get(url);
    if let Some(a) = authorization {
        r = r.header("Authorization", a);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or_else(|_| panic!("{url}: not JSON: {body}")))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The newest audit entries, newest first.
async fn audit(base: &str) -> Vec<Value> {
    let (status, body) = get(&format!("{base}/api/audit"), Some(&bearer(OPERATOR))).await;
    assert_eq!(status, StatusCode::OK);
    body["entries"].as_array().unwrap().clone()
}

/// Runs `request`, then finds the audit entry it left: by `who`, a resource containing `resource`,
/// and `allowed`, among the entries written since it started.
async fn audited<F: Future<Output = ()>>(base: &str, who: &str, resource: &str, allowed: bool, request: F) {
    let last_before = audit(base).await.first().map_or(0, |e| e["id"].as_i64().unwrap());
    request.await;
    let after = audit(base).await;
    let new: Vec<&Value> = after.iter().take_while(|e| e["id"].as_i64().unwrap() > last_before).collect();
    let found = new.iter().any(|e| {
        e["who"].as_str().unwrap().contains(who)
            && e["resource"].as_str().unwrap().contains(resource)
            && e["allowed"] == allowed
    });
    assert!(found, "no audit entry ({who}, {resource:?}, allowed {allowed}) among the new ones: {new:#?}");
}

/// A body with every run of digits replaced by `N`, to compare answers about different ids.
fn scrub(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('N') {
            out.push('N');
        }
    }
    out
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap()
}

/// A gas (restricted) sensor's id, and one observation id of it, as a planner sees them.
async fn restricted_ids(base: &str) -> (u64, u64) {
    let (_, things) =
        get(&format!("{base}/v1.1/Things?$filter=properties/restricted%20eq%20true&$top=1"), Some(&bearer(PLANNER)))
            .await;
    let gas = things["value"][0]["@iot.id"].as_u64().expect("a gas sensor");
    let url = format!("{base}/v1.1/Datastreams({gas})/Observations?$top=1");
    let (_, obs) = get(&url, Some(&bearer(PLANNER))).await;
    (gas, obs["value"][0]["@iot.id"].as_u64().expect("an observation of the gas sensor"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_queries_get_clear_4xx_and_the_server_keeps_serving() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let base = server.url();
    tokio::time::sleep(Duration::from_millis(1500)).await; // some history
    let rss_before = rss_kib();
    // A live client that must survive all of it.
    let mut live = tokio_tungstenite::connect_async(format!("ws://{}/live", server.addr)).await.unwrap().0;

    let deep = format!("{}@iot.id%20eq%201{}", "(".repeat(3000), ")".repeat(3000));
    let nots = format!("{}@iot.id%20eq%201", "not%20".repeat(10_000));
    let wide = vec!["result%20gt%201"; 1000].join("%20and%20");
    let keys = vec!["result"; 1000].join(",");
    let polygon: Vec<String> = (0..5000).map(|i| format!("{i}%200")).collect();
    let nested_wkt = format!("geography'{}'", "GEOMETRYCOLLECTION(".repeat(800));
    for (what, path) in [
        ("3,000 nested parentheses", format!("/v1.1/Things?$filter={deep}")),
        ("10,000 chained not", format!("/v1.1/Things?$filter={nots}")),
        ("1,000 and-terms on Observations", format!("/v1.1/Observations?$filter={wide}")),
        ("1,000 orderby keys", format!("/v1.1/Things?$orderby={keys}")),
        ("1,000 orderby keys on Observations", format!("/v1.1/Observations?$orderby={keys}")),
        (
            "a 5,000-vertex polygon",
            format!(
                "/v1.1/Things?$filter=geo.intersects(Locations/location,geography'POLYGON(({}))')",
                polygon.join(",")
            ),
        ),
        ("nested WKT collections", format!("/v1.1/Things?$filter=geo.intersects(Locations/location,{nested_wkt})")),
        ("a skip past every integer", "/v1.1/Observations?$skip=99999999999999999999999".to_owned()),
        ("a skip past the bound", "/v1.1/Things?$skip=18446744073709551615".to_owned()),
        ("a repeated expand", "/v1.1/Things?$expand=Locations,Locations".to_owned()),
        ("a nested expand", "/v1.1/Things?$expand=Datastreams/Observations".to_owned()),
        ("a bad percent-encoding", "/v1.1/Things?$filter=%ZZ".to_owned()),
    ] {
        let (status, body) = get(&format!("{base}{path}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert_eq!(body["error"]["code"], 400, "{what}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty(), "{what}: a message says why");
    }

    // Pages are bounded: $top is capped, and expanding Observations caps the entities per page.
    let (status, page) = get(&format!("{base}/v1.1/Things?$top=999999"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page["value"].as_array().unwrap().len() <= 10_000);
    let (status, page) = get(&format!("{base}/v1.1/Datastreams?$top=10000&$expand=Observations"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["value"].as_array().unwrap().len(), 100, "100 datastreams a page when each expands");
    assert!(page["@iot.nextLink"].as_str().unwrap().contains("$top=100"), "and the next link pages on");

    // The server is alive and so is the live client.
    assert_eq!(get(&format!("{base}/healthz"), None).await.0, StatusCode::OK);
    use futures_util::{SinkExt, StreamExt};
    live.send(tokio_tungstenite::tungstenite::Message::Text(r#"{"type":"ping","id":7}"#.into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(m)) = live.next().await {
            if m.to_text().unwrap_or("").contains("pong") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(pong, Ok(true), "the live client still gets answers");

    let grown_mib = rss_kib().saturating_sub(rss_before) / 1024;
    assert!(grown_mib < 256, "memory grew by {grown_mib} MiB");
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_to_restricted_data_is_audited_and_public_learns_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let base = server.url();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (gas, obs) = restricted_ids(&base).await;
    let (p, pl): (Option<&str>, _) = (None, Some(bearer(PLANNER)));

    // Public: every path to the gas sensor's data is an audited denial that looks like a missing id.
    for path in [
        format!("/v1.1/Things({gas})"),
        format!("/v1.1/Datastreams({gas})"),
        format!("/v1.1/Datastreams({gas})/Observations"),
        format!("/v1.1/Observations({obs})"),
        format!("/v1.1/Observations({obs})/Datastream"),
    ] {
        let url = format!("{base}{path}");
        audited(&base, "anonymous", "", false, async {
            let (status, body) = get(&url, p).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        })
        .await;
    }
    let url = format!("{base}/v1.1/Observations?$filter=Datastream/@iot.id%20eq%20{gas}");
    audited(&base, "anonymous", "Observations of restricted", false, async {
        let (status, body) = get(&url, p).await;
        assert_eq!((status, body["value"].as_array().unwrap().len()), (StatusCode::OK, 0), "{body}");
    })
    .await;
    let gas_kind = 1 + SensorKind::ALL.iter().position(|k| k.restricted()).unwrap();
    let url = format!("{base}/v1.1/Sensors({gas_kind})");
    audited(&base, "anonymous", "Sensors", false, async {
        assert_eq!(get(&url, p).await.0, StatusCode::NOT_FOUND);
    })
    .await;

    // Existence is not observable: a restricted id and a missing one answer alike and are both audited.
    for (restricted, missing) in [
        (format!("/v1.1/Things({gas})"), "/v1.1/Things(999999)".to_owned()),
        (format!("/v1.1/Observations({obs})"), "/v1.1/Observations(99999999)".to_owned()),
        ("/api/cameras/3/feed.mjpg".to_owned(), "/api/cameras/999/feed.mjpg".to_owned()),
        ("/api/cameras/3/snapshot.jpg".to_owned(), "/api/cameras/999/snapshot.jpg".to_owned()),
    ] {
        let (a_status, a) = get(&format!("{base}{restricted}"), p).await;
        let (b_status, b) = get(&format!("{base}{missing}"), p).await;
        assert_eq!((a_status, scrub(&a)), (b_status, scrub(&b)), "{restricted} vs {missing}: same status and body");
        // Both are audited, and alike: one entry each, so both take the same path.
        let mut entries = Vec::new();
        for path in [&restricted, &missing] {
            let last = audit(&base).await.first().map_or(0, |e| e["id"].as_i64().unwrap());
            get(&format!("{base}{path}"), p).await;
            let new = audit(&base).await;
            entries.push(new.iter().filter(|e| e["id"].as_i64().unwrap() > last && e["who"] == "anonymous").count());
        }
        assert_eq!(entries, vec![1, 1], "{restricted} vs {missing}: audit entries");
    }

    // The live stream: public asking for the gas layer is refused; a planner's "every layer" streams it. Both audited.
    for (query, body, who, allowed) in [
        ("", r#"{"type":"subscribe","layers":["sensors/gas_pressure"]}"#, "anonymous", false),
        (&format!("?access_token={PLANNER}")[..], r#"{"type":"subscribe"}"#, "planning office", true),
    ] {
        let url = format!("ws://{}/live{query}", server.addr);
        audited(&base, who, "sensors/gas_pressure", allowed, async {
            use futures_util::{SinkExt, StreamExt};
            let mut ws = tokio_tungstenite::connect_async(&url).await.unwrap().0;
            ws.send(tokio_tungstenite::tungstenite::Message::Text(body.into())).await.unwrap();
            let answer = loop {
                let m = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
                let t = m.to_text().unwrap_or("").to_owned();
                if t.contains("subscribed") || t.contains("error") {
                    break t;
                }
            };
            assert_eq!(answer.contains("subscribed"), allowed, "{who}: {answer}");
        })
        .await;
    }

    // Planners may read it, and every such read is audited as allowed, through every path.
    for (path, resource) in [
        (format!("/v1.1/Things({gas})"), format!("Things {gas}")),
        (format!("/v1.1/Datastreams({gas})/Observations"), format!("Datastreams {gas}")),
        (format!("/v1.1/Observations({obs})"), format!("Datastreams {gas}")),
        (format!("/v1.1/Observations?$filter=Datastream/@iot.id%20eq%20{gas}"), format!("Datastreams {gas}")),
        ("/v1.1/Observations?$top=2000".to_owned(), "Observations of restricted Datastreams".to_owned()),
        (format!("/v1.1/Sensors({gas_kind})"), "gas".to_owned()),
        ("/v1.1/Things?$top=2000".to_owned(), "Things with restricted sensors".to_owned()),
    ] {
        let url = format!("{base}{path}");
        audited(&base, "planning office", &resource, true, async {
            let (status, body) = get(&url, pl.as_deref()).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
        })
        .await;
    }
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentication_is_refused_and_audited_and_bearer_is_case_insensitive() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let base = server.url();
    let url = format!("{base}/api/layers");
    for bad in ["Bearer wrong-token", "Basic dXNlcjpwYXNz", "Bearer", "token-without-scheme"] {
        audited(&base, "unauthenticated", "/api/layers", false, async {
            let (status, body) = get(&url, Some(bad)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}: {body}");
        })
        .await;
    }
    let url_token = format!("{base}/api/layers?access_token=guess");
    audited(&base, "unauthenticated", "/api/layers", false, async {
        assert_eq!(get(&url_token, None).await.0, StatusCode::UNAUTHORIZED);
    })
    .await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let (status, layers) = get(&url, Some(&format!("{scheme} {PLANNER}"))).await;
        assert_eq!(status, StatusCode::OK, "{scheme}");
        assert_eq!(layers["camera_layers"][0]["count"], 20, "{scheme}: the planner's catalog");
    }
    server.stop().unwrap();
}

/// A minimal WebSocket client over a raw socket, to send what a well-behaved library cannot.
struct RawWs(TcpStream);

impl RawWs {
    fn connect(addr: SocketAddr) -> RawWs {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        write!(
            s,
            "GET /live HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        RawWs(s)
    }

    /// A masked client frame: `first` is FIN/RSV/opcode; `declared` overrides the payload length.
    fn send(&mut self, first: u8, payload: &[u8], declared: Option<u64>) {
        let len = declared.unwrap_or(payload.len() as u64);
        let mut f = vec![first];
        match len {
            0..=125 => f.push(0x80 | len as u8),
            126..=65535 => {
                f.push(0x80 | 126);
                f.extend((len as u16).to_be_bytes());
            }
            _ => {
                f.push(0x80 | 127);
                f.extend(len.to_be_bytes());
            }
        }
        let mask = [1u8, 2, 3, 4];
        f.extend(mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        let _ = self.0.write_all(&f);
    }

    /// Reads frames until a close frame or the end: the text messages and the close code.
    fn until_close(&mut self) -> (Vec<String>, Option<u16>) {
        let mut texts = Vec::new();
        loop {
            let mut h = [0u8; 2];
            if self.0.read_exact(&mut h).is_err() {
                return (texts, None);
            }
            let mut len = (h[1] & 0x7F) as u64;
            if len == 126 {
                let mut b = [0u8; 2];
                self.0.read_exact(&mut b).unwrap();
                len = u16::from_be_bytes(b) as u64;
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.0.read_exact(&mut b).unwrap();
                len = u64::from_be_bytes(b);
            }
            let mut payload = vec![0u8; len as usize];
            self.0.read_exact(&mut payload).unwrap();
            match h[0] & 0x0F {
                0x1 => texts.push(String::from_utf8(payload).unwrap()),
                0x8 => return (texts, (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]))),
                _ => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_websocket_frames_close_with_the_right_code_after_an_error() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path())).unwrap();
    let addr = server.addr;
    // (what, first header byte, payload, declared length, expected close code)
    type Case = (&'static str, u8, Vec<u8>, Option<u64>, u16);
    let cases: Vec<Case> = vec![
        ("a message over 64 KiB", 0x81, vec![b' '; 1000], Some(10_000_000), 1009),
        ("invalid UTF-8 in a text frame", 0x81, vec![0xFF, 0xFE, 0xFD], None, 1007),
        ("reserved bits set", 0xC1, b"{}".to_vec(), None, 1002),
        ("an unknown opcode", 0x83, b"{}".to_vec(), None, 1002),
    ];
    let results = tokio::task::spawn_blocking(move || {
        cases
            .into_iter()
            .map(|(what, first, payload, declared, code)| {
                let mut ws = RawWs::connect(addr);
                ws.send(first, &payload, declared);
                (what, code, ws.until_close())
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (what, code, (texts, closed)) in results {
        assert_eq!(closed, Some(code), "{what}: {texts:?}");
        assert!(texts.iter().any(|t| t.contains("\"type\":\"error\"")), "{what}: an error message first: {texts:?}");
    }

    // Subscriptions are bounded: 5,000 whole-world tiles are refused, the connection lives on.
    let subscribe = format!(r#"{{"type":"subscribe","tiles":[{}]}}"#, vec!["\"0/0/0\""; 5000].join(","));
    let texts = tokio::task::spawn_blocking(move || {
        let mut ws = RawWs::connect(addr);
        ws.send(0x81, subscribe.as_bytes(), None);
        ws.send(0x81, br#"{"type":"ping","id":3}"#, None);
        ws.send(0x88, &1000u16.to_be_bytes(), None);
        ws.until_close().0
    })
    .await
    .unwrap();
    assert!(texts.iter().any(|t| t.contains("at most")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("pong")), "the connection stays: {texts:?}");
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_leave_one_observation_per_datastream_and_time() {
    let data = tempfile::tempdir().unwrap();
    for _ in 0..4 {
        let server = ServerHandle::start(config(data.path())).unwrap();
        tokio::time::sleep(Duration::from_millis(1200)).await;
        server.stop().unwrap();
    }
    let db = rusqlite::Connection::open(data.path().join("history.sqlite")).unwrap();
    let rows: i64 = db.query_row("SELECT COUNT(*) FROM observations", [], |r| r.get(0)).unwrap();
    let duplicated: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM (SELECT 1 FROM observations GROUP BY datastream, time HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(rows >= 3000, "history was written: {rows} rows");
    assert_eq!(duplicated, 0, "{duplicated} (datastream, time) groups are duplicated");
}
