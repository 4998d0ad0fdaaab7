//! Decode throughput (MB/s) of real content, in the two steps a tile takes before it is drawn:
//! the core's decode (headers, tables, glb validation) and its content preparation (glTF
//! accessors read into render arrays, textures decoded, instances placed, points coloured). Inputs: the shared
//! samples (`CITYTWIN_DATA`, default ../shared/data) — a 3.7 MB b3dm, a pnts, an i3dm — and a city
//! tile the tiler makes from 3,000 procedural buildings.

use std::path::PathBuf;

use citytwin::tiler::procedural::{ProceduralOptions, generate};
use citytwin::tiler::{TileOptions, write_city};
use citytwin::tiles::UpAxis;
use citytwin::tiles::content::decode;
use citytwin::tiles::prepare::prepare;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use glam::DMat4;

fn samples() -> Vec<(String, Vec<u8>)> {
    let data = std::env::var_os("CITYTWIN_DATA").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("../shared/data"));
    let t = data.join("3dtiles");
    let files = [
        ("b3dm_building", t.join("3d-tiles-samples/1.0/TilesetWithRequestVolume/building.b3dm")),
        ("pnts_rgb_normals", t.join("cesiumjs-1.53-sampledata/PointCloud/PointCloudNormals/pointCloudNormals.pnts")),
        (
            "i3dm_orientation",
            t.join("cesiumjs-1.53-sampledata/Instanced/InstancedOrientation/instancedOrientation.i3dm"),
        ),
    ];
    let mut out: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(name, p)| (name.to_owned(), std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))))
        .collect();
    // The largest tile of a procedural city.
    let dir = std::env::temp_dir().join(format!("citytwin-bench-city-{}", std::process::id()));
    write_city(&generate(&ProceduralOptions::new(3000, 1)), &dir, &TileOptions::default()).unwrap();
    let mut tiles: Vec<PathBuf> = walk(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "glb") && p.starts_with(dir.join("tiles")))
        .collect();
    tiles.sort_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()));
    out.push(("glb_city_tile".to_owned(), std::fs::read(tiles.last().expect("city tiles")).unwrap()));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn bench(c: &mut Criterion) {
    let inputs = samples();
    let mut group = c.benchmark_group("decode");
    group.sample_size(20);
    for (name, bytes) in &inputs {
        let (content, _) = decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let prepared = prepare(&content, UpAxis::Y, &DMat4::IDENTITY).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(prepared.iter().map(|p| p.positions.len()).sum::<usize>() > 0, "{name}: real geometry");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}/core"), |b| b.iter(|| decode(std::hint::black_box(bytes)).unwrap()));
        group.bench_function(format!("{name}/core+mesh"), |b| {
            b.iter(|| {
                let (content, _) = decode(std::hint::black_box(bytes)).unwrap();
                prepare(&content, UpAxis::Y, &DMat4::IDENTITY).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
