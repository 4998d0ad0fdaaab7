//! The live layer's CPU work per tick of the stream (once a second), engine-free: 300,000 sensors
//! over a 30 km city, readings applied to their chunks' instances, then the changed chunks' drawn
//! instances rebuilt (every sensor within 3 km of a street-level eye, one cluster beyond) as the
//! viewer uploads them. Prints the bytes uploaded per tick.
//!
//! Then the viewer's frames, as it paces that work (`markers::pace`, its default budgets): ten
//! seconds at 60 frames a second, a tick's `values` message arriving once a second as the server
//! sends it to the viewer (a binary frame, `live_binary`), decoded, its readings kept by sensor
//! (as the live panel does), applied and the changed chunks rebuilt within the frame's budget.
//! Prints each frame's CPU time (median, 99th percentile, maximum), the bytes uploaded per second
//! and the wire's bytes per second (binary, and what JSON would have been).

use citytwin::geo::{Cartographic, WGS84};
use citytwin::markers::chunks::MarkerChunks;
use citytwin::markers::cluster::{Detail, next_detail};
use citytwin::markers::pace::{PaceBudget, Paced};
use citytwin::protocol::live::ServerMessage;
use citytwin::protocol::live::{Reading, Site};
use citytwin::protocol::live_binary::{values_from_binary, values_to_binary};
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

/// Ten seconds of frames at 60 a second, a tick of `count` readings arriving with the first frame
/// of each second; prints the frames' CPU time and the bytes uploaded and received per second.
fn paced_frames(base: &MarkerChunks, count: u32, eye_ecef: glam::DVec3) {
    let mut chunks = base.clone();
    let mut paced = Paced::default();
    let budget = PaceBudget::default();
    let mut latest: std::collections::HashMap<u32, (f32, AlarmLevel)> = Default::default();
    let (mut frame_us, mut uploaded, mut received, mut as_json) = (Vec::new(), 0usize, 0usize, 0usize);
    // CPU time per phase over the run: decoding and keeping, applying, rebuilding (seconds).
    let mut phases = [0f64; 3];
    for frame in 0..600u64 {
        let message = (frame % 60 == 0).then(|| {
            let (time_ms, readings) = (frame as i64 * 16, tick(count, frame));
            as_json +=
                serde_json::to_string(&ServerMessage::Values { time_ms, readings: readings.clone() }).unwrap().len();
            values_to_binary(time_ms, &readings)
        });
        let started = std::time::Instant::now();
        if let Some(bytes) = &message {
            received += bytes.len();
            if let Ok((_, readings)) = values_from_binary(bytes) {
                latest.extend(readings.iter().map(|r| (r.0, (r.1, r.2))));
                paced.push_readings(readings);
            }
        }
        let decoded = started.elapsed().as_secs_f64();
        paced.apply(&mut chunks, budget.readings_per_frame);
        let applied = started.elapsed().as_secs_f64();
        let detail = |key: &citytwin::markers::ChunkKey| {
            let c = chunks.get(key).expect("queued chunks exist");
            next_detail(Detail::Cluster, (c.ecef_from_chunk.w_axis.truncate() - eye_ecef).length(), SPLIT_M)
        };
        let cost = |key: &citytwin::markers::ChunkKey| match detail(key) {
            Detail::Sensors => chunks.get(key).map_or(0, |c| c.sensor_count()),
            Detail::Cluster => 1,
        };
        for key in paced.next_rebuilds(budget.instances_per_frame, cost) {
            let drawn = chunks.get(&key).map(|c| c.drawn(detail(&key), &Mat4::IDENTITY)).unwrap_or_default();
            uploaded += std::hint::black_box(drawn).len() * size_of::<citytwin::markers::MarkerInstance>();
        }
        let done = started.elapsed().as_secs_f64();
        for (phase, s) in phases.iter_mut().zip([decoded, applied - decoded, done - applied]) {
            *phase += s;
        }
        frame_us.push(done * 1e6);
    }
    frame_us.sort_by(f64::total_cmp);
    let at = |q: f64| frame_us[((frame_us.len() - 1) as f64 * q) as usize];
    println!(
        "markers: paced frames, {count} readings a second: CPU per frame median {:.3} ms, p99 {:.3} ms, max {:.3} ms; \
         per second {:.2} ms decoding, {:.2} ms applying, {:.2} ms rebuilding; \
         {:.2} MB/s of instances uploaded; {:.3} MB/s received ({:.3} MB/s as JSON); backlog at the end {:?}",
        at(0.5) / 1e3,
        at(0.99) / 1e3,
        at(1.0) / 1e3,
        phases[0] * 100.0,
        phases[1] * 100.0,
        phases[2] * 100.0,
        uploaded as f64 / 10.0 / 1e6,
        received as f64 / 10.0 / 1e6,
        as_json as f64 / 10.0 / 1e6,
        paced.backlog(),
    );
}

fn bench(c: &mut Criterion) {
    let base = city();
    let eye = WGS84.ecef_from_cartographic(Cartographic::from_degrees(CENTER[0], CENTER[1], 300.0));
    // The server's default report interval is 5–30 s: about 17,000 of 300,000 report each second.
    for count in [17_000, SENSORS] {
        paced_frames(&base, count, eye);
    }
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
