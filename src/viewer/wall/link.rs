//! The wall's link over TCP, on threads of its own (the frame loops only touch channels): the
//! master's barrier loop, which sends each frame's state, waits for every follower's "ready" and
//! then says "present"; and a follower's connection, which reconnects until a master answers.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bevy::log::{info, warn};

use crate::protocol::wall::{MAX_LINE_BYTES, WallMessage, WallState};

/// A follower that has not answered "ready" this long is dropped (it rejoins when it reconnects).
const STALL: Duration = Duration::from_secs(20);
/// Barriers in a row that every follower must report settled before the wall's screenshot.
const SETTLED_ROUNDS: u32 = 10;
/// How often a follower tries to reach a master it lost.
const RECONNECT: Duration = Duration::from_millis(500);
/// A connection that has not said which screen it drives within this is hung up on.
const JOIN_WITHIN: Duration = Duration::from_secs(10);
/// A write that cannot go out within this (a follower that stopped reading) ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections beyond the wall's screens that may wait to join at once (each has a thread).
const SPARE_CONNECTIONS: usize = 16;
/// States and presents a follower keeps before it stops reading (the master sends one of each a frame).
const QUEUE: usize = 8;
/// The barrier times kept: at least this many of the latest (at most twice as many).
const KEPT_TIMES: usize = 4096;

/// What the master's link has seen, for the console and the logs.
#[derive(Debug, Clone, Default)]
pub struct MasterStatus {
    /// The screens that have a follower.
    pub screens: Vec<[u32; 2]>,
    /// The last frame presented.
    pub frame: u64,
    pub barriers: u64,
    /// The largest difference between the frame a follower reported ready and the barrier's frame.
    pub skew_max_frames: u64,
    /// Per recent barrier: from the state sent to the last follower's "ready" (the slowest one's frame).
    pub round_us: Vec<u32>,
    /// Per recent barrier: from the last "ready" received to every "present" written (the barrier's own cost).
    pub release_us: Vec<u32>,
    /// The frame the followers saved their screenshots of.
    pub captured: Option<u64>,
}

/// Percentiles of a list of microseconds.
pub fn percentile_us(v: &[u32], q: f64) -> u32 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(((v.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(0)
}

/// The recent barriers' times, milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarrierTimes {
    pub release_p50_ms: f64,
    pub release_p99_ms: f64,
    pub round_p50_ms: f64,
    pub round_p99_ms: f64,
}

impl MasterStatus {
    pub fn times(&self) -> BarrierTimes {
        let ms = |v: &[u32], q| percentile_us(v, q) as f64 / 1000.0;
        BarrierTimes {
            release_p50_ms: ms(&self.release_us, 0.5),
            release_p99_ms: ms(&self.release_us, 0.99),
            round_p50_ms: ms(&self.round_us, 0.5),
            round_p99_ms: ms(&self.round_us, 0.99),
        }
    }

    pub fn summary(&self) -> String {
        let t = self.times();
        format!(
            "wall: {} barriers, last frame {}, skew max {} frames; barrier release median {:.3} ms, p99 {:.3} ms; \
             round (state to last ready) median {:.1} ms, p99 {:.1} ms",
            self.barriers,
            self.frame,
            self.skew_max_frames,
            t.release_p50_ms,
            t.release_p99_ms,
            t.round_p50_ms,
            t.round_p99_ms
        )
    }

    /// Keeps one barrier's times, forgetting the oldest beyond `KEPT_TIMES`.
    fn record(&mut self, round_us: u32, release_us: u32) {
        for (v, us) in [(&mut self.round_us, round_us), (&mut self.release_us, release_us)] {
            if v.len() >= 2 * KEPT_TIMES {
                v.drain(..KEPT_TIMES);
            }
            v.push(us);
        }
    }
}

/// The master's end: hand it each frame's state; it runs the barrier.
pub struct MasterLink {
    states: Mutex<Sender<WallState>>,
    pub status: Arc<Mutex<MasterStatus>>,
    /// Signalled after each barrier.
    presented: Arc<Condvar>,
    pub address: SocketAddr,
}

impl MasterLink {
    /// Listens on `address`; the wall has `screens` screens, and when `capture` is set the followers save a
    /// screenshot once all of them are in and settled.
    pub fn listen(address: &str, screens: usize, capture: bool) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address)?;
        let address = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let (states, received) = channel();
        let status = Arc::new(Mutex::new(MasterStatus::default()));
        let presented = Arc::new(Condvar::new());
        let barrier = Barrier {
            presented: presented.clone(),
            listener,
            states: received,
            screens,
            capture,
            status: status.clone(),
            peers: BTreeMap::new(),
            events: channel(),
            next_id: 0,
        };
        std::thread::Builder::new().name("wall-master".into()).spawn(move || barrier.run())?;
        Ok(Self { states: Mutex::new(states), status, presented, address })
    }

    pub fn send(&self, state: WallState) {
        if let Ok(s) = self.states.lock() {
            let _ = s.send(state);
        }
    }

    /// Waits (at most `timeout`) until the wall has presented a frame after `frame`, or has no
    /// screens: the console keeps the wall's pace instead of making states nobody shows.
    pub fn pace(&self, frame: u64, timeout: Duration) {
        let Ok(status) = self.status.lock() else { return };
        let _ = self.presented.wait_timeout_while(status, timeout, |s| s.frame < frame && !s.screens.is_empty());
    }
}

