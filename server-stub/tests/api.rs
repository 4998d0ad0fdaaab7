//! The data server over real sockets on 127.0.0.1: static tiles, the catalog, SensorThings,
//! history across restarts, roles and the audit log, cameras, bad input, health and metrics.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use citytwin_protocol::live::AlarmEvent;
use citytwin_protocol::sensors::{AlarmLevel, SensorKind};
use citytwin_server::auth::Role;
use citytwin_server::config::{TilesetConfig, TokenConfig};
use citytwin_server::store::Store;
use citytwin_server::{Config, ServerHandle};
use reqwest::StatusCode;
use serde_json::Value;

const PLANNER: &str = "planner-token-0000000001";
const OPERATOR: &str = "operator-token-000000001";

fn config(data: &Path, tiles: Option<&Path>) -> Config {
    let mut c = Config { listen: ([127, 0, 0, 1], 0).into(), data_dir: data.into(), ..Default::default() };
    c.sensors.count = 2000;
    c.sensors.history_interval_s = 1;
    // Every sensor reports each second, so the history (one row per new reading) grows each second.
    c.sensors.report_interval_s = [1, 1];
    c.cameras.count = 20;
    c.tokens = vec![
        TokenConfig { token: PLANNER.into(), role: Role::Planner, name: "planning office".into() },
        TokenConfig { token: OPERATOR.into(), role: Role::Operator, name: "control room".into() },
    ];
    if let Some(dir) = tiles {
        c.tilesets.push(TilesetConfig {
            id: "city".into(),
            name: "City".into(),
            dir: dir.into(),
            entry: "tileset.json".into(),
        });
    }
    c
}

fn tiles_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let json = format!(
        "{{\"asset\":{{\"version\":\"1.1\"}},\"geometricError\":1,\"root\":{{\"boundingVolume\":{{\"sphere\":[0,0,0,1]}},\"geometricError\":0,\"extras\":\"{}\"}}}}",
        "x".repeat(4000)
    );
    std::fs::write(d.path().join("tileset.json"), json).unwrap();
    std::fs::write(d.path().join("a.glb"), vec![7u8; 3000]).unwrap();
    std::fs::write(d.path().join("b.b3dm"), vec![8u8; 100]).unwrap();
    std::fs::create_dir(d.path().join("sub")).unwrap();
    std::fs::write(d.path().join("sub/0.0.0.subtree"), vec![9u8; 64]).unwrap();
    d
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().no_brotli().timeout(Duration::from_secs(20)).build().unwrap()
}

async fn get(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut r = client().get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap()
}

async fn json(url: &str, token: Option<&str>) -> (StatusCode, Value) {
    let r = get(url, token).await;
    let status = r.status();
    let body = r.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or_else(|_| panic!("{url}: not JSON: {body}")))
}

