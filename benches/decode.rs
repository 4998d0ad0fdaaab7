//! Decode throughput (MB/s) of glb and b3dm from bytes: synthetic city-tile-sized inputs, and
//! the largest real b3dm of the shared samples when `CITYTWIN_DATA` (or ../shared/data) exists.

use std::path::PathBuf;

use citytwin::tiles::content::{decode, write};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A glb like a city tile: 4 MB of buffers and glTF JSON with 500 meshes.
fn city_glb() -> Vec<u8> {
    let meshes: Vec<_> = (0..500)
        .map(|i| serde_json::json!({"name": format!("building {i}"), "primitives": [{"attributes": {"POSITION": i, "NORMAL": i}, "indices": i}]}))
        .collect();
    let json =
        serde_json::json!({"asset": {"version": "2.0"}, "buffers": [{"byteLength": 4_000_000}], "meshes": meshes});
    write::glb(&serde_json::to_vec(&json).unwrap(), Some(&vec![7u8; 4_000_000]))
}

/// A b3dm around that glb, with a 500-feature batch table.
fn city_b3dm(glb: &[u8]) -> Vec<u8> {
    let ids: Vec<u64> = (0..500).collect();
    let names: Vec<String> = (0..500).map(|i| format!("building {i}")).collect();
    let heights: Vec<f64> = (0..500).map(|i| 10.0 + i as f64 * 0.1).collect();
    let bt = serde_json::json!({"id": ids, "name": names, "height": heights});
    write::b3dm(
        br#"{"BATCH_LENGTH":500,"RTC_CENTER":[2883767.4,1341795.0,5509945.1]}"#,
        b"",
        &serde_json::to_vec(&bt).unwrap(),
        b"",
        glb,
    )
}

fn real_b3dm() -> Option<(String, Vec<u8>)> {
    let data = std::env::var_os("CITYTWIN_DATA").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("../shared/data"));
    let p = data.join("3dtiles/3d-tiles-samples/1.0/TilesetWithRequestVolume/building.b3dm");
    std::fs::read(&p).ok().map(|b| ("real_building_b3dm".to_owned(), b))
}

fn bench(c: &mut Criterion) {
    let glb = city_glb();
    let b3dm = city_b3dm(&glb);
    let mut inputs = vec![("synthetic_glb".to_owned(), glb), ("synthetic_b3dm".to_owned(), b3dm)];
    inputs.extend(real_b3dm());
    let mut group = c.benchmark_group("decode");
    group.sample_size(30);
    for (name, bytes) in &inputs {
        assert!(decode(bytes).is_ok(), "{name} must decode");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name.as_str(), |b| b.iter(|| decode(std::hint::black_box(bytes)).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