/// What a peer's reader thread reports.
enum PeerEvent {
    Message(WallMessage),
    Gone(String),
}

/// An event and the peer it came from.
type PeerNews = (u64, PeerEvent);

struct Peer {
    stream: TcpStream,
    screen: Option<[u32; 2]>,
    settled_rounds: u32,
    connected: Instant,
}

impl Peer {
    fn write(&mut self, message: &WallMessage) -> std::io::Result<()> {
        self.stream.write_all(message.to_line().as_bytes())
    }
}

struct Barrier {
    presented: Arc<Condvar>,
    listener: TcpListener,
    states: Receiver<WallState>,
    screens: usize,
    capture: bool,
    status: Arc<Mutex<MasterStatus>>,
    peers: BTreeMap<u64, Peer>,
    events: (Sender<PeerNews>, Receiver<PeerNews>),
    next_id: u64,
}

impl Barrier {
    fn run(mut self) {
        loop {
            self.accept();
            let state = match self.states.recv_timeout(Duration::from_millis(20)) {
                // The newest state: a wall slower than the console skips the frames in between.
                Ok(s) => self.states.try_iter().last().unwrap_or(s),
                Err(RecvTimeoutError::Timeout) => {
                    self.handle_events();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            self.handle_events();
            self.round(state);
        }
    }

    /// Takes every follower waiting to connect; each gets a reader thread.
    fn accept(&mut self) {
        while let Ok((stream, from)) = self.listener.accept() {
            if self.peers.len() >= self.screens + SPARE_CONNECTIONS {
                warn!("wall: {from} refused: {} connections already", self.peers.len());
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            let reader = stream
                .set_nonblocking(false)
                .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)))
                .and_then(|()| stream.try_clone());
            let _ = stream.set_nodelay(true);
            match reader {
                Ok(reader) => {
                    let events = self.events.0.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("wall-peer-{id}"))
                        .spawn(move || read_lines(reader, |e| events.send((id, e)).is_ok()));
                    if spawned.is_ok() {
                        info!("wall: {from} connected");
                        let peer = Peer { stream, screen: None, settled_rounds: 0, connected: Instant::now() };
                        self.peers.insert(id, peer);
                    }
                }
                Err(e) => warn!("wall: {from}: {e}"),
            }
        }
    }

    /// Joins and departures between barriers; connections that never joined are hung up on.
    fn handle_events(&mut self) {
        while let Ok((id, event)) = self.events.1.try_recv() {
            self.on_event(id, event, None);
        }
        let silent: Vec<u64> = self
            .peers
            .iter()
            .filter(|(_, p)| p.screen.is_none() && p.connected.elapsed() > JOIN_WITHIN)
            .map(|(id, _)| *id)
            .collect();
        for id in silent {
            warn!("wall: a connection never said which screen it drives: hung up");
            self.drop_peer(id, "no join");
        }
    }

    /// One event; during a barrier for `frame`, returns the peer's "ready" for it.
    fn on_event(&mut self, id: u64, event: PeerEvent, frame: Option<u64>) -> Option<(u64, u64)> {
        match event {
            PeerEvent::Message(WallMessage::Join { screen }) => {
                let taken = self.peers.iter().any(|(other, p)| *other != id && p.screen == Some(screen));
                if let Some(p) = self.peers.get_mut(&id) {
                    if taken {
                        warn!("wall: screen {screen:?} is already driven; refusing a second follower");
                        self.drop_peer(id, "its screen is driven");
                    } else {
                        info!("wall: screen {},{} joined", screen[0], screen[1]);
                        p.screen = Some(screen);
                        self.report_screens();
                    }
                }
                None
            }
            PeerEvent::Message(WallMessage::Ready { frame: ready, settled }) => {
                let p = self.peers.get_mut(&id)?;
                p.settled_rounds = if settled { p.settled_rounds + 1 } else { 0 };
                frame.map(|f| (id, f.abs_diff(ready)))
            }
            PeerEvent::Message(other) => {
                warn!("wall: a follower sent {other:?}, which only a master sends");
                self.drop_peer(id, "protocol error");
                None
            }
            PeerEvent::Gone(why) => {
                self.drop_peer(id, &why);
                None
            }
        }
    }

    fn drop_peer(&mut self, id: u64, why: &str) {
        if let Some(p) = self.peers.remove(&id) {
            let _ = p.stream.shutdown(std::net::Shutdown::Both);
            if let Some([c, r]) = p.screen {
                warn!("wall: screen {c},{r} left: {why}");
                self.report_screens();
            }
        }
    }

    /// Says on stdout how many of the wall's screens have a follower, whenever that changes.
    fn report_screens(&self) {
        let screens: Vec<[u32; 2]> = self.peers.values().filter_map(|p| p.screen).collect();
        println!("wall: {}/{} screens", screens.len(), self.screens);
        if let Ok(mut status) = self.status.lock() {
            status.screens = screens;
        }
        self.presented.notify_all();
    }

    /// One barrier: state N out, every "ready N" in, "present N" out.
    fn round(&mut self, mut state: WallState) {
        let frame = state.frame;
        let joined: Vec<u64> = self.peers.iter().filter(|(_, p)| p.screen.is_some()).map(|(id, _)| *id).collect();
        if joined.is_empty() {
            return;
        }
        let all_settled = joined.len() >= self.screens
            && joined.iter().all(|id| self.peers.get(id).is_some_and(|p| p.settled_rounds >= SETTLED_ROUNDS));
        if self.capture && all_settled {
            state.capture = true;
            self.capture = false;
        }
        let sent = Instant::now();
        let message = WallMessage::State(state.clone());
        let mut waiting: Vec<u64> = Vec::new();
        for id in joined {
            match self.peers.get_mut(&id).map(|p| p.write(&message)) {
                Some(Ok(())) => waiting.push(id),
                Some(Err(e)) => self.drop_peer(id, &e.to_string()),
                None => {}
            }
        }
        let in_round = waiting.clone();
        let mut skew = 0;
        let deadline = sent + STALL;
        while !waiting.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.1.recv_timeout(left) {
                Ok((id, event)) => {
                    if let Some((id, off)) = self.on_event(id, event, Some(frame)) {
                        // Only "ready N" releases barrier N; any other frame is skew, logged.
                        skew = skew.max(off);
                        if off == 0 {
                            waiting.retain(|w| *w != id);
                        }
                    }
                    waiting.retain(|w| self.peers.contains_key(w));
                }
                Err(_) => {
                    for id in std::mem::take(&mut waiting) {
                        self.drop_peer(id, "stalled (no ready within the limit)");
                    }
                }
            }
        }
        let last_ready = Instant::now();
        let present = WallMessage::Present { frame };
        for id in in_round {
            if let Some(Err(e)) = self.peers.get_mut(&id).map(|p| p.write(&present)) {
                self.drop_peer(id, &e.to_string());
            }
        }
        let released = Instant::now();
        let Ok(mut status) = self.status.lock() else { return };
        status.frame = frame;
        status.barriers += 1;
        status.skew_max_frames = status.skew_max_frames.max(skew);
        let us = |d: Duration| d.as_micros().min(u32::MAX as u128) as u32;
        status.record(us(last_ready - sent), us(released - last_ready));
        if state.capture {
            status.captured = Some(frame);
            println!("wall: the followers capture frame {frame}");
        }
        if status.barriers % 200 == 0 || state.capture {
            println!("{}", status.summary());
        }
        drop(status);
        self.presented.notify_all();
    }
}