/// Raw HTTP/1.1 over TCP, for paths an HTTP client would normalise.
fn raw(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_tiles_cache_range_compress_and_stay_inside_their_directory() {
    let (data, tiles) = (tempfile::tempdir().unwrap(), tiles_dir());
    let server = ServerHandle::start(config(data.path(), Some(tiles.path()))).unwrap();
    let base = server.url();

    let r = get(&format!("{base}/tiles/city/tileset.json"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r =
        client().get(format!("{base}/tiles/city/tileset.json")).header("If-None-Match", &etag).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers()["etag"], etag.as_str(), "a 304 repeats the validator it matched");
    let last_modified = get(&format!("{base}/tiles/city/tileset.json"), None).await.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = client()
        .get(format!("{base}/tiles/city/tileset.json"))
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "Last-Modified ({last_modified}) revalidates too");
    let r = client()
        .get(format!("{base}/tiles/city/tileset.json"))
        .header("If-None-Match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    for (path, ct) in [
        ("a.glb", "model/gltf-binary"),
        ("b.b3dm", "application/octet-stream"),
        ("sub/0.0.0.subtree", "application/octet-stream"),
    ] {
        let r = get(&format!("{base}/tiles/city/{path}"), None).await;
        assert_eq!((r.status(), r.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, ct), "{path}");
    }
    // A range asked for together with compression: the bytes come as stored, never re-encoded. The
    // same request without the range is compressed, so the assertion can fail.
    let ranged = |range: Option<&str>| {
        let mut r = client().get(format!("{base}/tiles/city/tileset.json")).header("Accept-Encoding", "gzip");
        if let Some(range) = range {
            r = r.header("Range", range);
        }
        r.send()
    };
    assert_eq!(ranged(None).await.unwrap().headers()["content-encoding"], "gzip");
    let r = ranged(Some("bytes=10-19")).await.unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert!(r.headers()["content-range"].to_str().unwrap().starts_with("bytes 10-19/"));
    assert!(r.headers().get("content-encoding").is_none(), "ranges are never re-encoded");
    let stored = std::fs::read(tiles.path().join("tileset.json")).unwrap();
    assert_eq!(r.bytes().await.unwrap(), stored[10..20], "the stored bytes 10–19");
    let r = client().get(format!("{base}/tiles/city/a.glb")).header("Range", "bytes=10-19").send().await.unwrap();
    assert_eq!(
        (r.status(), r.headers()["content-range"].to_str().unwrap()),
        (StatusCode::PARTIAL_CONTENT, "bytes 10-19/3000")
    );
    assert_eq!(r.bytes().await.unwrap().len(), 10);

    for enc in ["gzip", "br"] {
        let r = client()
            .get(format!("{base}/tiles/city/tileset.json"))
            .header("Accept-Encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], enc);
        assert!(r.bytes().await.unwrap().len() < 1000, "{enc} compresses");
    }
    let r = client()
        .get(format!("{base}/tiles/city/tileset.json"))
        .header("Origin", "https://viewer.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");

    std::fs::write(data.path().join("secret.txt"), "TOP SECRET").unwrap();
    let secret_rel = format!("{}/secret.txt", data.path().display());
    for attack in [
        "/tiles/city/../../../../../../etc/passwd".to_owned(),
        "/tiles/city/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/tiles/city/..%2f..%2f..%2f..%2fetc%2fpasswd".to_owned(),
        "/tiles/city/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc/passwd".to_owned(),
        format!("/tiles/city/..{secret_rel}"),
        "/tiles/city//etc/passwd".to_owned(),
    ] {
        let response = raw(server.addr, &attack);
        let status = response.split_whitespace().nth(1).unwrap_or("").to_owned();
        assert!(status.starts_with('4'), "{attack}: {status}");
        assert!(!response.contains("root:") && !response.contains("TOP SECRET"), "{attack} escaped");
    }
    server.stop().unwrap();
}

#[test]
fn a_bad_configuration_is_refused_at_start() {
    let data = tempfile::tempdir().unwrap();
    let mut c = config(data.path(), None);
    c.tokens.push(TokenConfig { token: "short".into(), role: Role::Planner, name: "someone".into() });
    let err = ServerHandle::start(c).err().expect("refused");
    assert!(err.to_string().contains("shorter than 16"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_and_cameras_by_role_with_an_audit_log() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path(), None)).unwrap();
    let base = server.url();

    let (_, public) = json(&format!("{base}/api/layers"), None).await;
    let (_, planner) = json(&format!("{base}/api/layers"), Some(PLANNER)).await;
    let layer_ids = |c: &Value| {
        c["sensor_layers"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert!(!layer_ids(&public).contains(&"sensors/gas_pressure".to_owned()));
    assert!(layer_ids(&planner).contains(&"sensors/gas_pressure".to_owned()));
    assert!(public["camera_layers"].as_array().unwrap().is_empty());
    assert_eq!(planner["camera_layers"][0]["count"], 20);
    assert_eq!(public["scenarios"].as_array().unwrap().len(), 3, "the drills");

    let (status, body) = json(&format!("{base}/api/cameras"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["error"]["message"].as_str().unwrap().contains("planner"));
    let (status, _) = json(&format!("{base}/api/layers"), Some("not-a-real-token-at-all")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, cams) = json(&format!("{base}/api/cameras?limit=5"), Some(PLANNER)).await;
    assert_eq!(
        (status, cams["count"].as_u64(), cams["cameras"].as_array().unwrap().len()),
        (StatusCode::OK, Some(20), 5)
    );
    let (status, _) = json(&format!("{base}/api/cameras?bbox=1,2"), Some(PLANNER)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Clusters: every camera counted once; a cell too small to be bounded is refused.
    let (status, clusters) = json(&format!("{base}/api/cameras?cluster_deg=1"), Some(PLANNER)).await;
    let counts: Vec<u64> =
        clusters["clusters"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).collect();
    assert_eq!((status, counts), (StatusCode::OK, vec![20]));
    for bad in ["0", "-1", "NaN", "x"] {
        let (status, _) = json(&format!("{base}/api/cameras?cluster_deg={bad}"), Some(PLANNER)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "cluster_deg={bad}");
    }
    assert_eq!(get(&format!("{base}/api/cameras/3/snapshot.jpg"), Some(PLANNER)).await.status(), StatusCode::FORBIDDEN);
    let r = get(&format!("{base}/api/cameras/3/snapshot.jpg"), Some(OPERATOR)).await;
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(&r.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);
    assert_eq!(json(&format!("{base}/api/cameras/999/snapshot.jpg"), Some(OPERATOR)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(json(&format!("{base}/api/cameras/abc/snapshot.jpg"), Some(OPERATOR)).await.0, StatusCode::BAD_REQUEST);

    // MJPEG: at least two frames, a second apart, through a query-string token (as an <img> would).
    let mut r = client().get(format!("{base}/api/cameras/4/feed.mjpg?access_token={OPERATOR}")).send().await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("multipart/x-mixed-replace"));
    let mut seen = Vec::new();
    let started = std::time::Instant::now();
    while seen.windows(7).filter(|w| w == b"--frame").count() < 2 && started.elapsed() < Duration::from_secs(10) {
        seen.extend_from_slice(&r.chunk().await.unwrap().unwrap());
    }
    assert!(seen.windows(7).filter(|w| w == b"--frame").count() >= 2, "two MJPEG frames");
    drop(r);

    let (_, audit) = json(&format!("{base}/api/audit"), Some(OPERATOR)).await;
    let entries = audit["entries"].as_array().unwrap();
    let has = |who: &str, resource: &str, allowed: bool| {
        entries
            .iter()
            .any(|e| e["who"] == who && e["resource"].as_str().unwrap().contains(resource) && e["allowed"] == allowed)
    };
    assert!(has("anonymous", "cameras", false));
    assert!(has("planning office", "camera 3", false));
    assert!(has("control room", "camera 3", true));
    assert!(has("control room", "camera 4", true));
    assert_eq!(json(&format!("{base}/api/audit"), Some(PLANNER)).await.0, StatusCode::FORBIDDEN);
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensorthings_queries_page_filter_expand_and_hide_restricted_sensors() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerHandle::start(config(data.path(), None)).unwrap();
    let sta = format!("{}/v1.1", server.url());

    let (_, root) = json(&sta, None).await;
    assert_eq!(root["value"].as_array().unwrap().len(), 6);

    let (_, things) = json(&format!("{sta}/Things?$top=10&$count=true"), None).await;
    let public_count = things["@iot.count"].as_u64().unwrap();
    assert_eq!(things["value"].as_array().unwrap().len(), 10);
    let next = things["@iot.nextLink"].as_str().unwrap();
    assert!(next.contains("$skip=10") && next.contains("$top=10"), "{next}");
    let (_, page2) = json(next, None).await;
    assert_ne!(page2["value"][0]["@iot.id"], things["value"][0]["@iot.id"]);
    let (_, planner) = json(&format!("{sta}/Things?$top=1&$count=true"), Some(PLANNER)).await;
    let all = planner["@iot.count"].as_u64().unwrap();
    assert!(all == 2000 && public_count < all, "public {public_count} of {all}");
    assert!(things["value"].as_array().unwrap().iter().all(|t| t["properties"]["restricted"] == false));

    let (_, gas) =
        json(&format!("{sta}/Things?$filter=properties/kind%20eq%20'gas_pressure'&$top=1"), Some(PLANNER)).await;
    let gas_id = gas["value"][0]["@iot.id"].as_u64().unwrap();
    assert_eq!(json(&format!("{sta}/Things({gas_id})"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(json(&format!("{sta}/Things({gas_id})"), Some(PLANNER)).await.0, StatusCode::OK);

    let (_, pm) = json(&format!("{sta}/Things?$filter=properties/kind%20eq%20'pm25'%20and%20@iot.id%20lt%20500&$orderby=@iot.id%20desc&$top=3"), None).await;
    let ids: Vec<u64> = pm["value"].as_array().unwrap().iter().map(|t| t["@iot.id"].as_u64().unwrap()).collect();
    assert!(ids.len() == 3 && ids.windows(2).all(|w| w[0] > w[1]) && ids[0] < 500, "{ids:?}");
    assert!(pm["value"].as_array().unwrap().iter().all(|t| t["properties"]["kind"] == "pm25"));

    // geo.intersects around the first Location.
    let (_, loc) = json(&format!("{sta}/Locations(1)"), None).await;
    let (x, y) =
        (loc["location"]["coordinates"][0].as_f64().unwrap(), loc["location"]["coordinates"][1].as_f64().unwrap());
    let poly = format!(
        "POLYGON(({} {}, {} {}, {} {}, {} {}, {} {}))",
        x - 1e-4,
        y - 1e-4,
        x + 1e-4,
        y - 1e-4,
        x + 1e-4,
        y + 1e-4,
        x - 1e-4,
        y + 1e-4,
        x - 1e-4,
        y - 1e-4
    );
    let filter = format!("geo.intersects(Locations/location,%20geography'{}')", poly.replace(' ', "%20"));
    let (status, near) = json(&format!("{sta}/Things?$filter={filter}&$expand=Locations,Datastreams"), None).await;
    assert_eq!(status, StatusCode::OK, "{near}");
    let first = near["value"].as_array().unwrap().iter().find(|t| t["@iot.id"] == 1).expect("thing 1 is inside");
    assert_eq!(first["Locations"][0]["location"], loc["location"]);
    assert_eq!(first["Datastreams"][0]["@iot.id"], 1);

    // Observations: the recorder writes every second.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, obs) =
        json(&format!("{sta}/Datastreams(1)/Observations?$orderby=phenomenonTime%20desc&$top=2&$count=true"), None)
            .await;
    assert_eq!(status, StatusCode::OK, "{obs}");
    assert!(obs["@iot.count"].as_u64().unwrap() >= 2, "{obs}");
    let first_obs = &obs["value"][0];
    assert!(first_obs["result"].is_number() && first_obs["phenomenonTime"].as_str().unwrap().ends_with('Z'));
    let (_, ds) = json(&format!("{sta}/Datastreams(1)?$expand=Thing,Sensor,ObservedProperty,Observations"), None).await;
    assert_eq!(ds["Thing"]["@iot.id"], 1);
    assert!(!ds["Observations"].as_array().unwrap().is_empty());
    let (_, filtered) =
        json(&format!("{sta}/Observations?$filter=result%20ge%200%20and%20Datastream/@iot.id%20eq%201&$top=1"), None)
            .await;
    assert_eq!(filtered["value"].as_array().unwrap().len(), 1);

    for (bad, status) in [
        ("Things?$top=abc", StatusCode::BAD_REQUEST),
        ("Things?$filter=name%20eq", StatusCode::BAD_REQUEST),
        ("Things?$expand=Observations", StatusCode::BAD_REQUEST),
        ("Things?$select=name", StatusCode::BAD_REQUEST),
        (
            "Observations?$filter=geo.intersects(location,%20geography'POLYGON((0%200,1%200,1%201,0%200))')",
            StatusCode::BAD_REQUEST,
        ),
        ("Things(abc)", StatusCode::BAD_REQUEST),
        ("Things(999999)", StatusCode::NOT_FOUND),
        ("Widgets", StatusCode::NOT_FOUND),
        ("Things(1)/Observations", StatusCode::BAD_REQUEST),
    ] {
        let (got, body) = json(&format!("{sta}/{bad}"), None).await;
        assert_eq!(got, status, "{bad}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.len() > 5), "{bad}: {body}");
    }
    let (_, audit) = json(&format!("{}/api/audit", server.url()), Some(OPERATOR)).await;
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["who"] == "anonymous" && e["allowed"] == false));
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_alarm_numbers_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    // An alarm numbered 41 from an earlier run, so the sequence is not 0 and a reset would show.
    let earlier = AlarmEvent {
        seq: 41,
        sensor: 3,
        kind: SensorKind::Noise,
        level: AlarmLevel::Alarm,
        previous: AlarmLevel::Normal,
        value: 90.0,
        time_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64,
    };
    Store::open(&data.path().join("history.sqlite")).unwrap().insert_alarms(&[earlier]).unwrap();
    let server = ServerHandle::start(config(data.path(), None)).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, before) = json(&format!("{}/v1.1/Observations?$count=true&$top=1", server.url()), None).await;
    let n_before = before["@iot.count"].as_u64().unwrap();
    assert!(n_before >= 1000, "{before}");
    let (_, health) = json(&format!("{}/healthz", server.url()), None).await;
    let seq_before = health["last_alarm_seq"].as_u64().unwrap();
    assert!(seq_before >= 41, "the sequence continues from the stored alarms: {health}");
    server.stop().unwrap();

    let server = ServerHandle::start(config(data.path(), None)).unwrap();
    let (_, after) = json(&format!("{}/v1.1/Observations?$count=true&$top=1", server.url()), None).await;
    assert!(after["@iot.count"].as_u64().unwrap() >= n_before, "history kept across the restart");
    let (_, health) = json(&format!("{}/healthz", server.url()), None).await;
    assert!(health["last_alarm_seq"].as_u64().unwrap() >= seq_before);
    let metrics = get(&format!("{}/metrics", server.url()), None).await.text().await.unwrap();
    assert!(metrics.contains("citytwin_sensors 2000"), "{metrics}");
    assert!(metrics.contains("citytwin_http_requests_total{class=\"2xx\"}"), "{metrics}");
    let (status, body) = json(&format!("{}/no/such/thing", server.url()), None).await;
    assert_eq!((status, body["error"]["code"].as_u64()), (StatusCode::NOT_FOUND, Some(404)));
    server.stop().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_client_is_served_at_the_root_and_nothing_else_of_its_directory() {
    let (data, web) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(web.path().join("index.html"), "<!doctype html><title>citytwin</title>").unwrap();
    std::fs::write(web.path().join("Cargo.toml"), "[package]").unwrap();
    std::fs::create_dir(web.path().join("pkg")).unwrap();
    let wasm = [b"\0asm".as_slice(), &[1, 0, 0, 0], &[0u8; 5000]].concat();
    std::fs::write(web.path().join("pkg/citytwin_bg.wasm"), &wasm).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&wasm).unwrap();
    std::fs::write(web.path().join("pkg/citytwin_bg.wasm.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(web.path().join("pkg/citytwin.js"), "export default 1;").unwrap();
    let mut c = config(data.path(), None);
    c.web_root = Some(web.path().into());
    let server = ServerHandle::start(c).unwrap();
    let base = server.url();

    for page in ["/", "/index.html"] {
        let r = get(&format!("{base}{page}"), None).await;
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        assert!(r.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
        assert!(r.text().await.unwrap().contains("<title>citytwin"));
    }
    let js = get(&format!("{base}/pkg/citytwin.js"), None).await;
    assert_eq!(js.headers()[reqwest::header::CONTENT_TYPE], "text/javascript");
    // The .wasm goes out as stored gzip to browsers that accept it, as is to those that don't.
    let r =
        client().get(format!("{base}/pkg/citytwin_bg.wasm")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[reqwest::header::CONTENT_TYPE], "application/wasm");
    assert_eq!(r.headers()[reqwest::header::CONTENT_ENCODING], "gzip");
    let body = r.bytes().await.unwrap();
    assert!(body.len() < 200, "precompressed, {} bytes", body.len());
    let plain = get(&format!("{base}/pkg/citytwin_bg.wasm"), None).await.bytes().await.unwrap();
    assert_eq!(plain.as_ref(), wasm.as_slice());
    // The API still answers; the rest of the web root is not exposed.
    assert_eq!(get(&format!("{base}/api/layers"), None).await.status(), StatusCode::OK);
    for path in ["/Cargo.toml", "/pkg/../Cargo.toml", "/pkg/%2e%2e/Cargo.toml", "/nothing"] {
        let answer = raw(server.addr, path);
        assert!(answer.starts_with("HTTP/1.1 404") || answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(!answer.contains("[package]"), "{path} leaked a file");
    }
}
