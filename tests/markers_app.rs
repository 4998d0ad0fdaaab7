//! Live sensor markers in a headless app (no GPU) against a real data server: sites and readings
//! from the live stream become chunked markers, clusters far and sensors near; readings recolour
//! them; sensor layers switch them per view; the gas pipelines and the CCTV cameras (drawn as
//! frusta) reach a planner's token and never the public.

mod common;

use std::time::{Duration, Instant};

use bevy::prelude::*;
use citytwin::markers::ChunkKey;
use citytwin::protocol::sensors::SensorKind;
use citytwin::viewer::catalog::{CatalogPlugin, CatalogSource, CatalogStatus, LayerSource};
use citytwin::viewer::cctv::{CameraChosen, CameraSymbols, Cctv, CctvPlugin, ChosenCamera, Frusta};
use citytwin::viewer::markers::{
    History, MarkerBatch, MarkerChunk, MarkerViews, MarkersPlugin, SelectedSensor, SensorMarkers, Symbol,
};
use citytwin::viewer::{
    Bookmark, DataServer, FloatingOrigin, GeoCamera, LayerViews, Live, LivePlugin, LiveSettings, MainView, SensorChosen,
};

fn run_until(app: &mut App, what: &str, mut done: impl FnMut(&mut App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(app) {
        if Instant::now() > deadline {
            let live = app.world().resource::<Live>();
            let placed = app.world().resource::<SensorMarkers>().chunks.sensors();
            panic!("timed out waiting for {what}: {:?}, {} subscribed, {placed} placed", live.status, live.subscribed);
        }
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn chunks(app: &mut App) -> Vec<(ChunkKey, usize, Vec<Entity>)> {
    let mut q = app.world_mut().query::<(&MarkerChunk, &MarkerBatch, &MarkerViews)>();
    q.iter(app.world()).map(|(c, b, v)| (c.0, b.instances.len(), v.0.clone())).collect()
}

const PLANNER_TOKEN: &str = "planner-secret-0123";
const OPERATOR_TOKEN: &str = "operator-secret-0123";

/// A data server of 3,000 sensors reporting every 1–3 s (history every second), which knows a
/// planner's token; the directory holds its history.
fn server() -> (tempfile::TempDir, citytwin_server::ServerHandle, [f64; 2]) {
    server_with_cameras(1000)
}

fn server_with_cameras(cameras: usize) -> (tempfile::TempDir, citytwin_server::ServerHandle, [f64; 2]) {
    let data = tempfile::tempdir().unwrap();
    let mut config = common::server_config(data.path());
    config.cameras.count = cameras;
    config.sensors.count = 3000;
    config.sensors.report_interval_s = [1, 3];
    config.sensors.history_interval_s = 1;
    config.tokens.push(citytwin_server::config::TokenConfig {
        token: PLANNER_TOKEN.into(),
        role: citytwin_server::auth::Role::Planner,
        name: "a planner".into(),
    });
    config.tokens.push(citytwin_server::config::TokenConfig {
        token: OPERATOR_TOKEN.into(),
        role: citytwin_server::auth::Role::Operator,
        name: "an operator".into(),
    });
    let centre = config.sensors.center_deg;
    (data, citytwin_server::ServerHandle::start(config).unwrap(), centre)
}

/// A headless viewer with the live, catalog and markers plugins, 2.5 km above `centre`, presenting
/// `token`; returns it with its main view, once every sensor its subscription matched is placed.
fn viewer(server: &citytwin_server::ServerHandle, centre: [f64; 2], token: Option<&str>) -> (App, Entity) {
    let data_server = DataServer::new(&format!("http://{}", server.addr), token.map(str::to_owned));
    let eye =
        Bookmark { lon_deg: centre[0], lat_deg: centre[1], height_m: 2_500.0, heading_deg: 0.0, pitch_deg: -90.0 };
    let cam = GeoCamera::at(&eye);
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, AssetPlugin::default(), bevy::mesh::MeshPlugin))
        .init_asset::<StandardMaterial>()
        .init_asset::<Image>()
        .insert_resource(citytwin::platform::Runtime::new().unwrap())
        .insert_resource(LiveSettings { url: Some(data_server.live_url()) })
        .insert_resource(CatalogSource { server: data_server.clone(), stream_tilesets: false, sensors_shown: true })
        .insert_resource(data_server)
        .insert_resource(FloatingOrigin::at(cam.position_ecef))
        .insert_resource(cam)
        .add_plugins((LivePlugin, CatalogPlugin, MarkersPlugin, CctvPlugin));
    let main_view = app.world_mut().spawn(MainView).id();
    run_until(&mut app, "the sites", |app| {
        let live = app.world().resource::<Live>();
        live.subscribed > 0 && app.world().resource::<SensorMarkers>().chunks.sensors() == live.subscribed
    });
    app.update();
    (app, main_view)
}

#[test]
fn a_planners_token_shows_the_gas_pipelines_the_public_never_gets() {
    let (_data, server, centre) = server();
    let (mut planner, main_view) = viewer(&server, centre, Some(PLANNER_TOKEN));
    run_until(&mut planner, "the gas layer's views", |app| {
        chunks(app).iter().any(|(k, _, views)| k.kind == SensorKind::GasPressure && views.contains(&main_view))
    });
    let (mut public, _) = viewer(&server, centre, None);
    assert!(chunks(&mut public).iter().all(|(k, _, _)| k.kind != SensorKind::GasPressure));
    let planner_sensors = planner.world().resource::<Live>().subscribed;
    assert!(public.world().resource::<Live>().subscribed < planner_sensors, "the public sees fewer");
    server.stop().unwrap();
}

#[test]
fn cameras_reach_planners_as_frusta_and_never_the_public() {
    let (_data, server, centre) = server();
    let (mut planner, _) = viewer(&server, centre, Some(PLANNER_TOKEN));
    run_until(&mut planner, "the frusta", |app| {
        let mut q = app.world_mut().query_filtered::<Entity, With<Frusta>>();
        q.iter(app.world()).next().is_some()
    });
    let cameras = planner.world().resource::<Cctv>().cameras.len();
    assert!(cameras > 0 && cameras <= 2_000, "{cameras} cameras");
    let mut q = planner.world_mut().query_filtered::<&Mesh3d, With<Frusta>>();
    let mesh = q.single(planner.world()).unwrap().0.clone();
    let vertices = planner.world().resource::<Assets<Mesh>>().get(&mesh).unwrap().count_vertices();
    assert_eq!(vertices, cameras * 16, "eight edges per camera");
    let mut q = planner.world_mut().query_filtered::<&Visibility, With<Frusta>>();
    assert_eq!(q.single(planner.world()).unwrap(), Visibility::Inherited, "the camera layer is shown");
    // A symbol at each camera's eye, drawn in the main view.
    let (symbol, instances, views) = camera_symbols(&mut planner);
    assert_eq!((symbol, instances), (Symbol::Camera, cameras));
    assert_eq!(views.len(), 1);
    // The public: no camera layer in its catalog, nothing fetched, nothing drawn.
    let (mut public, _) = viewer(&server, centre, None);
    run_until(&mut public, "the catalog", |app| {
        matches!(app.world().resource::<CatalogStatus>(), CatalogStatus::Loaded(_))
    });
    for _ in 0..20 {
        public.update();
    }
    let mut q = public.world_mut().query::<&LayerSource>();
    assert!(!q.iter(public.world()).any(|s| matches!(s, LayerSource::Cameras(_))));
    let mut q = public.world_mut().query_filtered::<Entity, With<Frusta>>();
    assert_eq!(q.iter(public.world()).count(), 0);
    assert!(public.world().resource::<Cctv>().cameras.is_empty());
    server.stop().unwrap();
}

/// The camera symbols' batch: its symbol, instance count and views.
fn camera_symbols(app: &mut App) -> (Symbol, usize, Vec<Entity>) {
    let mut q = app.world_mut().query_filtered::<(&MarkerBatch, &MarkerViews), With<CameraSymbols>>();
    let (batch, views) = q.single(app.world()).unwrap();
    (batch.symbol, batch.instances.len(), views.0.clone())
}

#[test]
fn a_view_over_more_cameras_than_it_lists_gets_their_clusters() {
    let (_data, server, centre) = server_with_cameras(20_000);
    let (mut planner, _) = viewer(&server, centre, Some(PLANNER_TOKEN));
    run_until(&mut planner, "the clusters", |app| !app.world().resource::<Cctv>().clusters.is_empty());
    let cctv = planner.world().resource::<Cctv>();
    let (clusters, counted) = (cctv.clusters.len(), cctv.clusters.iter().map(|c| c.count as usize).sum::<usize>());
    assert!(cctv.cameras.is_empty(), "no camera listed one by one");
    assert!(counted > 2_000 && counted <= 20_000 && clusters < counted, "{clusters} clusters of {counted}");
    planner.update();
    let (symbol, instances, _) = camera_symbols(&mut planner);
    assert_eq!((symbol, instances), (Symbol::Camera, clusters), "a symbol per cluster");
    let mut q = planner.world_mut().query_filtered::<Entity, With<Frusta>>();
    assert_eq!(q.iter(planner.world()).count(), 0, "no frusta for clusters");
    server.stop().unwrap();
}

/// Chooses the first camera around the view and runs until its feed has `frames` frames or an error.
fn choose_a_camera(app: &mut App, frames: u64) -> u32 {
    run_until(app, "the cameras", |app| !app.world().resource::<Cctv>().cameras.is_empty());
    let id = app.world().resource::<Cctv>().cameras[0].id;
    app.world_mut().write_message(CameraChosen(id));
    run_until(app, "the feed", |app| {
        let chosen = app.world().resource::<ChosenCamera>();
        chosen.frames >= frames || chosen.error.is_some()
    });
    id
}

#[test]
fn an_operator_watches_a_cameras_live_feed_and_a_planner_cannot() {
    let (_data, server, centre) = server();
    let (mut operator, _) = viewer(&server, centre, Some(OPERATOR_TOKEN));
    let id = choose_a_camera(&mut operator, 2);
    let chosen = operator.world().resource::<ChosenCamera>();
    assert_eq!(chosen.camera.as_ref().map(|c| c.id), Some(id));
    assert!(chosen.error.is_none(), "{:?}", chosen.error);
    // The server's frames (320×180), decoded into one image that each new frame replaces.
    let image = chosen.image.clone().expect("a frame");
    let images = operator.world().resource::<Assets<Image>>();
    assert_eq!(images.get(&image).unwrap().size(), UVec2::new(320, 180));
    assert_eq!(images.len(), 1, "one image for the feed");
    // A planner sees the camera but not its feed: the server refuses it (and audits it).
    let (mut planner, _) = viewer(&server, centre, Some(PLANNER_TOKEN));
    choose_a_camera(&mut planner, 1);
    let chosen = planner.world().resource::<ChosenCamera>();
    assert!(chosen.image.is_none() && chosen.error.as_deref().is_some_and(|e| e.contains("403")), "{:?}", chosen.error);
    server.stop().unwrap();
}

#[test]
fn sensors_become_chunked_markers_that_follow_readings_views_and_roles() {
    let (_data, server, centre) = server();
    let (mut app, main_view) = viewer(&server, centre, None);
    // Every sensor the subscription matched is placed, in chunks of one kind each.
    let placed = chunks(&mut app);
    assert!(placed.len() > 6, "{} chunks", placed.len());
    assert!(placed.iter().all(|(k, _, _)| k.kind != SensorKind::GasPressure), "gas never reaches the public");

    // Near chunks draw every sensor, far ones one cluster (each started as a cluster; one nearer
    // than 3 km split).
    let markers = app.world().resource::<SensorMarkers>();
    let per_chunk = |key: &ChunkKey| markers.chunks.get(key).unwrap().sensors.len();
    let (mut near, mut far) = (0, 0);
    for (key, drawn, _) in &placed {
        let centre = markers.chunks.get(key).unwrap().ecef_from_chunk.w_axis.truncate();
        let distance_m = (centre - app.world().resource::<GeoCamera>().position_ecef).length();
        if distance_m < 3_000.0 {
            assert_eq!(*drawn, per_chunk(key), "near: every sensor");
            near += 1;
        } else {
            assert_eq!(*drawn, 1, "far: one cluster");
            far += 1;
        }
    }
    assert!(near > 0 && far > 0, "{near} near, {far} far");

    // The snapshot colours every marker; new readings rebuild only chunks they changed.
    run_until(&mut app, "the readings", |app| app.world().resource::<Live>().readings.len() > 100);
    let before = app.world().resource::<SensorMarkers>().rebuilt;
    let updates = app.world().resource::<Live>().updates;
    run_until(&mut app, "new readings", |app| app.world().resource::<Live>().updates > updates + 50);
    app.update();
    let rebuilt = app.world().resource::<SensorMarkers>().rebuilt - before;
    assert!(rebuilt > 0, "changed readings rebuild their chunks");
    let (live, markers) = (app.world().resource::<Live>(), app.world().resource::<SensorMarkers>());
    let mut coloured = 0;
    for chunk in markers.chunks.iter() {
        for (sensor, marker) in chunk.sensors.iter().zip(&chunk.instances) {
            if live.readings.contains_key(sensor) {
                assert_ne!(marker.color_srgb, [0.6; 3], "sensor {sensor} read but still unread grey");
                coloured += 1;
            }
        }
    }
    assert_eq!(coloured, live.readings.len());

    // Sensor layers from the catalog decide which views draw their chunks.
    run_until(&mut app, "the catalog's sensor layers", |app| {
        chunks(app).iter().any(|(_, _, views)| views.contains(&main_view))
    });
    let mut layers = app.world_mut().query::<(&LayerSource, &mut LayerViews)>();
    for (source, mut views) in layers.iter_mut(app.world_mut()) {
        if matches!(source, LayerSource::Sensors(s) if s.kind == SensorKind::Noise) {
            views.main = false;
        }
    }
    app.update();
    for (key, _, views) in chunks(&mut app) {
        assert_eq!(views.contains(&main_view), key.kind != SensorKind::Noise, "{key:?}");
    }

    // Choosing a sensor (a click on its marker or its alarm) flies there and charts its history
    // from SensorThings, then appends its live readings.
    let sensor = *app.world().resource::<Live>().readings.keys().min().unwrap();
    std::thread::sleep(Duration::from_secs(2)); // a few history snapshots
    app.world_mut().write_message(SensorChosen(sensor));
    app.update();
    assert!(app.world().resource::<GeoCamera>().flight.is_some(), "flying to the sensor");
    assert_eq!(app.world().resource::<SelectedSensor>().history, History::Loading);
    run_until(&mut app, "the history", |app| {
        !matches!(app.world().resource::<SelectedSensor>().history, History::Loading)
    });
    let History::Loaded(points) = app.world().resource::<SelectedSensor>().history.clone() else {
        panic!("{:?}", app.world().resource::<SelectedSensor>().history)
    };
    assert!(!points.is_empty(), "history snapshots every second");
    assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "oldest first, one per time");
    let last = points.last().unwrap().0;
    run_until(&mut app, "a live reading appended", |app| match &app.world().resource::<SelectedSensor>().history {
        History::Loaded(p) => p.last().is_some_and(|l| l.0 > last),
        _ => false,
    });
    server.stop().unwrap();
}
