//! Layers: what the scene shows, one entity each with a stable id, a name and the views that show
//! it; added and removed at runtime (despawning one frees its entities, GPU memory, fetches and
//! cache bytes). The layer panel changes them, and the streaming settings, live.

use bevy::camera::visibility::RenderLayers;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

use super::catalog::{CatalogStatus, LayerSource};
use super::hud::HudSettings;
use super::look::{LookSettings, look_ui};
use super::markers::legend_ui;
use super::tiles::{TileLayer, TilesSettings};
use super::views::{MAIN_VIEW_LAYER, SECOND_VIEW_LAYER, ViewLayout};
use crate::protocol::catalog::TilesetLayer;

/// A layer's identity: `id` is stable (the catalog's id, or the URL it was opened from).
#[derive(Component, Debug, Clone, Default, PartialEq)]
#[require(LayerViews)]
pub struct Layer {
    pub id: String,
    pub name: String,
}

/// The views that show a layer: the main view and the second one (while comparing).
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct LayerViews {
    pub main: bool,
    pub second: bool,
}

impl Default for LayerViews {
    fn default() -> Self {
        Self { main: true, second: true }
    }
}

impl LayerViews {
    pub fn any(self) -> bool {
        self.main || self.second
    }

    /// The render layers of the layer's entities: both views', or one view's alone.
    pub fn render_layers(self) -> RenderLayers {
        match (self.main, self.second) {
            (true, false) => RenderLayers::layer(MAIN_VIEW_LAYER),
            (false, true) => RenderLayers::layer(SECOND_VIEW_LAYER),
            _ => RenderLayers::layer(0),
        }
    }
}

/// A short name for a tileset URL: the folder that holds its tileset.json.
pub fn name_of(url: &str) -> String {
    url.trim_end_matches('/').rsplit('/').nth(1).unwrap_or(url).to_owned()
}

/// Spawns a layer streaming `source` (its URL absolute).
pub fn spawn_tileset(commands: &mut Commands, source: &TilesetLayer) -> Entity {
    let layer = Layer { id: source.id.clone(), name: source.name.clone() };
    commands.spawn((layer, TileLayer::new(source.url.clone()))).id()
}

/// The tileset layers to open at start.
#[derive(Resource, Debug, Clone, Default)]
pub struct StartLayers(pub Vec<TilesetLayer>);

pub fn open_start_layers(start: Res<StartLayers>, mut commands: Commands) {
    for source in &start.0 {
        spawn_tileset(&mut commands, source);
    }
}

/// Each layer's row in the panel: who it is, where it shows, what streams and what it stands for.
type LayerRows<'w, 's> = Query<
    'w,
    's,
    (Entity, &'static Layer, &'static mut LayerViews, Option<&'static TileLayer>, Option<&'static LayerSource>),
>;

/// The "Layers" panel: the streaming settings, each layer's views, removing a layer, adding one by URL.
pub fn layers_ui(
    mut contexts: EguiContexts,
    (hud, layout, catalog): (Res<HudSettings>, Res<ViewLayout>, Res<CatalogStatus>),
    mut look: ResMut<LookSettings>,
    mut settings: ResMut<TilesSettings>,
    mut layers: LayerRows,
    mut adding: Local<String>,
    mut commands: Commands,
) -> Result {
    let ctx = contexts.ctx_mut()?;
    if !hud.visible {
        return Ok(());
    }
    egui::Window::new("Layers").default_pos([10.0, 330.0]).default_open(false).show(ctx, |ui| {
        let mut chosen = *look;
        look_ui(ui, &mut chosen);
        look.set_if_neq(chosen);
        let mut changed = settings.clone();
        ui.add(egui::Slider::new(&mut changed.max_sse, 1.0..=64.0).logarithmic(true).text("max SSE px"));
        let mut cache_mb = changed.cache_bytes >> 20;
        ui.add(egui::Slider::new(&mut cache_mb, 16..=4096).logarithmic(true).text("cache MB"));
        changed.cache_bytes = cache_mb << 20;
        settings.set_if_neq(changed);
        ui.separator();
        match &*catalog {
            CatalogStatus::None => {}
            CatalogStatus::Loading => {
                ui.label("reading the catalog…");
            }
            CatalogStatus::Loaded(n) => {
                ui.label(format!("catalog: {n} layers"));
            }
            CatalogStatus::Failed(e) => {
                ui.colored_label(egui::Color32::from_rgb(230, 80, 60), e);
            }
        }
        let comparing = *layout != ViewLayout::Single;
        for (entity, layer, mut views, tiles, source) in &mut layers {
            ui.horizontal(|ui| {
                let mut v = *views;
                if comparing {
                    ui.checkbox(&mut v.main, "left");
                    ui.checkbox(&mut v.second, "right");
                } else {
                    let mut shown = v.main;
                    ui.checkbox(&mut shown, "");
                    v = LayerViews { main: shown, second: shown };
                }
                views.set_if_neq(v);
                let errors = tiles.map_or(0, |t| t.errors.len());
                let kind = source.map(|s| format!(" · {}", s.describe())).unwrap_or_default();
                let errors = if errors > 0 { format!(" ({errors} errors)") } else { String::new() };
                ui.label(format!("{}{kind}{errors}", layer.name)).on_hover_text(&layer.id);
                if ui.small_button("✕").on_hover_text("remove the layer").clicked() {
                    commands.entity(entity).despawn();
                }
            });
            if let Some(LayerSource::Sensors(s)) = source {
                egui::CollapsingHeader::new("legend").id_salt(&layer.id).show(ui, |ui| legend_ui(ui, s.kind));
            }
        }
        ui.horizontal(|ui| {
            ui.add(egui::TextEdit::singleline(&mut *adding).hint_text("tileset.json URL").desired_width(200.0));
            if ui.button("Add").clicked() && !adding.trim().is_empty() {
                let url = adding.trim().to_owned();
                let source = TilesetLayer { id: url.clone(), name: name_of(&url), url };
                spawn_tileset(&mut commands, &source);
                adding.clear();
            }
        });
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_in_one_view_goes_on_that_views_render_layer() {
        let both = LayerViews::default();
        assert_eq!(both.render_layers(), RenderLayers::layer(0));
        assert_eq!(LayerViews { main: false, second: true }.render_layers(), RenderLayers::layer(SECOND_VIEW_LAYER));
        assert_eq!(LayerViews { main: true, second: false }.render_layers(), RenderLayers::layer(MAIN_VIEW_LAYER));
        assert!(!LayerViews { main: false, second: false }.any());
        assert_eq!(name_of("http://h/tiles/city/tileset.json"), "city");
    }
}
