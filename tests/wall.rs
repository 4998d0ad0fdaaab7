//! The video wall across processes: a master and four followers on one machine, windowless (no X
//! server, Mesa lavapipe), frame-locked over loopback TCP. The four screens of one frame, put side
//! by side with the bezels' gaps, are a single render of the whole wall; a follower killed and
//! restarted rejoins; a follower whose master dies keeps its picture and says so.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const LAVAPIPE: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";
/// The longest any step may take on a 2-core machine with five software renderers.
const STEP: Duration = Duration::from_secs(600);

const WALL: &str = r#"
columns = 2
rows = 2
fov_y_deg = 40.0

[screen]
width_px = 320
height_px = 180
width_mm = 400.0
height_mm = 225.0
bezel_mm = [10.0, 10.0, 10.0, 10.0]
"#;

/// Where a screen's picture lies in the whole wall's (pixels; 0.8 px/mm, 20 mm between screens).
fn screen_origin([c, r]: [u32; 2]) -> (u32, u32) {
    (c * 336, r * 196)
}

/// A viewer process and the lines it prints on stdout.
struct Node {
    name: String,
    child: Child,
    lines: Receiver<String>,
}

impl Node {
    fn start(name: &str, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_citytwin"))
            .args(args)
            .env("VK_ICD_FILENAMES", LAVAPIPE)
            .env("RUST_LOG", "warn")
            // Windowless: no X server is needed, none may be used.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::piped())
            .spawn()
            .expect("starts the viewer");
        let (tx, lines) = channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        let tag = name.to_owned();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                eprintln!("[{tag}] {line}");
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self { name: name.to_owned(), child, lines }
    }

    /// The first line (from now) that `wanted` accepts.
    fn wait_for(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(e) => panic!("{}: no {what} ({e})", self.name),
            }
        }
    }

    /// Waits for the process to end and says whether it succeeded.
    fn wait_exit(&mut self) -> bool {
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{}: did not exit", self.name);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn follower(data: &[&str], wall: &str, master: &str, [c, r]: [u32; 2], shot: &Path) -> Node {
    let screen = format!("{c},{r}");
    let args = [data, &["--wall", wall, "--screen", &screen, "--wall-master", master]].concat();
    Node::start(&format!("screen {screen}"), &[&args[..], &["--screenshot", shot.to_str().unwrap()]].concat())
}

fn crop(img: &image::RgbImage, (x, y): (u32, u32), (w, h): (u32, u32)) -> image::RgbImage {
    image::imageops::crop_imm(img, x, y, w, h).to_image()
}

#[test]
fn a_two_by_two_wall_is_one_picture_in_lockstep() {
    if !Path::new(LAVAPIPE).exists() {
        common::missing("Mesa lavapipe is missing (apt-get install mesa-vulkan-drivers)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = std::env::var_os("CITYTWIN_TEST_CACHE").map(PathBuf::from).unwrap_or_else(|| dir.path().join("cache"));
    let demo = citytwin::viewer::embedded::start_demo(&cache, None).unwrap();
    let url = demo.server.url();
    let wall_file = dir.path().join("wall.toml");
    std::fs::write(&wall_file, WALL).unwrap();
    let wall = wall_file.to_str().unwrap();
    let data = ["--server", &url, "--token", &demo.operator_token, "--no-hud", "--no-sensors", "--offscreen"];
    let address = free_address();

    // The master (small: its own picture is not the wall's) and the four screens.
    let master_args = ["--wall", wall, "--wall-listen", &address, "--wall-capture", "--size", "96x64"];
    let mut master = Node::start("master", &[&data[..], &master_args].concat());
    master.wait_for("listening", |l| l.starts_with("wall: the master listens"));
    let screens = [[0, 0], [1, 0], [0, 1], [1, 1]];
    let shot = |[c, r]: [u32; 2]| dir.path().join(format!("screen-{c}-{r}.png"));
    let mut nodes: Vec<Node> = screens.iter().map(|s| follower(&data, wall, &address, *s, &shot(*s))).collect();
    master.wait_for("four screens", |l| l == "wall: 4/4 screens");

    // A follower dies and restarts: it rejoins, and the wall goes on with it.
    let _ = nodes[3].child.kill();
    master.wait_for("the dead screen leaving", |l| l == "wall: 3/4 screens");
    nodes[3] = follower(&data, wall, &address, screens[3], &shot(screens[3]));
    master.wait_for("the screen rejoining", |l| l == "wall: 4/4 screens");

    // Once all have settled, all four save the same frame.
    let frames: Vec<u64> = nodes
        .iter()
        .map(|n| {
            let line = n.wait_for("screenshot", |l| l.starts_with("wall: screenshot of frame "));
            line.trim_start_matches("wall: screenshot of frame ").parse().unwrap()
        })
        .collect();
    assert!(frames.iter().all(|f| *f == frames[0]), "the screens saved different frames: {frames:?}");
    for n in &mut nodes {
        assert!(n.wait_exit(), "{} failed", n.name);
    }
    let summary = master.wait_for("the barrier figures", |l| l.contains("skew max"));
    assert!(summary.contains("skew max 0 frames"), "{summary}");

    // The same view as one picture of the whole wall, bezels included.
    let whole_png = dir.path().join("whole.png");
    let mut whole =
        Node::start("whole", &[&data[..], &["--wall", wall, "--screenshot", whole_png.to_str().unwrap()]].concat());
    assert!(whole.wait_exit(), "the whole wall's render failed");
    let whole = image::open(&whole_png).unwrap().to_rgb8();
    assert_eq!(whole.dimensions(), (656, 376));
    for s in screens {
        let part = image::open(shot(s)).unwrap().to_rgb8();
        let at = screen_origin(s);
        let cmp = common::compare(&part, &crop(&whole, at, (320, 180)));
        assert!(cmp.within_tolerance().is_ok(), "screen {s:?} is not its part of the wall: {cmp:?}");
        // Across the seams: the 32 pixels each side of the vertical one, 24 each side of the horizontal one.
        let (band_x, band_y) = (if s[0] == 0 { 288 } else { 0 }, if s[1] == 0 { 156 } else { 0 });
        for (from, size) in [((band_x, 0), (32, 180)), ((0, band_y), (320, 24))] {
            let seam = common::compare(&crop(&part, from, size), &crop(&whole, (at.0 + from.0, at.1 + from.1), size));
            assert!(seam.within_tolerance().is_ok(), "screen {s:?} at the seam {from:?}: {seam:?}");
        }
    }

    // The master dies: a follower keeps its last frame and shows why, and does not crash.
    let lost_png = dir.path().join("lost.png");
    let mut lost = follower(&data, wall, &address, [0, 0], &lost_png);
    lost.wait_for("the master's frames", |l| l.starts_with("wall: in step with the master"));
    let _ = master.child.kill();
    assert!(lost.wait_exit(), "the follower failed when its master died");
    let lost = image::open(&lost_png).unwrap().to_rgb8();
    let banner = crop(&lost, (0, 0), (320, 48)).pixels().filter(|p| p[0] > 140 && p[1] < 60 && p[2] < 60).count();
    assert!(banner > 500, "no status banner on the frozen screen ({banner} red pixels)");
    let kept = common::compare(&crop(&lost, (0, 60), (320, 120)), &crop(&whole, (0, 60), (320, 120)));
    assert!(kept.within_tolerance().is_ok(), "the frozen screen lost its picture: {kept:?}");
}
