//! A chosen camera's live feed: its MJPEG stream from the data server (the viewer's token
//! presented; operators only), cut into frames (`markers::mjpeg`) and decoded off the frame, the
//! newest frame kept in one image that the feed panel shows and the scene projection samples.

use std::sync::{Arc, Mutex};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy_egui::{EguiContexts, EguiTextureHandle, egui};
use futures_util::StreamExt;
use futures_util::future::{AbortHandle, abortable};

use crate::markers::mjpeg::{MjpegFrames, decode_jpeg};
use crate::platform::Runtime;
use crate::protocol::catalog::Camera;
use crate::viewer::DataServer;
use crate::viewer::hud::HudSettings;

/// A decoded frame: width, height, RGBA8.
type Frame = (u32, u32, Vec<u8>);

/// What the stream task hands to the frame: the newest frame, or why the feed stopped.
#[derive(Default)]
struct Inbox {
    frame: Option<Frame>,
    error: Option<String>,
}

/// The chosen camera and its feed.
#[derive(Resource, Default)]
pub struct ChosenCamera {
    pub camera: Option<Camera>,
    /// The newest frame, once one has come.
    pub image: Option<Handle<Image>>,
    pub frames: u64,
    pub error: Option<String>,
    /// Whether its feed is projected onto the scene.
    pub project: bool,
    inbox: Arc<Mutex<Inbox>>,
    stream: Option<Stream>,
}

/// The running stream task; dropped, it stops.
struct Stream(AbortHandle);

impl Drop for Stream {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ChosenCamera {
    /// Chooses `camera` (or none), stopping the feed of the one before and starting its own.
    pub fn choose(&mut self, camera: Option<Camera>, server: Option<&DataServer>, runtime: &Runtime) {
        *self = Self { project: true, ..default() };
        let (Some(c), Some(server)) = (&camera, server) else {
            self.camera = camera;
            return;
        };
        let (task, handle) = abortable(stream_feed(server.at(&c.feed), self.inbox.clone()));
        runtime.spawn(async move {
            let _ = task.await;
        });
        self.stream = Some(Stream(handle));
        self.camera = camera;
    }
}

/// Reads the feed at `url` until it ends or is aborted; each frame decoded replaces the last.
async fn stream_feed(url: String, inbox: Arc<Mutex<Inbox>>) {
    let error = match read_frames(&url, &inbox).await {
        Ok(()) => format!("{url}: the feed ended"),
        Err(e) => e,
    };
    if let Ok(mut i) = inbox.lock() {
        i.error = Some(error);
    }
}

/// Puts every frame of the feed at `url` into `inbox`; bad frames are skipped (with a warning).
async fn read_frames(url: &str, inbox: &Mutex<Inbox>) -> Result<(), String> {
    let response = reqwest::get(url).await.map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let mut frames = MjpegFrames::new(content_type.unwrap_or("")).map_err(|e| format!("{url}: {e}"))?;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        frames.push(&chunk.map_err(|e| format!("{url}: {e}"))?);
        while let Some(frame) = frames.next_frame() {
            match frame.and_then(|jpeg| decode_jpeg(&jpeg)) {
                Ok(f) => {
                    if let Ok(mut i) = inbox.lock() {
                        i.frame = Some(f);
                    }
                }
                Err(e) => warn!("{url}: {e}"),
            }
        }
        if frames.ended {
            break;
        }
    }
    Ok(())
}

/// Puts the newest frame into the feed's image (made at the first frame, or anew when the size changes).
pub fn show_frames(mut chosen: ResMut<ChosenCamera>, mut images: ResMut<Assets<Image>>) {
    let (frame, error) = match chosen.inbox.lock() {
        Ok(mut i) => (i.frame.take(), i.error.take()),
        Err(_) => return,
    };
    if let Some(e) = error {
        error!("camera feed: {e}");
        chosen.error = Some(e);
    }
    let Some((width, height, rgba)) = frame else { return };
    chosen.frames += 1;
    let same_size =
        chosen.image.as_ref().and_then(|h| images.get(h)).is_some_and(|i| i.size() == UVec2::new(width, height));
    if same_size && let Some(mut image) = chosen.image.as_ref().and_then(|h| images.get_mut(h)) {
        image.data = Some(rgba);
        return;
    }
    let image = Image::new(
        Extent3d { width, height, depth_or_array_layers: 1 },
        TextureDimension::D2,
        rgba,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::MAIN_WORLD | RenderAssetUsages::RENDER_WORLD,
    );
    chosen.image = Some(images.add(image));
}

/// The feed panel: the chosen camera's live picture, what it is, and the projection switch.
pub fn feed_panel_ui(
    mut contexts: EguiContexts,
    mut chosen: ResMut<ChosenCamera>,
    hud: Res<HudSettings>,
    (server, runtime): (Option<Res<DataServer>>, Res<Runtime>),
) -> Result {
    let texture = chosen.image.as_ref().map(|h| contexts.add_image(EguiTextureHandle::Weak(h.id())));
    let ctx = contexts.ctx_mut()?;
    let Some(camera) = chosen.camera.clone().filter(|_| hud.visible) else { return Ok(()) };
    let mut open = true;
    // Bottom right, clear of the view's centre where the feed is projected.
    let corner = ctx.content_rect().right_bottom() - egui::vec2(8.0, 8.0);
    let window = egui::Window::new(camera.name.clone()).open(&mut open).pivot(egui::Align2::RIGHT_BOTTOM);
    window.default_pos(corner).show(ctx, |ui| {
        ui.label(format!(
            "heading {:.0}°, pitch {:.0}°, {:.0}° wide, {:.0} m range",
            camera.heading_deg, camera.pitch_deg, camera.fov_deg, camera.range_m
        ));
        match texture {
            Some(id) => {
                ui.image(egui::load::SizedTexture::new(id, [320.0, 180.0]));
            }
            None if chosen.error.is_none() => {
                ui.label("connecting to the feed…");
            }
            None => {}
        }
        if let Some(e) = &chosen.error {
            ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
        }
        ui.horizontal(|ui| {
            ui.checkbox(&mut chosen.project, "project onto the scene");
            ui.label(format!("{} frames", chosen.frames));
        });
    });
    if !open {
        chosen.choose(None, server.as_deref(), &runtime);
    }
    Ok(())
}
