//! citytwin's data server (axum + tokio): tiles and models, the layer catalog, simulated sensors
//! (OGC SensorThings API, SQLite history, live WebSocket), CCTV cameras, roles with an audit
//! log, health and metrics. Runs as its own binary or in-process beside the viewer.

pub mod auth;
pub mod cameras;
pub mod catalog;
pub mod config;
pub mod error;
pub mod metrics;
pub mod sensors;
pub mod static_files;
pub mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use citytwin_protocol::catalog::Camera;
use citytwin_protocol::live::AlarmEvent;
use citytwin_protocol::roads::RoadGraph;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::cors::CorsLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

pub use config::Config;

use auth::{Caller, Role};
use error::ApiError;
use metrics::{Metrics, StatusLabels};
use sensors::live::{AlarmLog, now_ms};
use sensors::sim::{Grid, LiveState, Sensor};
use store::Store;

/// The simulated sensors, their index and their live readings.
pub struct Sim {
    pub sensors: Vec<Sensor>,
    /// How many sensors of each kind, in `SensorKind::ALL` order.
    pub kind_counts: [usize; 6],
    pub grid: Grid,
    pub live: LiveState,
}

pub struct Inner {
    pub config: Config,
    pub tokens: HashMap<String, (Role, String)>,
    pub sim: Sim,
    pub alarms: AlarmLog,
    pub store: Arc<Store>,
    pub cameras: Vec<Camera>,
    pub metrics: Metrics,
    /// The second of the last tick; live sessions wake on it.
    pub tick: watch::Sender<i64>,
    pub shutdown: watch::Receiver<bool>,
    pub started: Instant,
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state: reads roads, places sensors and cameras, opens the history.
    pub fn new(config: Config, shutdown: watch::Receiver<bool>) -> anyhow::Result<AppState> {
        config.validate()?;
        let roads: Option<RoadGraph> = match &config.sensors.roads {
            Some(p) => Some(
                serde_json::from_slice(&std::fs::read(p).with_context(|| format!("reading {}", p.display()))?)
                    .with_context(|| format!("parsing {}", p.display()))?,
            ),
            None => None,
        };
        let sensors = sensors::sim::place(&config.sensors, roads.as_ref());
        let grid = Grid::new(&sensors);
        let mut kind_counts = [0usize; 6];
        for s in &sensors {
            kind_counts
                [citytwin_protocol::sensors::SensorKind::ALL.iter().position(|k| *k == s.kind).expect("listed")] += 1;
        }
        let live = LiveState::new(&sensors, now_ms() / 1000);
        let cameras = cameras::place(
            config.cameras.count,
            config.sensors.seed,
            roads.as_ref(),
            config.sensors.center_deg,
            config.sensors.radius_m,
        );
        std::fs::create_dir_all(&config.data_dir).with_context(|| format!("creating {}", config.data_dir.display()))?;
        let store = Store::open(&config.data_dir.join("history.sqlite")).context("opening the history database")?;
        let alarms = AlarmLog::new(store.last_alarm_seq()?);
        let tokens = config.tokens.iter().map(|t| (t.token.clone(), (t.role, t.name.clone()))).collect();
        let metrics = Metrics::new();
        metrics.sensors.set(sensors.len() as i64);
        let (tick, _) = watch::channel(0);
        Ok(AppState(Arc::new(Inner {
            config,
            tokens,
            sim: Sim { sensors, kind_counts, grid, live },
            alarms,
            store: Arc::new(store),
            cameras,
            metrics,
            tick,
            shutdown,
            started: Instant::now(),
        })))
    }

    /// Records an access to a restricted resource.
    pub async fn audit(&self, caller: &Caller, action: &str, resource: &str, allowed: bool) {
        tracing::info!(target: "audit", who = %caller.who, role = ?caller.role, action, resource, allowed);
        let (store, who, role) = (self.store.clone(), caller.who.clone(), format!("{:?}", caller.role).to_lowercase());
        let (action, resource) = (action.to_owned(), resource.to_owned());
        let written =
            tokio::task::spawn_blocking(move || store.insert_audit(now_ms(), &who, &role, &action, &resource, allowed))
                .await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::error!("could not write the audit log: {written:?}");
        }
    }
}

/// All routes.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/api/layers", get(catalog::layers))
        .route("/api/cameras", get(cameras::list))
        .route("/api/cameras/{id}/snapshot.jpg", get(cameras::snapshot))
        .route("/api/cameras/{id}/feed.mjpg", get(cameras::feed))
        .route("/api/audit", get(audit_log))
        .route("/live", get(sensors::live::upgrade))
        .route("/v1.1", get(sensors::sta::handle))
        .route("/v1.1/{*rest}", get(sensors::sta::handle));
    for t in &state.config.tilesets {
        let dir = ServeDir::new(&t.dir).precompressed_gzip().precompressed_br();
        app = app.nest_service(
            &format!("/tiles/{}", t.id),
            Router::new().fallback_service(dir).layer(middleware::from_fn(static_files::tile_headers)),
        );
    }
    for m in &state.config.models {
        let name = m.file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let served = match m.file.parent().filter(|_| m.is_tileset()) {
            Some(dir) => Router::new().fallback_service(ServeDir::new(dir).precompressed_gzip().precompressed_br()),
            None => Router::new().route_service(&format!("/{name}"), ServeFile::new(&m.file)),
        };
        app = app
            .nest_service(&format!("/models/{}", m.id), served.layer(middleware::from_fn(static_files::tile_headers)));
    }
    if let Some(root) = &state.config.web_root {
        let page = ServeFile::new(root.join("index.html"));
        let web = Router::new()
            .route_service("/", page.clone())
            .route_service("/index.html", page)
            .nest_service("/pkg", ServeDir::new(config::web_pkg_dir(root)).precompressed_gzip().precompressed_br())
            .layer(middleware::from_fn(static_files::tile_headers));
        app = app.merge(web);
    }
    app = app.fallback(|| async { ApiError::not_found("no such resource") });
    // Partial content is never re-encoded: ranges refer to the file as stored.
    let compress = CompressionLayer::new().compress_when(DefaultPredicate::new().and(
        |status: axum::http::StatusCode,
         _: axum::http::Version,
         _: &axum::http::HeaderMap,
         _: &axum::http::Extensions| status != axum::http::StatusCode::PARTIAL_CONTENT,
    ));
    app.layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(compress)
        .layer(CorsLayer::permissive())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let class = format!("{}xx", response.status().as_u16() / 100);
    state.metrics.http_requests.get_or_create(&StatusLabels { class }).inc();
    response
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "status": "ok",
        "uptime_s": state.started.elapsed().as_secs(),
        "sensors": state.sim.sensors.len(),
        "cameras": state.cameras.len(),
        "live_clients": state.metrics.ws_clients.get(),
        "last_alarm_seq": state.alarms.last_seq(),
    }))
}

