//! The video wall's software swap barrier on loopback, printing figures
//! (`cargo bench --bench wall_barrier`): a master and N followers, each on a thread of its own with a
//! real TCP connection, as fast as the barrier allows (no rendering): per frame, the state out, every
//! "ready" in and every "present" out. What the lock itself costs a wall's frame.

use std::time::{Duration, Instant};

use citytwin::protocol::wall::{WallCamera, WallState};
use citytwin::viewer::wall::{FollowerLink, MasterLink, percentile_us};

const FRAMES: u64 = 3000;

fn state(frame: u64) -> WallState {
    WallState {
        frame,
        camera: WallCamera {
            position_ecef: [2_884_000.5, 1_340_000.25, 5_509_000.125],
            heading_rad: 0.3,
            pitch_rad: -0.6,
        },
        layers_shown: vec!["city".into(), "sensors".into()],
        night: false,
        drill: None,
        planning: None,
        capture: false,
    }
}

fn run(followers: u32) {
    let master = MasterLink::listen("127.0.0.1:0", followers as usize, false).expect("listens");
    let address = master.address.to_string();
    for c in 0..followers {
        let link = FollowerLink::connect(&address, [c, 0]).expect("connects");
        std::thread::spawn(move || {
            loop {
                if let Some(s) = link.next_state(Duration::from_secs(5)) {
                    link.barrier(s.frame, true, Duration::from_secs(5));
                }
            }
        });
    }
    while master.status.lock().unwrap().screens.len() < followers as usize {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut frame_us = Vec::with_capacity(FRAMES as usize);
    for frame in 1..=FRAMES {
        let t = Instant::now();
        master.send(state(frame));
        master.pace(frame, Duration::from_secs(5));
        frame_us.push(t.elapsed().as_micros() as u32);
    }
    let s = master.status.lock().unwrap().clone();
    let t = s.times();
    let ms = |v: &[u32], q| percentile_us(v, q) as f64 / 1000.0;
    println!(
        "wall barrier, {followers} followers on loopback, {FRAMES} frames: whole lock per frame (state out to all \
         presents out) median {:.3} ms, p99 {:.3} ms; release (last ready to all presents) median {:.3} ms, p99 {:.3} ms; \
         skew max {} frames",
        ms(&frame_us, 0.5),
        ms(&frame_us, 0.99),
        t.release_p50_ms,
        t.release_p99_ms,
        s.skew_max_frames
    );
}

fn main() {
    for followers in [4, 16] {
        run(followers);
    }
}
