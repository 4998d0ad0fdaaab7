//! The live layer's CPU work per tick of the stream (once a second), engine-free: 300,000 sensors
//! over a 30 km city, readings applied to their chunks' instances, then the changed chunks' drawn
//! instances rebuilt (every sensor within 3 km of a street-level eye, one cluster beyond) as the
//! viewer uploads them. Prints the bytes uploaded per tick.

use citytwin::geo::{Cartographic, WGS84};
use citytwin::markers::chunks::MarkerChunks;
use citytwin::markers::cluster::{Detail, next_detail};
use citytwin::protocol::live::{Reading, Site};
use citytwin::protocol::sensors::{AlarmLevel, SensorKind};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use glam::Mat4;

const SENSORS: u32 = 300_000;
const CENTER: [f64; 2] = [114.06, 22.54];
/// Split distance, as the viewer's default.
const SPLIT_M: f64 = 3_000.0;

/// SplitMix64, for placements and values that are the same every run.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn city() -> MarkerChunks {
    let mut m = MarkerChunks::default();
    for i in 0..SENSORS {
        let h = mix(i as u64);
        let (dx, dy) = (unit(mix(h ^ 1)) - 0.5, unit(mix(h ^ 2)) - 0.5);
        let site = Site(i, SensorKind::ALL[(h % 6) as usize], CENTER[0] + dx * 0.3, CENTER[1] + dy * 0.27, 0.0);
        m.add_site(&site);
    }
    m.take_changed();
    m
}

/// One tick: `count` readings, spread over the city.
fn tick(count: u32, seed: u64) -> Vec<Reading> {
    (0..count)
        .map(|i| {
            let h = mix(seed ^ i as u64);
            let level = match h % 100 {
                0 => AlarmLevel::Alarm,
                1..=4 => AlarmLevel::Warning,
                _ => AlarmLevel::Normal,
            };
            Reading((h % SENSORS as u64) as u32, (unit(mix(h)) * 60.0) as f32, level)
        })
        .collect()
}

/// Applies a tick and rebuilds what it changed; returns the bytes to upload.
fn apply(m: &mut MarkerChunks, readings: &[Reading], eye_ecef: glam::DVec3) -> usize {
    for r in readings {
        m.set_reading(r);
    }
    let mut bytes = 0;
    for key in m.take_changed() {
        let Some(c) = m.get(&key) else { continue };
        let distance_m = (c.ecef_from_chunk.w_axis.truncate() - eye_ecef).length();
        let detail = next_detail(Detail::Cluster, distance_m, SPLIT_M);
        bytes += c.drawn(detail, &Mat4::IDENTITY).len() * size_of::<citytwin::markers::MarkerInstance>();
    }
    bytes
}

fn bench(c: &mut Criterion) {
    let base = city();
    let eye = WGS84.ecef_from_cartographic(Cartographic::from_degrees(CENTER[0], CENTER[1], 300.0));
    // The server's default report interval is 5–30 s: about 17,000 of 300,000 report each second.
    for (name, count) in [("a tick of 17,000 readings", 17_000), ("a tick of 300,000 readings", SENSORS)] {
        let readings = tick(count, 7);
        let bytes = apply(&mut base.clone(), &readings, eye);
        println!("markers: {name}: {:.2} MB of instances uploaded", bytes as f64 / 1e6);
        c.bench_function(&format!("markers: {name}, 300,000 sensors"), |b| {
            b.iter_batched_ref(|| base.clone(), |m| apply(m, &readings, eye), BatchSize::LargeInput)
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