async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.encode(),
    )
}

/// `GET /api/audit` (operators): the newest audit entries.
async fn audit_log(State(state): State<AppState>, caller: Caller) -> Result<axum::Json<serde_json::Value>, ApiError> {
    auth::require(&state, &caller, Role::Operator, "read", "audit log").await?;
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.audit_log(200))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(axum::Json(serde_json::json!({"entries": entries})))
}

/// Advances the simulation each second: new readings, alarm events (numbered, persisted), wake-up.
async fn ticker(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    loop {
        let now = now_ms();
        let wait = Duration::from_millis((1000 - now.rem_euclid(1000)) as u64 + 2);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        let now_s = now_ms() / 1000;
        let changes = state.sim.live.tick(&state.sim.sensors, now_s);
        if !changes.is_empty() {
            let events: Vec<AlarmEvent> = changes
                .into_iter()
                .map(|(sensor, previous, level, value)| AlarmEvent {
                    seq: 0,
                    sensor,
                    kind: state.sim.sensors[sensor as usize].kind,
                    level,
                    previous,
                    value,
                    time_ms: now_s * 1000,
                })
                .collect();
            let events = state.alarms.append(events);
            state.metrics.alarms.inc_by(events.len() as u64);
            let store = state.store.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.insert_alarms(&events)).await {
                tracing::error!("could not store alarms: {e}");
            }
        }
        state.tick.send_replace(now_s);
    }
}

/// Writes every sensor's current reading to the history at the configured interval.
async fn recorder(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    let every = Duration::from_secs(state.config.sensors.history_interval_s as u64);
    loop {
        let rows: Vec<(u32, bool, i64, f32)> = {
            let r = state.sim.live.read();
            state
                .sim
                .sensors
                .iter()
                .enumerate()
                .map(|(i, s)| (i as u32, s.kind.restricted(), r.changed_s[i] * 1000, r.value[i]))
                .collect()
        };
        let n = rows.len() as u64;
        let store = state.store.clone();
        match tokio::task::spawn_blocking(move || store.insert_observations(&rows)).await {
            Ok(Ok(())) => {
                state.metrics.observations.inc_by(n);
            }
            other => tracing::error!("could not record history: {other:?}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Deletes history older than the retention, at start and every ten minutes.
async fn retention(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    loop {
        let cutoff = now_ms() - (state.config.sensors.retention_days * 86_400_000.0) as i64;
        let store = state.store.clone();
        match tokio::task::spawn_blocking(move || store.apply_retention(cutoff)).await {
            Ok(Ok(n)) if n > 0 => tracing::info!("retention: deleted {n} rows"),
            Ok(Ok(_)) => {}
            other => tracing::error!("retention failed: {other:?}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Serves until `shutdown` resolves, then stops the background tasks and closes live sessions.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = tokio::task::spawn_blocking(move || AppState::new(config, stop_rx)).await??;
    let tasks = [
        tokio::spawn(ticker(state.clone())),
        tokio::spawn(recorder(state.clone())),
        tokio::spawn(retention(state.clone())),
    ];
    tracing::info!(
        "serving on http://{} ({} sensors, {} cameras)",
        listener.local_addr()?,
        state.sim.sensors.len(),
        state.cameras.len()
    );
    let app = router(state);
    let result = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await
        .context("serving");
    for t in tasks {
        let _ = t.await;
    }
    result
}

/// A server on its own runtime thread; dropping it shuts it down gracefully.
pub struct ServerHandle {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
}

impl ServerHandle {
    /// Binds `config.listen` (port 0 picks a free one) and serves in the background. Callable
    /// from inside another async runtime: the server gets its own.
    pub fn start(config: Config) -> anyhow::Result<Self> {
        // A bad configuration is the caller's error now, not a server that never answers.
        config.validate()?;
        let std_listener =
            std::net::TcpListener::bind(config.listen).with_context(|| format!("binding {}", config.listen))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("citytwin-server".into()).spawn(move || {
            runtime.block_on(async move {
                let listener = TcpListener::from_std(std_listener)?;
                serve(listener, config, async {
                    let _ = rx.await;
                })
                .await
            })
        })?;
        Ok(Self { addr, shutdown: Some(tx), thread: Some(thread) })
    }

    /// The base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it, returning how serving ended.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown_and_join()
    }

    fn shutdown_and_join(&mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => anyhow::bail!("server thread panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown_and_join() {
            tracing::error!("server stopped with an error: {e:#}");
        }
    }
}
