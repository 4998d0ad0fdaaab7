//! The viewer's systems in a headless app (MinimalPlugins, no window, no GPU): TilesPlugin
//! streams a real b3dm sample from disk, builds meshes and shows the selection; layers come and
//! go; views select for themselves; settings change live.

mod common;

use bevy::prelude::*;
use citytwin::viewer::{
    Fetcher, GeoCamera, Layer, TileLayer, TileMaterial, TilePart, TilesPlugin, TilesSettings, TilesTotals,
};

fn app(url: String) -> App {
    app_with_budget(url, 256 << 20)
}

fn app_with_budget(url: String, cache_bytes: usize) -> App {
    let mut app = empty_app(cache_bytes);
    add_layer(&mut app, url);
    app
}

/// A headless app streaming no layer yet, with one cache budget for all.
fn empty_app(cache_bytes: usize) -> App {
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, AssetPlugin::default(), bevy::mesh::MeshPlugin))
        .init_asset::<TileMaterial>()
        .init_asset::<Image>()
        .insert_resource(TilesSettings { cache_bytes, max_requests: 8, ..Default::default() })
        .insert_resource(Fetcher::new(citytwin::platform::Runtime::new().unwrap()))
        .insert_resource(GeoCamera::looking_at(glam::DVec3::new(6_378_137.0, 0.0, 0.0), 100.0))
        .add_plugins(TilesPlugin);
    app
}

fn add_layer(app: &mut App, url: String) -> Entity {
    let layer = Layer { id: url.clone(), name: url.clone() };
    app.world_mut().spawn((layer, TileLayer::new(url))).id()
}

/// The first layer (the only one, in most tests).
fn first(app: &mut App) -> &TileLayer {
    let mut q = app.world_mut().query::<(Entity, &TileLayer)>();
    let (_, t) = q.iter(app.world()).min_by_key(|(e, _)| *e).expect("a layer");
    t
}

fn settled(app: &mut App) -> bool {
    let mut q = app.world_mut().query::<&TileLayer>();
    let layers: Vec<&TileLayer> = q.iter(app.world()).collect();
    !layers.is_empty() && layers.iter().all(|t| t.idle_frames >= 5)
}

