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
        .insert_resource(Fetcher::new().unwrap())
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