/// Reads newline-ended wall messages from `stream` until it ends, a line is too long or one is not a
/// wall message; `deliver` returns false when nobody listens any more.
fn read_lines(stream: TcpStream, mut deliver: impl FnMut(PeerEvent) -> bool) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let why = loop {
        line.clear();
        match (&mut reader).take(MAX_LINE_BYTES as u64 + 1).read_line(&mut line) {
            Ok(0) => break "the connection closed".to_owned(),
            Ok(_) if !line.ends_with('\n') => break format!("a line over {MAX_LINE_BYTES} bytes"),
            Ok(_) => match WallMessage::from_line(line.trim_end()) {
                Ok(m) => {
                    if !deliver(PeerEvent::Message(m)) {
                        return;
                    }
                }
                Err(e) => break e.to_string(),
            },
            Err(e) => break e.to_string(),
        }
    };
    deliver(PeerEvent::Gone(why));
}

/// A follower's end: the states and "present"s its master sends, and its "ready"s.
pub struct FollowerLink {
    states: Mutex<Receiver<WallState>>,
    presents: Mutex<Receiver<u64>>,
    writer: Arc<Mutex<Option<TcpStream>>>,
    connected: Arc<AtomicBool>,
    pub master: String,
}

impl FollowerLink {
    /// Connects to the master at `master` (and again whenever the connection is lost) for `screen`.
    pub fn connect(master: &str, screen: [u32; 2]) -> std::io::Result<Self> {
        let (states, states_rx) = sync_channel(QUEUE);
        let (presents, presents_rx) = sync_channel(QUEUE);
        let writer = Arc::new(Mutex::new(None));
        let connected = Arc::new(AtomicBool::new(false));
        let (address, w, c) = (master.to_owned(), writer.clone(), connected.clone());
        std::thread::Builder::new().name("wall-follower".into()).spawn(move || {
            loop {
                if let Ok(stream) = TcpStream::connect(&address) {
                    follow(stream, screen, &states, &presents, &w, &c);
                }
                std::thread::sleep(RECONNECT);
            }
        })?;
        Ok(Self {
            states: Mutex::new(states_rx),
            presents: Mutex::new(presents_rx),
            writer,
            connected,
            master: master.to_owned(),
        })
    }

    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// The next state, waiting at most `timeout`.
    pub fn next_state(&self, timeout: Duration) -> Option<WallState> {
        let rx = self.states.lock().ok()?;
        rx.recv_timeout(timeout).ok()
    }

