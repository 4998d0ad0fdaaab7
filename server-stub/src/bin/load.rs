//! `citytwin-load`: opens many live WebSocket clients with random viewports against a server
//! (started here as a child process unless `--server` is given) for a bounded time, and prints
//! update latency percentiles, message rates, the bytes each client receives a second and the
//! server's peak memory. `--encoding binary` subscribes for binary `values` frames; `--city-wide`
//! gives every client the whole city instead of a random viewport.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use citytwin_protocol::live::{Encoding, ServerMessage};
use citytwin_protocol::live_binary::values_from_binary;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Parser)]
#[command(name = "citytwin-load", about = "Load test of the live sensor stream")]
struct Args {
    /// Concurrent WebSocket clients (at most 5000).
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Simulated sensors on the server started here.
    #[arg(long, default_value_t = 300_000)]
    sensors: usize,
    /// How long to measure (after the warm-up), in seconds (at most 600).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Use a running server (`host:port`) instead of starting one.
    #[arg(long)]
    server: Option<String>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// How `values` come: `json` or `binary`.
    #[arg(long, default_value = "json", value_parser = parse_encoding)]
    encoding: Encoding,
    /// Every client subscribes to the whole city (not a random viewport).
    #[arg(long)]
    city_wide: bool,
    /// Seconds after connecting not counted in the rates (the sites and the snapshot come then).
    #[arg(long, default_value_t = 10)]
    warmup: u64,
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| format!("{s}: json or binary"))
}

#[derive(Default)]
struct ClientStats {
    latencies_ms: Vec<u32>,
    messages: u64,
    readings: u64,
    bytes: u64,
    connected: bool,
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

struct ServerProcess {
    child: Child,
    _data: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(sensors: usize) -> anyhow::Result<(ServerProcess, String)> {
    let exe: PathBuf = std::env::current_exe()?.with_file_name("citytwin-server");
    anyhow::ensure!(
        exe.is_file(),
        "{} not found: build it with `cargo build --release -p citytwin-server`",
        exe.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let data = tempfile::tempdir()?;
    let child = Command::new(&exe)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--sensors", &sensors.to_string(), "--cameras", "0"])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    Ok((ServerProcess { child, _data: data }, format!("127.0.0.1:{port}")))
}

async fn wait_healthy(addr: &str) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    loop {
        if let Ok(mut s) = tokio::net::TcpStream::connect(addr).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            s.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
                .await?;
            let mut body = String::new();
            s.read_to_string(&mut body).await?;
            if let Some(json) = body.split("\r\n\r\n").nth(1) {
                return Ok(serde_json::from_str(json)?);
            }
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(120), "the server did not come up in 120 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn client(addr: String, bbox: [f64; 4], encoding: Encoding, from: Instant, until: Instant) -> ClientStats {
    let mut stats = ClientStats::default();
    let Ok(Ok((mut ws, _))) =
        tokio::time::timeout(Duration::from_secs(30), tokio_tungstenite::connect_async(format!("ws://{addr}/live")))
            .await
    else {
        return stats;
    };
    stats.connected = true;
    let sub = serde_json::json!({"type": "subscribe", "bbox": bbox, "encoding": encoding}).to_string();
    if ws.send(Message::Text(sub.into())).await.is_err() {
        return stats;
    }
    let mut first_values = true;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(until.saturating_duration_since(Instant::now()), ws.next()).await
    {
        let counted = Instant::now() >= from;
        let values = match msg {
            Message::Text(text) => {
                stats.bytes += counted as u64 * text.len() as u64;
                match serde_json::from_str::<ServerMessage>(&text) {
                    Ok(ServerMessage::Values { time_ms, readings }) => Some((time_ms, readings)),
                    _ => None,
                }
            }
            Message::Binary(bytes) => {
                stats.bytes += counted as u64 * bytes.len() as u64;
                values_from_binary(&bytes).ok()
            }
            _ => continue,
        };
        if !counted {
            first_values = false;
            continue;
        }
        stats.messages += 1;
        if let Some((time_ms, readings)) = values {
            stats.readings += readings.len() as u64;
            // The snapshot is old state by design; deltas measure change → client.
            if !std::mem::replace(&mut first_values, false) {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                stats.latencies_ms.push((now - time_ms).max(0) as u32);
            }
        }
    }
    let _ = ws.close(None).await;
    stats
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.clients <= 5000, "--clients is at most 5000");
    anyhow::ensure!((1..=600).contains(&args.seconds), "--seconds is 1 to 600");
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let (server, addr) = match &args.server {
        Some(a) => (None, a.clone()),
        None => {
            let (p, a) = start_server(args.sensors)?;
            (Some(p), a)
        }
    };
    let pid = server.as_ref().map(|s| s.child.id());
    let startup = Instant::now();
    let health = wait_healthy(&addr).await?;
    println!("server {addr}: {} sensors, up after {:.1} s", health["sensors"], startup.elapsed().as_secs_f64());

    // Random viewports over the sensors' area (the default centre, ±3 km).
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let (lon0, lat0): (f64, f64) = (114.0579, 22.5431);
    let (dlon, dlat) = (3000.0 / (111_320.0 * lat0.to_radians().cos()), 3000.0 / 111_320.0);
    let from = Instant::now() + Duration::from_secs(args.warmup);
    let until = from + Duration::from_secs(args.seconds);
    let mut handles = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let (cx, cy) = (lon0 + dlon * (2.0 * rng.f64() - 1.0), lat0 + dlat * (2.0 * rng.f64() - 1.0));
        let half = 0.1 + 0.9 * rng.f64();
        let bbox = if args.city_wide {
            [lon0 - 2.0 * dlon, lat0 - 2.0 * dlat, lon0 + 2.0 * dlon, lat0 + 2.0 * dlat]
        } else {
            [cx - dlon * half * 0.3, cy - dlat * half * 0.3, cx + dlon * half * 0.3, cy + dlat * half * 0.3]
        };
        handles.push(tokio::spawn(client(addr.clone(), bbox, args.encoding, from, until)));
    }
    let mut peak_rss = 0;
    while Instant::now() < until {
        if let Some(kb) = pid.and_then(rss_kb) {
            peak_rss = peak_rss.max(kb);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut all = Vec::new();
    let (mut messages, mut readings, mut bytes, mut connected) = (0, 0, 0, 0);
    for h in handles {
        let s = h.await?;
        messages += s.messages;
        readings += s.readings;
        bytes += s.bytes;
        connected += s.connected as usize;
        all.extend(s.latencies_ms);
    }
    all.sort_unstable();
    let secs = args.seconds as f64;
    println!("clients connected     {connected} of {}", args.clients);
    println!(
        "update latency        p50 {} ms, p99 {} ms, max {} ms ({} deltas)",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.last().copied().unwrap_or(0),
        all.len()
    );
    println!(
        "messages              {:.0}/s ({:.0} readings/s, {:.1} MB/s; {:.1} kB/s per client, {:?})",
        messages as f64 / secs,
        readings as f64 / secs,
        bytes as f64 / secs / 1e6,
        bytes as f64 / secs / 1e3 / connected.max(1) as f64,
        args.encoding,
    );
    if pid.is_some() {
        println!("server peak RSS       {:.0} MB", peak_rss as f64 / 1024.0);
    }
    drop(server);
    anyhow::ensure!(connected == args.clients, "{} clients could not connect", args.clients - connected);
    Ok(())
}
