//! The viewer's systems in a headless app (MinimalPlugins, no window, no GPU): TilesPlugin
//! streams a real b3dm sample from disk, builds meshes and shows the selection.

mod common;

use bevy::prelude::*;
use citytwin::viewer::{Fetcher, GeoCamera, TilePart, TilesPlugin, TilesSettings, Tilesets};

fn app(url: String) -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, AssetPlugin::default(), bevy::mesh::MeshPlugin))
        .init_asset::<StandardMaterial>()
        .init_asset::<Image>()
        .insert_resource(TilesSettings { urls: vec![url], max_sse: 16.0, cache_bytes: 256 << 20, max_requests: 8 })
        .insert_resource(Fetcher::new(citytwin::platform::Runtime::new().unwrap()))
        .insert_resource(GeoCamera::looking_at(glam::DVec3::new(6_378_137.0, 0.0, 0.0), 100.0))
        .add_plugins(TilesPlugin);
    app
}

fn run_until(app: &mut App, mut done: impl FnMut(&mut App) -> bool) {
    for _ in 0..2000 {
        app.update();
        if done(app) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!("did not settle");
}

#[test]
fn tiles_plugin_streams_builds_and_shows_a_b3dm_sample() {
    let Some(data) = common::data_dir() else { return };
    let path = data.join("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.without_dragon_high.json");
    let mut app = app(common::file_url(&path));
    // Once the root is known, look at it from close by.
    run_until(&mut app, |app| app.world().resource::<Tilesets>().0[0].tileset.root().is_some());
    let (center, radius) = {
        let sets = app.world().resource::<Tilesets>();
        let t = &sets.0[0].tileset;
        let info = t.tile(t.root().unwrap()).unwrap();
        (info.bounds.center(), info.bounds.radius())
    };
    app.insert_resource(GeoCamera::looking_at(center, radius * 0.3));
    run_until(&mut app, |app| app.world().resource::<Tilesets>().settled(5));
    let (shown, urls) = {
        let t = &app.world().resource::<Tilesets>().0[0];
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        assert!(!t.shown.is_empty(), "something is shown");
        let urls: Vec<String> =
            t.shown.iter().map(|k| t.tileset.tile(*k).unwrap().content_urls[0].to_owned()).collect();
        (t.shown.clone(), urls)
    };
    let mut q = app.world_mut().query::<(&TilePart, &Visibility, &Mesh3d)>();
    let parts: Vec<_> = q.iter(app.world()).map(|(p, v, m)| (p.key, *v, m.0.clone())).collect();
    assert!(!parts.is_empty());
    for (key, vis, mesh) in &parts {
        assert_eq!(*vis == Visibility::Visible, shown.contains(key), "visibility follows the shown selection");
        let meshes = app.world().resource::<Assets<Mesh>>();
        assert!(meshes.get(mesh).is_some_and(|m| m.count_vertices() > 100), "a real mesh");
    }
    // The near view refines: the medium dragon replaces the low one.
    assert!(urls.iter().any(|u| u.ends_with("dragon_medium.b3dm")), "{urls:?}");
}

/// LivePlugin on a real data server: connects, subscribes around the camera, receives readings;
/// when the server goes away it reports the loss and retries; when the server is back (restarted,
/// with alarms raised while the viewer was away) it reconnects and receives each of them once.
#[test]
fn live_plugin_follows_the_sensor_stream_and_survives_a_server_restart() {
    use citytwin::viewer::{Bookmark, Live, LivePlugin, LiveSettings, LiveStatus};
    let data = tempfile::tempdir().unwrap();
    let mut config = citytwin_server::Config {
        listen: ([127, 0, 0, 1], 0).into(),
        data_dir: data.path().into(),
        ..Default::default()
    };
    config.sensors.count = 3000;
    let [lon, lat] = config.sensors.center_deg;
    let server = citytwin_server::ServerHandle::start(config.clone()).unwrap();
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .insert_resource(citytwin::platform::Runtime::new().unwrap())
        .insert_resource(LiveSettings { url: Some(format!("ws://{}/live", server.addr)) })
        .insert_resource(GeoCamera::at(&Bookmark {
            lon_deg: lon,
            lat_deg: lat,
            height_m: 800.0,
            heading_deg: 0.0,
            pitch_deg: -90.0,
        }))
        .add_plugins(LivePlugin);
    run_until(&mut app, |app| app.world().resource::<Live>().updates > 0);
    let live = app.world().resource::<Live>();
    assert_eq!(live.status, LiveStatus::Open);
    // 3.2 km square around the centre of a 3 km-radius scatter: a part of the sensors, not all.
    assert!(live.subscribed > 100 && live.subscribed < 3000, "{} sensors", live.subscribed);
    assert!(live.readings.len() <= live.subscribed && !live.readings.is_empty());
    assert_eq!(live.bad_messages, 0);

    let addr = server.addr;
    let ours: Vec<u32> = live.readings.keys().copied().take(3).collect();
    server.stop().unwrap();
    run_until(&mut app, |app| matches!(app.world().resource::<Live>().status, LiveStatus::Retrying { .. }));

    // While it is down, three alarms of sensors in the viewer's area go into the history.
    let store = citytwin_server::store::Store::open(&data.path().join("history.sqlite")).unwrap();
    let after = store.last_alarm_seq().unwrap();
    let now_ms = citytwin_server::sensors::live::now_ms();
    let raised: Vec<citytwin::protocol::live::AlarmEvent> = ours
        .iter()
        .enumerate()
        .map(|(i, sensor)| citytwin::protocol::live::AlarmEvent {
            seq: after + 1 + i as u64,
            sensor: *sensor,
            kind: citytwin::protocol::sensors::SensorKind::Noise,
            level: citytwin::protocol::sensors::AlarmLevel::Alarm,
            previous: citytwin::protocol::sensors::AlarmLevel::Normal,
            value: 99.0,
            time_ms: now_ms,
        })
        .collect();
    store.insert_alarms(&raised).unwrap();
    drop(store);
    config.listen = addr;
    let server = citytwin_server::ServerHandle::start(config).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while app.world().resource::<Live>().alarms.iter().filter(|a| a.seq > after).count() < raised.len() {
        assert!(std::time::Instant::now() < deadline, "the alarms raised while away did not arrive");
        app.update();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let live = app.world().resource::<Live>();
    assert_eq!(live.status, LiveStatus::Open);
    let got: Vec<u64> = live.alarms.iter().rev().map(|a| a.seq).filter(|s| *s > after).collect();
    let want: Vec<u64> = raised.iter().map(|a| a.seq).collect();
    assert_eq!(got[..want.len()], want[..], "each alarm raised while away, once, in order");
    server.stop().unwrap();
}