fn totals(app: &mut App) -> TilesTotals {
    let budget = app.world().resource::<TilesSettings>().cache_bytes;
    let mut q = app.world_mut().query::<&TileLayer>();
    TilesTotals::of(q.iter(app.world()), budget)
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
    run_until(&mut app, |app| first(app).tileset.root().is_some());
    let (center, radius) = {
        let t = &first(&mut app).tileset;
        let info = t.tile(t.root().unwrap()).unwrap();
        (info.bounds.center(), info.bounds.radius())
    };
    app.insert_resource(GeoCamera::looking_at(center, radius * 0.3));
    run_until(&mut app, settled);
    let (shown, urls) = {
        let t = first(&mut app);
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
    let mut config = common::server_config(data.path());
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

/// The content URL of each tile, and back: two tilesets over the same files name tiles alike.
fn first_url(t: &citytwin::tiles::Tileset, key: citytwin::tiles::TileKey) -> Option<String> {
    t.tile(key).and_then(|i| i.content_urls.first().map(|u| u.to_string()))
}

/// Loads what `view` needs from disk until the selection stops changing: the converged picture.
fn converge(t: &mut citytwin::tiles::Tileset, view: citytwin::tiles::ViewState) -> Vec<citytwin::tiles::TileKey> {
    for _ in 0..200 {
        let r = t.update(&[view]);
        if r.requests.is_empty() && !t.is_loading() {
            return r.to_render;
        }
        for q in r.requests {
            t.on_loaded(q.id, common::load_file(&q.url));
        }
    }
    panic!("the reference did not converge");
}

/// The tiles of the converged picture that the shown set leaves uncovered: a tile is covered when it
/// is shown, an ancestor of it is, or each of its children in view is covered below it. An
/// uncovered tile is a place where the converged render has geometry and the frame shows sky.
fn holes(
    reference: &citytwin::tiles::Tileset,
    converged: &[citytwin::tiles::TileKey],
    shown: &std::collections::HashSet<String>,
) -> Vec<String> {
    use citytwin::tiles::TileSelectionState;
    fn below(
        r: &citytwin::tiles::Tileset,
        k: citytwin::tiles::TileKey,
        shown: &std::collections::HashSet<String>,
    ) -> bool {
        let children = r.tile(k).map(|i| i.children.to_vec()).unwrap_or_default();
        !children.is_empty()
            && children.iter().all(|c| {
                r.selection_state(*c) == TileSelectionState::Culled
                    || first_url(r, *c).is_some_and(|u| shown.contains(&u))
                    || below(r, *c, shown)
            })
    }
    converged
        .iter()
        .filter(|k| {
            let mut up = Some(**k);
            while let Some(a) = up {
                if first_url(reference, a).is_some_and(|u| shown.contains(&u)) {
                    return false;
                }
                up = reference.tile(a).and_then(|i| i.parent);
            }
            !below(reference, **k, shown)
        })
        .filter_map(|k| first_url(reference, *k))
        .collect()
}

/// A procedural city of `buildings` tiled into `dir`; its tileset's URL.
fn city(dir: &std::path::Path, buildings: usize, seed: u64) -> String {
    use citytwin::tiler::procedural::{ProceduralOptions, generate};
    use citytwin::tiler::{TileOptions, write_city};
    let city = generate(&ProceduralOptions::new(buildings, seed));
    let options = TileOptions { max_buildings_per_tile: 60, max_buildings_per_lod_tile: 120, ..Default::default() };
    write_city(&city, dir, &options).unwrap();
    common::file_url(&dir.join("tileset.json"))
}

/// No holes on a flight: over a procedural city, with a cache budget the size of the city's files
/// (well under what all of it costs loaded, its meshes and pick geometry counted: it refines, and
/// evicts as it flies), from an overview down to street level, across, and back up.
/// Once the first view has converged, every frame's shown tiles cover the converged picture of that
/// frame's view; at each key frame, once settled, they are exactly that picture. (The stand-in rule
/// itself is proven case by case on plain data in `viewer::tiles`.)
#[test]
fn flying_with_a_tight_cache_budget_never_shows_a_hole() {
    let dir = tempfile::tempdir().unwrap();
    let url = city(dir.path(), 3000, 7);
    let city_bytes: u64 = common::files_with(dir.path(), &[".glb"]).iter().map(|p| p.metadata().unwrap().len()).sum();
    let mut app = app_with_budget(url.clone(), city_bytes as usize);
    let mut reference = citytwin::tiles::Tileset::new(
        url,
        citytwin::tiles::TilesetOptions { maximum_cached_bytes: usize::MAX / 4, ..Default::default() },
    );
    run_until(&mut app, |app| first(app).tileset.root().is_some());
    let (center, radius) = {
        let t = &first(&mut app).tileset;
        let info = t.tile(t.root().unwrap()).unwrap();
        (info.bounds.center(), info.bounds.radius())
    };
    // Key frames: overview, street level over one corner, across to the other, overview again.
    let (e, n, u) = citytwin::geo::enu_axes(center);
    let overview = GeoCamera::looking_at(center, radius);
    let street = |x: f64, y: f64| GeoCamera::looking_at(center + e * x + n * y + u * 5.0, 60.0);
    let keys = [overview.clone(), street(-0.5 * radius, -0.5 * radius), street(0.5 * radius, 0.3 * radius), overview];
    app.insert_resource(keys[0].clone());
    run_until(&mut app, settled);
    let city_tiles = common::files_with(dir.path(), &[".glb"]).len();
    let (mut frames, mut most_loaded) = (0, 0);
    for leg in keys.windows(2) {
        for step in 0..60 {
            let f = step as f64 / 60.0;
            let mut cam = leg[0].clone();
            cam.position_ecef = leg[0].position_ecef.lerp(leg[1].position_ecef, f);
            cam.pitch = leg[0].pitch + (leg[1].pitch - leg[0].pitch) * f;
            app.insert_resource(cam.clone());
            app.update();
            let converged = converge(&mut reference, cam.view_state([1280.0, 720.0]));
            let t = first(&mut app);
            let shown: std::collections::HashSet<String> =
                t.shown.iter().filter_map(|k| first_url(&t.tileset, *k)).collect();
            let holes = holes(&reference, &converged, &shown);
            assert!(holes.is_empty(), "frame {frames}: holes at {holes:?}");
            most_loaded = most_loaded.max(t.stats.tiles_loaded);
            frames += 1;
        }
        // At each key frame, once settled, the stand-ins are gone: what shows is the selection.
        run_until(&mut app, settled);
        let t = first(&mut app);
        let selected: std::collections::HashSet<_> = t.selected().iter().copied().collect();
        assert_eq!(t.shown, selected, "settled at a key frame: exactly the selection, no stand-ins left");
    }
    assert_eq!(frames, 180);
    assert!(
        most_loaded < city_tiles,
        "the budget forced evictions: at most {most_loaded} of {city_tiles} tiles loaded"
    );
}

/// A reference tileset over `url` that never evicts, its root's centre and radius.
fn reference(url: &str, max_sse: f64) -> (citytwin::tiles::Tileset, glam::DVec3, f64) {
    let options = citytwin::tiles::TilesetOptions {
        maximum_cached_bytes: usize::MAX / 4,
        maximum_screen_space_error: max_sse,
        ..Default::default()
    };
    let mut t = citytwin::tiles::Tileset::new(url.to_owned(), options);
    let far = GeoCamera::looking_at(glam::DVec3::new(6_378_137.0, 0.0, 0.0), 1e7);
    converge(&mut t, far.view_state([1280.0, 720.0]));
    let info = t.tile(t.root().expect("a root")).unwrap();
    let (center, radius) = (info.bounds.center(), info.bounds.radius());
    (t, center, radius)
}

/// The content URLs the layer shows.
fn shown_urls(t: &TileLayer) -> std::collections::HashSet<String> {
    t.shown.iter().filter_map(|k| first_url(&t.tileset, *k)).collect()
}

fn parts_of(app: &mut App, layer: Entity) -> usize {
    let mut q = app.world_mut().query::<&TilePart>();
    q.iter(app.world()).filter(|p| p.layer == layer).count()
}

/// Two layers under one budget; removing one frees its entities, meshes and bytes, and the other
/// streams on. A budget change applies live to both together.
#[test]
fn removing_a_layer_frees_its_bytes_and_entities_and_the_budget_is_shared() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (url_a, url_b) = (city(dir_a.path(), 1500, 1), city(dir_b.path(), 1500, 2));
    let (_, center, radius) = reference(&url_a, 16.0);
    let mut app = empty_app(512 << 20);
    app.insert_resource(GeoCamera::looking_at(center, radius * 0.6));
    let (a, b) = (add_layer(&mut app, url_a), add_layer(&mut app, url_b));
    run_until(&mut app, settled);
    let bytes = |app: &App, layer: Entity| app.world().get::<TileLayer>(layer).map_or(0, |t| t.stats.bytes_used);
    let (bytes_a, bytes_b) = (bytes(&app, a), bytes(&app, b));
    assert!(parts_of(&mut app, a) > 0 && parts_of(&mut app, b) > 0);
    assert_eq!(totals(&mut app).bytes_used, bytes_a + bytes_b);

    // One budget for both: smaller than the two together, larger than either. Looking away, the
    // unused tiles go until the two fit it together (each alone already fitted).
    let budget = (bytes_a + bytes_b) * 2 / 3;
    assert!(bytes_a < budget && bytes_b < budget);
    app.world_mut().resource_mut::<TilesSettings>().cache_bytes = budget;
    app.insert_resource(GeoCamera::looking_at(-center, radius));
    run_until(&mut app, settled);
    let t = totals(&mut app);
    assert!(t.bytes_used <= budget, "{} bytes held against a shared budget of {budget}", t.bytes_used);
    assert_eq!(t.bytes_budget, budget);

    // Back over the cities with an ample budget, then remove a.
    app.world_mut().resource_mut::<TilesSettings>().cache_bytes = 512 << 20;
    app.insert_resource(GeoCamera::looking_at(center, radius * 0.6));
    run_until(&mut app, settled);
    let meshes_before = app.world().resource::<Assets<Mesh>>().len();
    let parts_a = parts_of(&mut app, a);
    app.world_mut().entity_mut(a).despawn();
    for _ in 0..3 {
        app.update();
    }
    assert_eq!(parts_of(&mut app, a), 0, "its entities went with it");
    assert!(app.world().get::<TileLayer>(a).is_none());
    let meshes_after = app.world().resource::<Assets<Mesh>>().len();
    assert!(meshes_after < meshes_before && parts_a > 0, "its meshes are freed: {meshes_before} → {meshes_after}");
    assert_eq!(totals(&mut app).bytes_used, bytes(&app, b), "only b's bytes are held");
    assert_eq!(app.world().resource::<Fetcher>().in_flight(), 0);
    assert!(parts_of(&mut app, b) > 0, "b streams on");
}

/// Two views (side by side, 640×720 each): the main one at one end of the city, the second with a
/// camera of its own at the other. One layer in both shows what each view needs and loads each
/// tile once; a layer in the second view only selects for that view and goes on its render layer.
#[test]
fn each_view_selects_for_itself_and_what_they_need_is_loaded_once() {
    use bevy::camera::Viewport;
    use bevy::camera::visibility::RenderLayers;
    use citytwin::viewer::{LayerViews, MainView, OwnCamera, SecondView};
    let dir = tempfile::tempdir().unwrap();
    let url = city(dir.path(), 3000, 7);
    let (mut reference, center, radius) = reference(&url, 16.0);
    let (e, n, u) = citytwin::geo::enu_axes(center);
    let street = |x: f64, y: f64| GeoCamera::looking_at(center + e * x + n * y + u * 5.0, 80.0);
    let (left, right) = (street(-0.5 * radius, -0.4 * radius), street(0.5 * radius, 0.3 * radius));
    let mut app = app(url);
    app.insert_resource(left.clone());
    let half = |c| Camera {
        viewport: Some(Viewport { physical_size: UVec2::new(640, 720), ..default() }),
        order: c,
        ..default()
    };
    app.world_mut().spawn((half(0), MainView));
    app.world_mut().spawn((half(1), SecondView, OwnCamera(right.clone())));
    run_until(&mut app, settled);
    let converged = |reference: &mut citytwin::tiles::Tileset, cam: &GeoCamera| -> std::collections::HashSet<String> {
        let keys = converge(reference, cam.view_state([640.0, 720.0]));
        keys.iter().filter_map(|k| first_url(reference, *k)).collect()
    };
    let (for_left, for_right) = (converged(&mut reference, &left), converged(&mut reference, &right));
    assert!(!for_left.is_subset(&for_right) && !for_right.is_subset(&for_left), "two different pictures");
    let shown = shown_urls(first(&mut app));
    let union: std::collections::HashSet<String> = for_left.union(&for_right).cloned().collect();
    assert_eq!(shown, union, "the union of what each view needs");
    let stats = first(&mut app).stats.clone();
    assert_eq!(
        stats.requests_total - stats.cancelled_total,
        stats.tiles_loaded as u64 + 1,
        "each tile fetched once (and the tileset.json)"
    );

    // The layer in the second view only.
    let layer = app.world_mut().query_filtered::<Entity, With<TileLayer>>().single(app.world()).unwrap();
    app.world_mut().entity_mut(layer).insert(LayerViews { main: false, second: true });
    run_until(&mut app, settled);
    assert_eq!(shown_urls(first(&mut app)), for_right);
    let mut parts = app.world_mut().query_filtered::<(&RenderLayers, &Visibility), With<TilePart>>();
    let parts: Vec<_> = parts.iter(app.world()).collect();
    assert!(parts.iter().any(|(_, v)| **v == Visibility::Visible));
    assert!(parts.iter().all(|(l, _)| **l == RenderLayers::layer(citytwin::viewer::SECOND_VIEW_LAYER)));
}

/// Raising the maximum screen-space error live coarsens the selection to what the core picks at the
/// new value.
#[test]
fn a_live_sse_change_changes_the_selection() {
    let dir = tempfile::tempdir().unwrap();
    let url = city(dir.path(), 3000, 7);
    let (_, center, radius) = reference(&url, 16.0);
    let cam = GeoCamera::looking_at(center, radius * 0.5);
    let mut app = app(url.clone());
    app.insert_resource(cam.clone());
    run_until(&mut app, settled);
    let fine = shown_urls(first(&mut app));
    app.world_mut().resource_mut::<TilesSettings>().max_sse = 256.0;
    run_until(&mut app, settled);
    let coarse = shown_urls(first(&mut app));
    let (mut at_256, _, _) = reference(&url, 256.0);
    let keys = converge(&mut at_256, cam.view_state([1280.0, 720.0]));
    let want: std::collections::HashSet<String> = keys.iter().filter_map(|k| first_url(&at_256, *k)).collect();
    assert_eq!(coarse, want);
    assert!(coarse.len() < fine.len(), "{} tiles at 256 px, {} at 16 px", coarse.len(), fine.len());
}

/// The catalog of a real data server arrives after the app has started: its tileset streams, its
/// sensor layers (those an anonymous caller may see: no gas) are named layers, its scenarios and
/// credits are in.
#[test]
fn the_catalog_arrives_asynchronously_as_named_layers_of_every_kind() {
    use citytwin::viewer::catalog::{CatalogPlugin, CatalogSource, CatalogStatus, LayerSource};
    use citytwin::viewer::{Attribution, Scenarios};
    let (data, tiles) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    city(tiles.path(), 300, 3);
    let mut config = citytwin_server::Config {
        scenarios: vec![citytwin::tiler::demo::demo_scenario()],
        attribution: vec!["© test".into()],
        ..common::server_config(data.path())
    };
    config.tilesets.push(citytwin_server::config::TilesetConfig {
        id: "city".into(),
        name: "Test city".into(),
        dir: tiles.path().into(),
        entry: "tileset.json".into(),
    });
    config.sensors.count = 2000;
    let server = citytwin_server::ServerHandle::start(config).unwrap();
    let mut app = empty_app(256 << 20);
    app.insert_resource(citytwin::platform::Runtime::new().unwrap())
        .insert_resource(CatalogSource {
            server: citytwin::viewer::DataServer::new(&format!("http://{}", server.addr), None),
            stream_tilesets: true,
            sensors_shown: false,
        })
        .add_plugins(CatalogPlugin);
    app.update();
    assert_eq!(*app.world().resource::<CatalogStatus>(), CatalogStatus::Loading, "the app runs while it loads");
    run_until(&mut app, |app| matches!(app.world().resource::<CatalogStatus>(), CatalogStatus::Loaded(_)));
    let mut q = app.world_mut().query::<(&Layer, &LayerSource, Option<&TileLayer>)>();
    let layers: Vec<_> = q.iter(app.world()).map(|(l, s, t)| (l.id.clone(), s.clone(), t.is_some())).collect();
    assert!(layers.iter().any(|(id, s, streams)| id == "city" && *s == LayerSource::Tileset && *streams));
    let sensors: Vec<&String> =
        layers.iter().filter(|(_, s, _)| matches!(s, LayerSource::Sensors(_))).map(|(id, _, _)| id).collect();
    assert!(sensors.len() >= 3, "{sensors:?}");
    assert!(!sensors.iter().any(|id| id.contains("gas")), "restricted: {sensors:?}");
    assert_eq!(*app.world().resource::<CatalogStatus>(), CatalogStatus::Loaded(layers.len()));
    assert_eq!(app.world().resource::<Scenarios>().0.len(), 1);
    assert_eq!(app.world().resource::<Attribution>().0, vec!["© test".to_owned()]);
    run_until(&mut app, |app| first(app).tileset.root().is_some());
    server.stop().unwrap();
}
