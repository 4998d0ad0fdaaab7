//! `citytwin inspect` end to end: local paths, and URLs served by the data server on 127.0.0.1.

mod common;

use std::process::{Command, Output};

use citytwin_server::config::TilesetConfig;
use citytwin_server::{Config, ServerHandle};

fn inspect(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_citytwin")).arg("inspect").args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn inspects_an_external_tileset_over_http() {
    let Some(data) = common::data_dir() else { return };
    let state = tempfile::tempdir().unwrap();
    let mut config = Config { listen: ([127, 0, 0, 1], 0).into(), data_dir: state.path().into(), ..Default::default() };
    config.sensors.count = 100;
    config.tilesets.push(TilesetConfig {
        id: "samples".into(),
        name: "3D Tiles samples".into(),
        dir: data.join("3dtiles/3d-tiles-samples"),
        entry: "1.0/TilesetWithRequestVolume/tileset.json".into(),
    });
    let server = ServerHandle::start(config).unwrap();
    let url = format!("{}/tiles/samples/1.0/TilesetWithRequestVolume/tileset.json", server.url());
    let out = inspect(&[&url]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("tiles        9 (0 implicit), depth 3"), "{text}");
    assert!(text.contains("tilesets     2"), "{text}");
    assert!(text.contains("b3dm            5 files"), "{text}");
    assert!(text.contains("pnts            1 files"), "{text}");

    // JSON output of an implicit tileset, over HTTP too.
    let url = format!("{}/tiles/samples/1.1/SparseImplicitOctree/tileset.json", server.url());
    let out = inspect(&[&url, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["subtrees"], 13);
    assert_eq!(report["contents"]["glb"]["count"], 31);

    // A 404 is reported with its status, and the exit code says something failed.
    let url = format!("{}/tiles/samples/1.0/TilesetWithDiscreteLOD/tileset.json", server.url());
    let out = inspect(&[&url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("HTTP 404"), "{}", stdout(&out));
    server.stop().unwrap();
}

#[test]
fn bad_arguments_are_clear_errors() {
    let out = inspect(&["/no/such/tileset.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("tileset.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let out = inspect(&[bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("bad JSON"), "{}", stdout(&out));
}