    /// Reports frame `frame` drawn and waits (at most `timeout`) for the master's "present" of it.
    /// False when none came: the master is gone or stalled.
    pub fn barrier(&self, frame: u64, settled: bool, timeout: Duration) -> bool {
        let sent = self.writer.lock().ok().and_then(|mut w| {
            let stream = w.as_mut()?;
            stream.write_all(WallMessage::Ready { frame, settled }.to_line().as_bytes()).ok()
        });
        if sent.is_none() {
            return false;
        }
        let Ok(rx) = self.presents.lock() else { return false };
        let deadline = Instant::now() + timeout;
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(p) if p == frame => return true,
                Ok(p) if p > frame => {
                    warn!("wall: the master presented {p} while this screen waited for {frame}");
                    return false;
                }
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    }
}

/// One connection to the master, until it ends.
fn follow(
    stream: TcpStream,
    screen: [u32; 2],
    states: &SyncSender<WallState>,
    presents: &SyncSender<u64>,
    writer: &Mutex<Option<TcpStream>>,
    connected: &AtomicBool,
) {
    let _ = stream.set_nodelay(true);
    let Ok(mut w) = stream.try_clone() else { return };
    if w.write_all(WallMessage::Join { screen }.to_line().as_bytes()).is_err() {
        return;
    }
    if let Ok(mut slot) = writer.lock() {
        *slot = Some(w);
    }
    connected.store(true, Ordering::Release);
    info!("wall: joined the master as screen {},{}", screen[0], screen[1]);
    read_lines(stream, |event| match event {
        PeerEvent::Message(WallMessage::State(s)) => states.send(s).is_ok(),
        PeerEvent::Message(WallMessage::Present { frame }) => presents.send(frame).is_ok(),
        PeerEvent::Message(other) => {
            warn!("wall: the master sent {other:?}, which only a follower sends");
            true
        }
        PeerEvent::Gone(why) => {
            warn!("wall: lost the master: {why}");
            true
        }
    });
    connected.store(false, Ordering::Release);
    if let Ok(mut slot) = writer.lock() {
        *slot = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::wall::WallCamera;

    fn state(frame: u64) -> WallState {
        WallState {
            frame,
            camera: WallCamera { position_ecef: [6_378_137.0, 0.0, 0.0], heading_rad: 0.0, pitch_rad: -0.5 },
            layers_shown: Vec::new(),
            night: false,
            drill: None,
            planning: None,
            capture: false,
        }
    }

    #[test]
    fn the_status_keeps_the_latest_barrier_times_only() {
        let mut s = MasterStatus::default();
        for k in 0..3 * KEPT_TIMES as u32 {
            s.record(k, 2 * k);
        }
        assert!((KEPT_TIMES..=2 * KEPT_TIMES).contains(&s.round_us.len()), "{}", s.round_us.len());
        assert_eq!(s.round_us.len(), s.release_us.len());
        let last = 3 * KEPT_TIMES as u32 - 1;
        assert_eq!((s.round_us.last(), s.release_us.last()), (Some(&last), Some(&(2 * last))));
        assert_eq!(s.times().round_p99_ms, percentile_us(&s.round_us, 0.99) as f64 / 1000.0);
    }

    /// A follower on a thread: takes states and passes barriers until `rounds` frames are presented.
    fn follow_rounds(link: FollowerLink, rounds: usize) -> std::thread::JoinHandle<Vec<u64>> {
        std::thread::spawn(move || {
            let mut presented = Vec::new();
            while presented.len() < rounds {
                if let Some(s) = link.next_state(Duration::from_secs(10))
                    && link.barrier(s.frame, true, Duration::from_secs(10))
                {
                    presented.push(s.frame);
                }
            }
            presented
        })
    }

    #[test]
    fn followers_present_the_same_frames_and_a_hostile_peer_is_dropped() {
        let master = MasterLink::listen("127.0.0.1:0", 2, false).unwrap();
        let address = master.address.to_string();
        let a = follow_rounds(FollowerLink::connect(&address, [0, 0]).unwrap(), 20);
        let b = follow_rounds(FollowerLink::connect(&address, [1, 0]).unwrap(), 20);
        // A peer that sends junk, and one that claims a driven screen, are dropped; the wall goes on.
        let mut junk = TcpStream::connect(&address).unwrap();
        junk.write_all(b"{\"type\":\"join\",\"screen\":\"x\"}\n").unwrap();
        let wait_for = |n: usize| {
            let deadline = Instant::now() + Duration::from_secs(20);
            while master.status.lock().unwrap().screens.len() < n {
                assert!(Instant::now() < deadline, "the followers did not join");
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        wait_for(2);
        let mut twin = TcpStream::connect(&address).unwrap();
        twin.write_all(WallMessage::Join { screen: [0, 0] }.to_line().as_bytes()).unwrap();
        let mut frame = 0;
        while !(a.is_finished() && b.is_finished()) {
            frame += 1;
            master.send(state(frame));
            master.pace(frame, Duration::from_secs(1));
        }
        let (a, b) = (a.join().unwrap(), b.join().unwrap());
        assert_eq!(a, b, "both screens presented the same frames");
        assert!(a.windows(2).all(|w| w[0] < w[1]), "in order: {a:?}");
        let status = master.status.lock().unwrap().clone();
        assert_eq!(status.skew_max_frames, 0);
        assert!(status.barriers >= 20);
        // (A follower that has finished hangs up: its screen may have gone already.)
        let twins = status.screens.iter().filter(|s| **s == [0, 0]).count();
        assert!(twins <= 1 && status.screens.len() <= 2, "the junk and the twin are not screens: {:?}", status.screens);
        // Both intruders were hung up on.
        for mut s in [junk, twin] {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut rest = Vec::new();
            assert!(s.read_to_end(&mut rest).is_ok(), "the master closed the connection");
            assert!(!String::from_utf8_lossy(&rest).contains("present"), "an intruder took part in a barrier");
        }
    }
}
